/**
 * The language of a mention: ko, en, ja, zh, or other.
 *
 * Cheap evidence decides first, the library (eld, an n-gram detector) only what it cannot:
 * - a script only one of our languages writes decides it: Hangul-dominant text is Korean, Han
 *   text with kana is Japanese, text mostly in another script (Cyrillic, Arabic, Thai...) is other;
 * - kana-less Han text with a character modern Japanese does not write (这, 們, 吗, 你...) is Chinese;
 * - Latin text with English-only function words and none of another language's (and no accented
 *   letters) is English; with the other languages' function words and no English ones, other;
 * - everything else (Latin text without that evidence, other Han text) goes to eld, which tells
 *   English from the other Latin languages and Chinese from kanji-only Japanese.
 * Romanised Korean, Japanese or Chinese counts as other: ko/ja/zh mean the language in its own
 * script, which is what the per-language models downstream read. Text with no letters left after
 * URLs, handles and emoji are removed is other.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { eld as Eld } from 'eld/medium';

export type Lang = 'ko' | 'en' | 'ja' | 'zh' | 'other';
export const LANGS: readonly Lang[] = ['ko', 'en', 'ja', 'zh', 'other'];

/** URLs, @handles and the # of hashtags: no language evidence, and their Latin letters would outweigh the text's. */
const LINKS = /(?:https?:\/\/|www\.)\S+|[@＠][\p{L}\p{N}_.]+|[#＃]/gu;
/** Cheap test for LINKS, so most texts skip the replace. */
const MAY_LINK = /[@#＠＃]|:\/\/|www\./;
/** Emoji and their modifiers and joiners: not counted as letters, but noise to the n-gram library. */
const EMOJI = /[\p{Extended_Pictographic}\p{Emoji_Modifier}\p{Regional_Indicator}]|\u200d|\ufe0f/gu;

function stripLinks(text: string): string {
  return MAY_LINK.test(text) ? text.replace(LINKS, ' ') : text;
}

/** One CJK character carries about as much as two Latin letters; weighing them so keeps "삼성 Galaxy S25 출시" Korean. */
const CJK_WEIGHT = 2;

interface Scripts {
  hangul: number;
  kana: number;
  han: number;
  latin: number;
  /** Latin letters outside ASCII (é, ß, ş, ư...): rare in English. */
  accented: number;
  /** Letters of scripts none of our languages use (Cyrillic, Greek, Arabic, Hebrew, Indic, Thai...). */
  foreign: number;
}

function countScripts(text: string): Scripts {
  const s: Scripts = { hangul: 0, kana: 0, han: 0, latin: 0, accented: 0, foreign: 0 };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a)) s.latin++;
    } else if ((c >= 0xac00 && c <= 0xd7a3) || (c >= 0x1100 && c <= 0x11ff) || (c >= 0x3130 && c <= 0x318f)) {
      s.hangul++;
    } else if (
      (c >= 0x3040 && c <= 0x30ff && c !== 0x30fb) ||
      (c >= 0x31f0 && c <= 0x31ff) ||
      (c >= 0xff66 && c <= 0xff9f)
    ) {
      s.kana++;
    } else if ((c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0xf900 && c <= 0xfaff)) {
      s.han++;
    } else if ((c >= 0xc0 && c <= 0x24f && c !== 0xd7 && c !== 0xf7) || (c >= 0x1e00 && c <= 0x1eff)) {
      s.latin++;
      s.accented++;
    } else if ((c >= 0xff21 && c <= 0xff3a) || (c >= 0xff41 && c <= 0xff5a)) {
      s.latin++;
    } else if (c >= 0x370 && c <= 0x1dff) {
      s.foreign++;
    }
  }
  return s;
}

/** Frequent English words that are not words of the common Latin-script languages. */
const ENGLISH = new Set(
  (
    'the and is are was were be been being you your yours this that these those with for of it its ' +
    "i'm it's don't can't won't isn't didn't doesn't they them their there our he his him she her " +
    'have has had what which who whom when where why how just not can will would should could but from ' +
    'about all get got out up if or at by than then very really like love one new now more some any ' +
    'only after before because into off here still even much many well back good great today day time ' +
    'people know think want need make going gonna thanks thank please'
  ).split(' '),
);

/**
 * Frequent function words of the other Latin-script languages (de fr es it pt nl id tr pl vi sv...),
 * none English; one-letter ones (pt o, es y, pl w z) left out: English tweets use them as letters.
 */
