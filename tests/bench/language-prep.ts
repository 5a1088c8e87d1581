/**
 * node dist/tests/bench/language-prep.js --shared /work/shared/data --out <scratch dir>
 *
 * Builds the labelled short-text sets `npm run bench:language` measures, one `<label>.tsv` per
 * label (ko, en, ja, zh, other) with lines `origin<TAB>text`, into a scratch directory: the
 * English tweets (SemEval) may not be committed, and the other sources are GPL/mixed-licence
 * Debian text, so nothing here is written into the repository.
 *
 * Sources (install first, as root: `apt-get install -y manpages-ja manpages-zh manpages-de
 * manpages-fr manpages-es manpages-ru manpages-vi manpages-id manpages-it manpages-pt-br
 * manpages-pl manpages-tr manpages-nl fortunes-zh fortunes-de fortunes-es fortunes-ru
 * fortunes-it fortunes-br fortunes-pl`; needs gettext's msgunfmt and groff):
 *   en     SemEval 2013-2016 tweets and VADER tweets from --shared
 *   ko     NSMC movie reviews (CC0) and KOTE comments (MIT) from --shared
 *   ja/zh  sentences of the Japanese / Chinese man pages, the gettext catalogues in
 *          /usr/share/locale (translated UI messages) and, for zh, the modern fortunes-zh file
 *   other  the same kinds of text in de fr es it pt ru pl tr nl vi id
 * A ja line must contain kana, a zh line Han and no kana, a ko line Hangul: the label is then
 * certain even where a source mixes in untranslated English. A quarter of the non-tweet lines (all but en)
 * get a handle, URL, hashtag or emoji added, as tweets carry them.
 */

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { seededRandom as rng } from '../../pipeline/random.js';

type Label = 'ko' | 'en' | 'ja' | 'zh' | 'other';
interface Row {
  origin: string;
  text: string;
}

const PER_LABEL = 3000;
const PER_OTHER = 400;
const OTHER = ['de', 'fr', 'es', 'it', 'pt_BR', 'ru', 'pl', 'tr', 'nl', 'vi', 'id'];
const MAX = 280;

function sample<T>(items: T[], n: number, seed: number): T[] {
  const random = rng(seed);
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, n);
}

const clean = (s: string) => s.replace(/\s+/g, ' ').trim();

function tsvColumn(file: string, column: number, skipHeader: boolean): string[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  return lines.slice(skipHeader ? 1 : 0).flatMap((l) => {
    const text = clean(l.split('\t')[column] ?? '');
    return text && text.length <= MAX ? [text] : [];
  });
}

/** Translated messages of every gettext catalogue of a locale; identical-to-source ones dropped. */
function catalogue(locale: string): string[] {
  const dir = `/usr/share/locale/${locale}/LC_MESSAGES`;
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.mo'))) {
    let po: string;
    try {
      po = execFileSync('msgunfmt', ['--no-wrap', join(dir, file)], { encoding: 'utf8', stdio: 'pipe' });
    } catch {
      continue;
    }
    let msgid = '';
    for (const line of po.split('\n')) {
      const m = /^(msgid|msgstr(?:\[0\])?) "(.*)"$/.exec(line);
      if (!m) continue;
      const value = (m[2] ?? '').replace(/\\n/g, ' ').replace(/\\t/g, ' ').replace(/\\"/g, '"');
      if (m[1] === 'msgid') msgid = value;
      else if (value && value !== msgid) out.push(clean(value));
    }
  }
  return out;
}

function render(page: string): string | null {
  try {
    const roff = execFileSync('zcat', [page], { encoding: 'utf8', stdio: 'pipe' });
    return execFileSync('groff', ['-k', '-Tutf8', '-mandoc', '-rLL=4000n', '-P-cbou'], {
      input: roff,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'ignore'],
    });
  } catch {
    return null;
  }
}

/**
 * Sentences of the rendered man pages of one language directory. Translated pages keep some
 * paragraphs in English; with `dropEnglish` a sentence also found in the English original of the
 * page (/usr/share/man/<same path>) is left out, so "other" is not polluted with English.
 */
function manSentences(dir: string, limitPages: number, dropEnglish = false): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const pages = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.gz'));
  for (const page of pages.slice(0, limitPages)) {
    const text = render(join(dir, page));
    if (text === null) continue;
    const english = new Set(
      dropEnglish ? (render(join('/usr/share/man', page)) ?? '').split('\n').flatMap(sentences) : [],
    );
    for (const para of text.split('\n')) out.push(...sentences(para).filter((s) => !english.has(s)));
  }
  return out;
}

function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?。！？])\s+|(?<=[。！？])/u)
    .map(clean)
    .filter((s) => s.length <= MAX);
}

/** The fortune files of a language directory, not their indexes (.u8 names are links; rows() drops repeats). */
function fortuneFilesOf(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => !f.endsWith('.dat'))
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

function fortunes(file: string): string[] {
  if (!existsSync(file)) return [];
  // fortunes-zh colours its attributions with ANSI escapes.
  const text = readFileSync(file, 'utf8').replace(
    new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'),
    '',
  );
  return text.split(/\n%\n/).flatMap((f) => {
    const one = clean(f);
    return one.length <= MAX ? [one] : sentences(f.replace(/\n/g, ' '));
  });
}

const HAS_KANA = /[\p{Script=Hiragana}\p{Script=Katakana}]/u;
const HAS_HAN = /\p{Script=Han}/u;
const HAS_HANGUL = /\p{Script=Hangul}/u;
const LETTERS = /\p{L}/gu;

