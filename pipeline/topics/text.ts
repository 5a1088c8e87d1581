/**
 * Text folding and word splitting shared by the query parser and the matcher, so a query term and
 * the text it is looked for in are always cut the same way.
 */

/**
 * Korean particles (josa) and copula endings that may follow a noun with no space between them.
 *
 * Korean writes 삼성전자가 ("Samsung Electronics" + subject marker) as one word, so a term must
 * match a word that is the term plus one of these endings. No npm package strips particles
 * (es-hangul and josa only attach them; kiwi-nlp needs model files we cannot download), so the
 * list is ours. It is a closed list on purpose: matching any Hangul continuation would make
 * 카카오 match 카카오톡 and 삼성전자 match 삼성전자렌탈, which are different companies and products.
 *
 * - case and auxiliary particles, both allomorphs (after a vowel / after a consonant);
 * - adverbial particles, which may take one auxiliary after them (에서는, 로부터의, 와의, 까지도);
 * - copula forms of 이다 as they appear in press and posts (입니다, 이었다, 였다, 이라는, 인);
 * - 측 ("the ... side", 삼성전자측은), which press attaches like a particle.
 */
const CASE = ['가', '이', '은', '는', '을', '를', '의', '도', '만', '나', '이나', '야', '이야', '든', '이든'];
const ADVERBIAL = [
  '에',
  '에서',
  '에게',
  '에게서',
  '한테',
  '한테서',
  '께',
  '께서',
  '로',
  '으로',
  '로서',
  '으로서',
  '로써',
  '으로써',
  '로부터',
  '으로부터',
  '에서부터',
  '와',
  '과',
  '랑',
  '이랑',
  '하고',
  '까지',
  '부터',
  '보다',
  '처럼',
  '마저',
  '조차',
  '라도',
  '이라도',
  '밖에',
  '뿐',
  '마다',
  '대로',
  '만',
  '측',
];
// What may follow an adverbial particle: 에서+는, 와+의, 까지+도, 뿐+이, 측+은.
const AFTER_ADVERBIAL = [
  '는',
  '은',
  '도',
  '의',
  '만',
  '이',
  '가',
  '을',
  '를',
  '이나',
  '나',
  '이라도',
  '라도',
];
const COPULA = [
  '이다',
  '다',
  '입니다',
  '입니까',
  '이었다',
  '였다',
  '이었고',
  '였고',
  '이었던',
  '였던',
  '이었지만',
  '였지만',
  '이었으며',
  '였으며',
  '이며',
  '며',
  '이고',
  '이라',
  '라',
  '이라는',
  '라는',
  '이라고',
  '라고',
  '이란',
  '란',
  '인',
  '인데',
  '인데도',
  '이지만',
  '지만',
  '이죠',
  '죠',
  '이에요',
  '예요',
  '이예요',
  '이냐',
  '냐',
  '이면',
  '면',
  '이라면',
  '라면',
  '임',
];

function buildParticles(): Set<string> {
  const set = new Set<string>([...CASE, ...ADVERBIAL, ...COPULA]);
  for (const a of ADVERBIAL) for (const b of AFTER_ADVERBIAL) set.add(a + b);
  return set;
}

/** Every ending a Hangul word may carry after a term and still count as that term. */
export const KOREAN_PARTICLES: ReadonlySet<string> = buildParticles();
const MAX_PARTICLE = Math.max(...[...KOREAN_PARTICLES].map((p) => p.length));
// Most Hangul words do not end in a character any particle ends in; checking it first spares them
// the slicing in `stems`, which runs on every Hangul word of every mention.
const PARTICLE_ENDS = new Set([...KOREAN_PARTICLES].map((p) => p.charCodeAt(p.length - 1)));

