/**
 * The words a mention is indexed and trended by: folded and split exactly as topic queries are
 * (pipeline/topics/text.ts), Korean particles taken off, stop words of both languages dropped.
 * The text search cuts its query with the same function, so a query word and the index agree.
 */
import { boundedMemo } from '../memo.js';
import { fold, KOREAN_PARTICLES, stems, tokenize } from '../topics/text.js';

const STOP_EN = new Set(
  `a about above after again against all also am an and any are aren as at be because been before being
  below between both but by can cannot could did didn do does doesn doing don down during each few for from
  further get got had has hasn have haven having he her here hers herself him himself his how i if in into is
  isn it its itself just let me more most much my myself no nor not now of off on once only or other our ours
  ourselves out over own same she should so some such than that the their theirs them themselves then there
  these they this those through to too under until up very via was wasn we were weren what when where which
  while who whom why will with won would you your yours yourself yourselves ll re ve im ive id youre dont
  cant wont isnt thats its amp rt via http https www com net org co kr html php`.split(/\s+/),
);

const STOP_KO = new Set(
  `그리고 그러나 하지만 그런데 그래서 그러면 또한 또는 및 등 등등 것 수 때 중 더 또 좀 잘 안 못 왜 뭐 이 그 저 이것 그것 저것
  이거 그거 저거 여기 거기 저기 우리 저희 너희 제가 내가 나는 저는 너무 정말 진짜 그냥 아주 매우 많이 이제 지금 오늘 어제 내일 이번
  지난 올해 통해 위해 대한 대해 관련 따라 따르면 때문 때문에 같은 같이 같다 있다 있는 있고 있어 있어요 있습니다 없다 없는 없어
  했다 한다 하는 하고 하며 하면 해서 했고 했는데 합니다 했습니다 됩니다 된다 되는 됐다 되어 것이다 것으로 이라고 라고 밝혔다
  말했다 전했다 기자 뉴스 무단 전재 재배포 금지`.split(/\s+/),
);

// Endings in KOREAN_PARTICLES that also end many plain nouns (카메라, 보다, 나라, 인): taking them
// off would turn words into stems no one wrote, so the index keeps those words whole.
const AMBIGUOUS_ENDINGS = new Set([
  '라',
  '다',
  '인',
  '면',
  '며',
  '냐',
  '란',
  '나',
  '야',
  '든',
  '측',
  '뿐',
  '임',
  '죠',
  '만',
  '께',
  '로',
]);

const isDigits = /^\p{N}+$/u;

/** The index form of one token, or null when it is not worth indexing. */
function termOf(token: string): string | null {
  const first = token.charCodeAt(0);
  if (first >= 0xac00 && first <= 0xd7a3) {
    let term = token;
    // stems() lists shorter stems last; keep the shortest that leaves a two-syllable word.
    for (const stem of stems(token)) {
      const ending = token.slice(stem.length);
      if (stem.length >= 2 && KOREAN_PARTICLES.has(ending) && !AMBIGUOUS_ENDINGS.has(ending)) term = stem;
    }
    return term.length < 2 || STOP_KO.has(term) ? null : term;
  }
  // Jamo runs (ㅋㅋ, ㅠㅠ) carry sentiment, not topics; single ideographs say nothing alone.
  if (first >= 0x3130 && first <= 0x318f) return null;
  if (token.length < 2 || isDigits.test(token) || STOP_EN.has(token)) return null;
  return token;
}

// Words repeat across mentions (Zipf), and stemming a Hangul word slices it several times: the
// index form of recent tokens is remembered.
const memoTermOf = boundedMemo(termOf, 50_000);

/** Distinct index terms of folded, split text (tokenize(fold(text))). */
export function termsOf(tokens: readonly string[]): string[] {
  const out = new Set<string>();
  for (const token of tokens) {
    const term = memoTermOf(token);
    if (term !== null) out.add(term);
  }
  return [...out];
}

/** Distinct index terms of a text, e.g. a search query. */
export function textTerms(text: string): string[] {
  return termsOf(tokenize(fold(text)));
}