/** Long enough to carry a language, and mostly letters of the label's script (not code or options). */
function plausible(label: Label, text: string): boolean {
  const letters = text.match(LETTERS)?.length ?? 0;
  if (label === 'ja') return HAS_KANA.test(text) && letters >= 5;
  if (label === 'zh') {
    const han = text.match(/\p{Script=Han}/gu)?.length ?? 0;
    return (
      HAS_HAN.test(text) && !HAS_KANA.test(text) && !HAS_HANGUL.test(text) && han >= 5 && han >= letters / 2
    );
  }
  if (label === 'ko') return HAS_HANGUL.test(text);
  // Latin/Cyrillic "other": at least three words, mostly letters, no CJK.
  return (
    text.split(' ').length >= 3 &&
    letters >= text.length / 2 &&
    !HAS_HAN.test(text) &&
    !HAS_KANA.test(text) &&
    !HAS_HANGUL.test(text)
  );
}

const DECOR = [
  (t: string) => `@user_${t.length} ${t}`,
  (t: string) => `${t} https://t.co/x${t.length}AbC`,
  (t: string) => `${t} #launch`,
  (t: string) => `${t} 😂👍`,
];

function decorate(rows: Row[], seed: number): Row[] {
  const random = rng(seed);
  return rows.map((r) => {
    if (random() >= 0.25) return r;
    const text = (DECOR[Math.floor(random() * DECOR.length)] as (t: string) => string)(r.text);
    return { ...r, text: text.slice(0, MAX) };
  });
}

function rows(origin: string, label: Label, texts: string[]): Row[] {
  const seen = new Set<string>();
  return texts.flatMap((text) => {
    if (seen.has(text) || !plausible(label, text)) return [];
    seen.add(text);
    return [{ origin, text }];
  });
}

function main(): void {
  const { values } = parseArgs({ options: { shared: { type: 'string' }, out: { type: 'string' } } });
  if (!values.shared || !values.out) throw new Error('usage: --shared <../shared/data> --out <dir>');
  const shared = values.shared;
  mkdirSync(values.out, { recursive: true });
  const semeval = join(shared, 'sentiment/en/semeval2013-2016');
  const en = [
    ...rows(
      'semeval',
      'en',
      readdirSync(semeval).flatMap((f) => tsvColumn(join(semeval, f), 2, false)),
    ),
    ...rows('vader', 'en', tsvColumn(join(shared, 'sentiment/en/vader_tweets_GroundTruth.tsv'), 2, false)),
  ];
  const ko = [
    ...rows('nsmc', 'ko', tsvColumn(join(shared, 'sentiment/ko/nsmc/ratings_train.tsv'), 1, true)),
    ...rows('kote', 'ko', tsvColumn(join(shared, 'sentiment/ko/kote/val.tsv'), 1, false)),
  ];
  // Half and half from UI messages and running text where both exist, so neither style dominates.
  const mixed = (label: Label, parts: [string, string[]][], n: number, seed: number): Row[] =>
    parts.flatMap(([origin, texts], i) =>
      sample(rows(origin, label, texts), Math.ceil(n / parts.length), seed + i),
    );
  const ja = mixed(
    'ja',
    [
      ['mo:ja', catalogue('ja')],
      ['man:ja', manSentences('/usr/share/man/ja', 600)],
    ],
    PER_LABEL,
    3,
  );
  const zh = mixed(
    'zh',
    [
      ['mo:zh_CN', catalogue('zh_CN')],
      ['mo:zh_TW', catalogue('zh_TW')],
      ['man:zh_CN', manSentences('/usr/share/man/zh_CN', 400)],
      ['man:zh_TW', manSentences('/usr/share/man/zh_TW', 400)],
      ['fortune:zh', fortunes('/usr/share/games/fortunes/chinese.u8')],
    ],
    PER_LABEL,
    4,
  );
  const other = OTHER.flatMap((lang, i) => {
    const man = manSentences(`/usr/share/man/${lang}`, 150, true);
    const fortuneFiles =
      lang === 'pt_BR'
        ? ['/usr/share/games/fortunes/brasil']
        : fortuneFilesOf(`/usr/share/games/fortunes/${lang}`);
    const fortuneTexts = fortuneFiles.flatMap(fortunes);
    const parts: [string, string[]][] = [
      [`mo:${lang}`, catalogue(lang)],
      [`man:${lang}`, man],
    ];
    if (fortuneTexts.length) parts.push([`fortune:${lang}`, fortuneTexts]);
    return mixed('other', parts, PER_OTHER, 10 + i);
  });
  const sets: Record<Label, Row[]> = {
    en: sample(en, PER_LABEL, 1),
    ko: decorate(sample(ko, PER_LABEL, 2), 12),
    ja: decorate(sample(ja, PER_LABEL, 3), 13),
    zh: decorate(sample(zh, PER_LABEL, 4), 14),
    other: decorate(other, 15),
  };
  for (const [label, set] of Object.entries(sets)) {
    writeFileSync(join(values.out, `${label}.tsv`), set.map((r) => `${r.origin}\t${r.text}\n`).join(''));
    const origins = new Map<string, number>();
    for (const r of set) origins.set(r.origin, (origins.get(r.origin) ?? 0) + 1);
    console.log(label, set.length, JSON.stringify(Object.fromEntries(origins)));
  }
}

main();