const NOT_ENGLISH = new Set(
  (
    'der die das und ist nicht ich ein eine zu mit sich auf für es den dem sie wir auch sind noch ' +
    'le la les des et est une un du pour pas que qui dans ce avec sur je vous il nous mais très ' +
    'el los las del es en por con para una se lo su muy pero como más esto está ' +
    'os um não de da em é mas uma você isso ' +
    'il di che è sono della gli questo anche ' +
    'het een niet dat te voor zijn ik je maar ook wat ' +
    'yang di ini itu dengan untuk tidak dari ada saya bisa ' +
    've bir bu da için ile çok ne ama gibi ' +
    'nie na się jest że jak ' +
    'và của là có không những được cho với các ' +
    'och att som på av för med har inte jag'
  ).split(' '),
);

const WORD = /[\p{L}']+/gu;

/**
 * What the common words say about Latin text: 'en' with enough English-only words and none of
 * another language's, 'other' with the reverse, null when they do not settle it.
 */
function latinByWords(text: string, accented: boolean): Lang | null {
  let en = 0;
  let other = 0;
  for (const m of text.toLowerCase().matchAll(WORD)) {
    // Most words have no typographic apostrophe: test before building a new string.
    const word = m[0].includes('’') ? m[0].replaceAll('’', "'") : m[0];
    if (ENGLISH.has(word)) en++;
    else if (NOT_ENGLISH.has(word)) other++;
  }
  if (en >= 2 && other === 0 && !accented) return 'en';
  if (other >= 2 && en === 0) return 'other';
  return null;
}

/**
 * Frequent Chinese characters that modern Japanese does not write (这們吗呢你很...): with no kana
 * beside them, the text is Chinese. Characters both write (会, 点, 国, 個, 還, 給, 誰) are left out.
 */
const CHINESE_ONLY = new Set('这這们們个吗嗎呢吧么麼沒还说說让讓给谁你她很'.split(''));

function hasChineseOnly(text: string): boolean {
  for (const c of text) if (CHINESE_ONLY.has(c)) return true;
  return false;
}

/**
 * The library is ~100x slower than the rest; reposts and copies repeat the same text, so its
 * answers are kept for the most recent texts (the whole map dropped when full: no LRU bookkeeping).
 */
const LIBRARY_MEMO = new Map<string, string>();
const LIBRARY_MEMO_SIZE = 10_000;

let library: typeof Eld | undefined;

/**
 * eld's medium n-gram tables take about a second and 200 MB to load, so they load when a text
 * first needs them: a process that only sees Hangul, kana or plainly English text never does.
 * require() of an ES module is synchronous (Node >= 20.19), which keeps detectLanguage synchronous.
 */
function loadLibrary(): typeof Eld {
  if (!library) {
    const require = createRequire(import.meta.url);
    library = (require(fileURLToPath(import.meta.resolve('eld/medium'))) as { eld: typeof Eld }).eld;
  }
  return library;
}

const libraryUse = { calls: 0, memoHits: 0 };

/** How many texts needed the library since the process started, and how many of those the memo answered. */
export function libraryStats(): Readonly<typeof libraryUse> {
  return { ...libraryUse };
}

/** Thrown, instead of loading eld, for a text only eld can decide when the caller said not to load it. */
class LibraryNeeded extends Error {}

function fromLibrary(text: string, library: boolean): string {
  if (!library) throw new LibraryNeeded();
  libraryUse.calls++;
  const known = LIBRARY_MEMO.get(text);
  if (known !== undefined) {
    libraryUse.memoHits++;
    return known;
  }
  const lang = loadLibrary().detect(text.replace(EMOJI, ' ')).language;
  if (LIBRARY_MEMO.size >= LIBRARY_MEMO_SIZE) LIBRARY_MEMO.clear();
  LIBRARY_MEMO.set(text, lang);
  return lang;
}

/** Weighted letter counts by the script that decides between our languages. */
function weigh(s: Scripts) {
  return {
    hangul: CJK_WEIGHT * s.hangul,
    japanese: CJK_WEIGHT * (s.kana + s.han),
    latin: s.latin,
    foreign: s.foreign,
  };
}

function detectClean(clean: string, s: Scripts, library = true): Lang {
  const w = weigh(s);
  const cjk = w.hangul + w.japanese;
  if (cjk === 0 && w.latin === 0 && w.foreign === 0) return 'other';
  if (w.foreign > w.latin && w.foreign > cjk) return 'other';
  if (cjk >= w.latin) {
    if (s.hangul >= s.kana + s.han) return 'ko';
    if (s.kana * 5 >= s.han) return 'ja';
    if (s.kana === 0 && s.hangul === 0 && hasChineseOnly(clean)) return 'zh';
    const lang = fromLibrary(clean, library);
    if (lang === 'ja' || lang === 'zh' || lang === 'ko') return lang;
    return s.kana > 0 ? 'ja' : s.hangul > 0 ? 'ko' : 'zh';
  }
  const byWords = latinByWords(clean, s.accented > 0);
  if (byWords !== null) return byWords;
  const lang = fromLibrary(clean, library);
  // Mostly Latin with some Hangul/kana/Han ("Caps Lock を追加"): the library may call it ours,
  // but only if the text does contain that language's script; romanised text is other.
  if (lang === 'en') return 'en';
  if (lang === 'ko' && s.hangul > 0) return 'ko';
  if (lang === 'ja' && s.kana > 0) return 'ja';
  if (lang === 'zh' && s.han > 0 && s.kana === 0) return 'zh';
  return 'other';
}

export function detectLanguage(text: string): Lang {
  const clean = stripLinks(text);
  return detectClean(clean, countScripts(clean));
}

/**
 * Our language for a platform's language tag (BCP 47 like "ko-KR", "zh-Hant", "en_US", or
 * ISO 639-2/3 like "kor"), null when the tag says nothing: missing, "und", X's pseudo-codes for
 * media-only, hashtag-only, mention-only or too-short posts (qme, qht, qam, qct, qst, zxx), or
 * not shaped like a tag at all. Any other well-formed tag is a language we do not score: other.
 */
export function languageOfTag(tag: string | null | undefined): Lang | null {
  const t = (tag ?? '').trim().toLowerCase().replace(/_/g, '-');
  if (!/^[a-z]{2,3}(-[a-z0-9]{1,8})*$/.test(t)) return null;
  const primary = t.split('-')[0] as string;
  if (NO_LANGUAGE.has(primary)) return null;
  return TAGS.get(primary) ?? 'other';
}

const NO_LANGUAGE = new Set(['und', 'zxx', 'mul', 'mis', 'qme', 'qht', 'qam', 'qct', 'qst']);
const TAGS = new Map<string, Lang>([
  ['ko', 'ko'],
  ['kor', 'ko'],
  ['en', 'en'],
  ['eng', 'en'],
  ['ja', 'ja'],
  ['jpn', 'ja'],
  ['zh', 'zh'],
  ['zho', 'zh'],
  ['chi', 'zh'],
  ['cmn', 'zh'],
  ['yue', 'zh'],
]);

/** At least this many letters, and this share of the weighted letters, make a script overwhelming. */
const OVERWHELMING_LETTERS = 6;
const OVERWHELMING_SHARE = 0.8;

/**
 * True when the text is overwhelmingly in a script the tagged language is not written in
 * (tag "en" on all-Hangul text, "ko" on Latin text, "ja" on Cyrillic): the tag is wrong
 * (Bluesky's and Mastodon's tags are the author's default, not the post's), so the text wins.
 */
function contradicts(lang: Lang, s: Scripts): boolean {
  const w = weigh(s);
  const total = w.hangul + w.japanese + w.latin + w.foreign;
  if (s.hangul + s.kana + s.han + s.latin + s.foreign < OVERWHELMING_LETTERS) return false;
  const over = (n: number) => n >= OVERWHELMING_SHARE * total;
  if (over(w.hangul)) return lang !== 'ko';
  if (over(w.japanese)) return s.kana > 0 ? lang !== 'ja' : lang !== 'zh' && lang !== 'ja';
  if (over(w.latin)) return lang === 'ko' || lang === 'ja' || lang === 'zh';
  if (over(w.foreign)) return lang !== 'other';
  return false;
}

/**
 * The platform's tag when it holds, else the detected language. With `library` false, null for a
 * text only eld could decide: a thread that must not hold eld's tables (~200 MB each) leaves those
 * texts to one that does.
 */
export function resolveLanguage(
  platformTag: string | null | undefined,
  text: string,
  library = true,
): { lang: Lang; origin: 'platform' | 'detected' } | null {
  const clean = stripLinks(text);
  const scripts = countScripts(clean);
  const tagged = languageOfTag(platformTag);
  if (tagged !== null && !contradicts(tagged, scripts)) return { lang: tagged, origin: 'platform' };
  try {
    return { lang: detectClean(clean, scripts, library), origin: 'detected' };
  } catch (err) {
    if (err instanceof LibraryNeeded) return null;
    throw err;
  }
}