/** Case and width folding: ＡＣＭＥ, Acme and acme are one word; NFKC also composes NFD Hangul. */
export function fold(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

const Kind = {
  Separator: 0,
  Word: 1,
  Hangul: 2,
  // Han, hiragana and katakana: written without spaces and no dictionary here, so every character
  // is a token and a multi-character term becomes a phrase of characters (a substring match).
  Ideograph: 3,
  Mark: 4,
} as const;
type Kind = (typeof Kind)[keyof typeof Kind];

const wordRe = /[\p{L}\p{N}]/u;
const markRe = /\p{M}/u;
const ideographRe = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;

function kindOf(ch: string, code: number): Kind {
  if (code < 0x80) {
    return (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a)
      ? Kind.Word
      : Kind.Separator;
  }
  if (
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0x1100 && code <= 0x11ff) ||
    (code >= 0x3130 && code <= 0x318f) ||
    (code >= 0xa960 && code <= 0xa97f) ||
    (code >= 0xd7b0 && code <= 0xd7ff)
  ) {
    return Kind.Hangul;
  }
  if (ideographRe.test(ch)) return Kind.Ideograph;
  if (wordRe.test(ch)) return Kind.Word;
  if (markRe.test(ch)) return Kind.Mark;
  return Kind.Separator;
}

/**
 * Splits folded text into tokens: runs of letters and digits, cut where Hangul meets other
 * letters. Korean fuses Latin brand prefixes with Hangul (LG전자, SK하이닉스, 갤럭시S24) and attaches
 * particles straight to Latin words (Acme가, KT의); cutting at the script change lets LG전자 be the
 * phrase "lg 전자", and a particle glued to a Latin word is dropped so it never counts as a word.
 */
export function tokenize(folded: string): string[] {
  const tokens: string[] = [];
  let start = -1;
  let kind: Kind = Kind.Separator;
  // Whether the current Hangul run started right after a non-Hangul run, with no space.
  let glued = false;
  const flush = (end: number) => {
    if (start < 0) return;
    const token = folded.slice(start, end);
    if (!(glued && kind === Kind.Hangul && KOREAN_PARTICLES.has(token))) tokens.push(token);
    start = -1;
  };
  for (let i = 0; i < folded.length; ) {
    const code = folded.charCodeAt(i);
    const width = code >= 0xd800 && code <= 0xdbff && i + 1 < folded.length ? 2 : 1;
    const ch = width === 1 ? (folded[i] ?? '') : folded.slice(i, i + 2);
    let k = kindOf(ch, width === 1 ? code : (ch.codePointAt(0) ?? 0));
    // A combining mark belongs to whatever it follows (NFKC leaves some uncomposed).
    if (k === Kind.Mark) k = start >= 0 ? kind : Kind.Separator;
    if (k === Kind.Separator) {
      flush(i);
      glued = false;
    } else if (k === Kind.Ideograph) {
      flush(i);
      tokens.push(ch);
      glued = false;
    } else if (start < 0) {
      start = i;
      kind = k;
      glued = false;
    } else if (k !== kind) {
      flush(i);
      glued = true;
      start = i;
      kind = k;
    }
    i += width;
  }
  flush(folded.length);
  return tokens;
}

function isHangulSyllable(code: number): boolean {
  return code >= 0xac00 && code <= 0xd7a3;
}

/**
 * Whether `token` counts as `term`: the same word, or (for Hangul) the term followed by a
 * particle or copula from KOREAN_PARTICLES.
 */
export function tokenIs(token: string, term: string): boolean {
  if (token === term) return true;
  const rest = token.length - term.length;
  return (
    rest > 0 &&
    rest <= MAX_PARTICLE &&
    isHangulSyllable(token.charCodeAt(token.length - 1)) &&
    token.startsWith(term) &&
    KOREAN_PARTICLES.has(token.slice(term.length))
  );
}

/** The shorter words a Hangul token may stand for once a particle is taken off (삼성전자에서는 → 삼성전자에서, 삼성전자). */
export function stems(token: string): string[] {
  const out: string[] = [];
  if (!PARTICLE_ENDS.has(token.charCodeAt(token.length - 1))) return out;
  for (let k = 1; k <= MAX_PARTICLE && k < token.length; k++) {
    if (KOREAN_PARTICLES.has(token.slice(token.length - k))) out.push(token.slice(0, token.length - k));
  }
  return out;
}
