/**
 * The sentiment feature scanner: one pass over the text's code points, no regexes, no strings built.
 * It folds case and width, cuts runs of one character to two (sooo -> soo, ㅋㅋㅋㅋ -> ㅋㅋ, !!!! -> !!),
 * drops @handles and URLs, and emits hashed feature indices into a reused buffer:
 *   words      unigrams and bigrams; a word inside a negation scope ("not good") hashes apart;
 *   symbols    punctuation runs and emoticons as tokens (":)", "!!", ":'(");
 *   emoji      each emoji a token (skin tones, variation selectors and ZWJ dropped);
 *   chars      character n-grams over the normalized stream (English: with one space between
 *              tokens; Korean: without spaces, so "재미없다" and "재미 없다" give the same grams);
 *   lexicon    binned sums of the lexicon scores found (negated, intensified), so a lexicon moves the
 *              model without every word of it having been seen in training;
 *   valence    the same for an optional second word table (English: VADER's lexicon, words and
 *              emoticons), with VADER's "but" rule (what comes before a "but" counts half, what
 *              follows it 1.5 times) and its emphasis for a word in capitals ("GREAT": 0.733 more);
 *   compound   VADER's own compound score in tenths, from its rules (boosters and dampeners,
 *              negation x -0.74, capitals only in mixed-case text, ! and ? emphasis): a strong
 *              feature for the tweets VADER's authors labelled (5-fold CV 0.727 -> 0.750).
 * The same code runs at training and scoring time, so the hashes agree by construction.
 */

export interface FeatureScheme {
  /** Character n-gram lengths. */
  charMin: number;
  charMax: number;
  /** English: spaces between tokens are part of the character stream; Korean: they are not. */
  charSpaces: boolean;
  /** Lexicon keys are whole tokens (English words, emoticons, emoji) or substrings of the char stream. */
  lexiconMatch: 'token' | 'substring';
}

/** English 2-4 grams scored as well as 2-5 on both English dev sets with a quarter fewer features. */
export const schemes = {
  en: { charMin: 2, charMax: 4, charSpaces: true, lexiconMatch: 'token' },
  ko: { charMin: 1, charMax: 4, charSpaces: false, lexiconMatch: 'substring' },
} as const satisfies Record<string, FeatureScheme>;

/** Longer texts are scored on their first 4,096 UTF-16 units: the features of a post live there. */
export const MAX_SCAN = 4096;
const RING = 16; // > charMax + a URL's scheme (see the rollback in scan)

const SEED = 0x811c9dc5 | 0;
const mix = (h: number, c: number): number => Math.imul(h ^ c, 0x01000193);
/** murmur3's finalizer: spreads FNV's weak low bits before the lexicon table masks them. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Fibonacci hashing: the top `32 - shift` bits of h * 2^32/phi, one multiply per feature. */
const bucket = (h: number, shift: number): number => Math.imul(h, 0x9e3779b1) >>> shift;

// Feature families, salted so a word and a char gram of the same letters land apart.
const UNI = 0x1000;
const BI = 0x2000;
const SYM = 0x3000;
const CHAR = 0x4000;
const LEX = 0x5000;
const VAL = 0x6000;
const NEG = 0x5bd1e995;
/**
 * The compound bin is emitted this many times: the model scales a text's features by 1/sqrt(count),
 * so one feature among ~365 barely moves it. 16-32 scored alike in 5-fold CV over the VADER tweets
 * (pooled macro-F1 0.744-0.745 vs 0.727 at 1; npm run cv:sentiment).
 */
export const COMPOUND_WEIGHT = 24;

/** The token hash the scanner computes, for building lookup tables from strings. */
export function tokenHash(token: string): number {
  let h = SEED;
  for (const ch of token) h = mix(h, ch.codePointAt(0) as number);
  return h;
}

/** A substring's hash as the char stream computes it (last character first). */
export function substringHash(s: string): number {
  const cps = Array.from(s, (ch) => ch.codePointAt(0) as number);
  let h = SEED;
  for (let k = cps.length - 1; k >= 0; k--) h = mix(h, cps[k] as number);
  return h;
}

/** Open-addressing hash -> value table; 0 marks an empty slot, so key 0 is stored as 1. */
export class HashTable {
  private readonly keys: Int32Array;
  private readonly values: Float32Array;
  private readonly mask: number;
  constructor(entries: Iterable<[number, number]>, size = 1 << 14) {
    this.keys = new Int32Array(size);
    this.values = new Float32Array(size);
    this.mask = size - 1;
    for (const [key, value] of entries) {
      const k = key || 1;
      let i = fmix(k) & this.mask;
      while (this.keys[i] !== 0 && this.keys[i] !== k) i = (i + 1) & this.mask;
      this.keys[i] = k;
      this.values[i] = value;
    }
  }
  /** The value, or 0 when absent. */
  get(key: number): number {
    const k = key || 1;
    let i = fmix(k) & this.mask;
    for (;;) {
      const at = this.keys[i] as number;
      if (at === k) return this.values[i] as number;
      if (at === 0) return 0;
      i = (i + 1) & this.mask;
    }
  }
}

const words = (list: string) => new HashTable(list.split(' ').map((w) => [tokenHash(w), 1]));
/** Words that flip what follows until punctuation (at most 3 words), with apostrophes dropped. */
const NEGATORS = words(
  'not no never nothing nobody none neither nor cannot cant dont doesnt didnt isnt arent wasnt werent wont wouldnt couldnt shouldnt havent hasnt hadnt aint without',
);
const INTENSIFIERS = words(
  'very so really extremely totally absolutely too super incredibly completely quite highly most truly damn',
);
const NEGATION_SCOPE = 3;
/** VADER's boosters (+0.293 to the next word's valence, away from zero) and dampeners (-0.293). */
const BOOSTERS = new HashTable([
  ...'absolutely amazingly awfully completely considerably decidedly deeply effing enormously entirely especially exceptionally extremely fabulously flipping flippin fricking frickin frigging friggin fully fucking greatly hella highly hugely incredibly intensely majorly more most particularly purely quite really remarkably so substantially thoroughly totally tremendously uber unbelievably unusually utterly very'
    .split(' ')
    .map((w): [number, number] => [tokenHash(w), 0.293]),
  ...'almost barely hardly kinda kindof less little marginally occasionally partly scarcely slightly somewhat sorta sortof'
    .split(' ')
    .map((w): [number, number] => [tokenHash(w), -0.293]),
]);

// Character classes for ASCII.
const SPACE = 0;
const WORD = 1;
const PUNCT = 2;
const EMOJI = 3;
const JAMO = 4;

/** ASCII classes by table: most characters of most texts are ASCII. Upper case is folded before. */
const ASCII = Uint8Array.from({ length: 0x80 }, (_, cp) =>
  cp <= 0x20 || cp === 0x7f ? SPACE : (cp >= 0x30 && cp <= 0x39) || (cp >= 0x61 && cp <= 0x7a) ? WORD : PUNCT,
);

function classOf(cp: number): number {
  if (cp < 0x80) return ASCII[cp] as number;
  if (cp === 0xa0 || (cp >= 0x2000 && cp <= 0x200b) || cp === 0x3000 || cp === 0x2028 || cp === 0x2029)
    return SPACE;
  if (cp >= 0x3131 && cp <= 0x318e) return JAMO;
  if (
    (cp >= 0x1f000 && cp <= 0x1faff) ||
    (cp >= 0x2600 && cp <= 0x27bf) ||
    (cp >= 0x2b00 && cp <= 0x2bff) ||
    cp === 0x203c ||
    cp === 0x2049 ||
    cp === 0x2122 ||
    cp === 0x2139 ||
    (cp >= 0x2190 && cp <= 0x21ff) ||
    (cp >= 0x2300 && cp <= 0x23ff) ||
    cp === 0x3297 ||
    cp === 0x3299
  )
    return EMOJI;
  if (
    (cp >= 0xa1 && cp <= 0xbf) ||
    cp === 0xd7 ||
    cp === 0xf7 ||
    (cp >= 0x2010 && cp <= 0x205f) ||
    (cp >= 0x3001 && cp <= 0x303f) ||
    (cp >= 0x2460 && cp <= 0x25ff)
  )
    return PUNCT;
  return WORD;
}

/** Folds case and width; returns -1 for characters that carry nothing (selectors, joiners, skin tones). */
function fold(cp: number): number {
  if (cp >= 0x41 && cp <= 0x5a) return cp + 32;
  if (cp < 0x80) return cp;
  if (cp >= 0xff01 && cp <= 0xff5e) return fold(cp - 0xfee0);
  if (
    (cp >= 0xc0 && cp <= 0xde && cp !== 0xd7) ||
    (cp >= 0x391 && cp <= 0x3a9) ||
    (cp >= 0x410 && cp <= 0x42f)
  )
    return cp + 32;
  if (cp === 0x200d || (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0x1f3fb && cp <= 0x1f3ff) || cp === 0xfeff)
    return -1;
  return cp;
}

const isApostrophe = (cp: number) => cp === 0x27 || cp === 0x2019;
/** Letters that end an emoticon after its eyes: ":D", ":P", ";p", ":o", "<3". */
const isEmoticonMouth = (prev: number, cp: number) =>
  ((prev === 0x3a || prev === 0x3b || prev === 0x3d || prev === 0x2d) &&
    (cp === 0x64 || cp === 0x70 || cp === 0x6f)) ||
  (prev === 0x3c && cp === 0x33);
/** Punctuation that closes a negation scope. */
const isClause = (cp: number) =>
  cp === 0x2e || cp === 0x2c || cp === 0x21 || cp === 0x3f || cp === 0x3b || cp === 0x3a;

const BUT = tokenHash('but');
const HTTP = tokenHash('http');
const HTTPS = tokenHash('https');
const WWW = tokenHash('ww'); // as read: runs are cut to two

function bin(sum: number): number {
  return sum <= 0 ? 0 : sum <= 1 ? 1 : sum <= 2 ? 2 : sum <= 3 ? 3 : sum <= 5 ? 4 : sum <= 8 ? 5 : 6;
}

/**
 * One scanner per model (not re-entrant: it reuses its buffer and keeps its state in fields, so a
 * scan allocates nothing). `scan` returns how many feature indices it wrote to `indices`; they may
 * repeat (a repeated word counts twice).
 */
export class FeatureScanner {
  readonly indices = new Int32Array(MAX_SCAN * 8 + 64);
  /** Lexicon hits in the last scan (0 when none). */
  lexiconHits = 0;
  private readonly shift: number;
  private readonly charMin: number;
  private readonly charMax: number;
  private readonly charSpaces: boolean;
  private readonly substring: boolean;
  private readonly ring = new Int32Array(RING);
  private n = 0;
  private pos = 0;
  // Scan state. The token being read is a word, a jamo run (ㅋㅋ, ㅠㅠ), a punctuation run or an emoji.
  private kind = SPACE;
  private tok = SEED;
  private tokLen = 0;
  private lastCp = 0;
  private prevToken = SEED;
  private negScope = 0;
  private boost = 1;
  /** A token boundary is due before the next character of the stream. */
  private gap = false;
  private lexPos = 0;
  private lexNeg = 0;
  private valPos = 0;
  private valNeg = 0;
  /** 1.5 after a "but", else 1. */
  private valBut = 1;
  /** Exclamation and question marks read (runs cut to two), for VADER's emphasis. */
  private bangs = 0;
  private questions = 0;
  /** VADER's own sum of valences (its booster, negation and "but" rules), and its capitals bonus apart. */
  private vaderSum = 0;
  private vaderCaps = 0;
  /** The word before the current one (its hash), for VADER's boosters. */
  private prevWord = 0;
  private capsWords = 0;
  private otherWords = 0;
  /** The current word lost an apostrophe: "i'll" reads "ill", "we'll" "well", which are not those words. */
  private apostrophe = false;
  /** Capital and small ASCII letters in the current token, as typed. */
  private upper = 0;
  private lower = 0;
  /** Where the current word began, to take back a URL's first word. */
  private markN = 0;
  private markPos = 0;
  private markHits = 0;

  constructor(
    readonly scheme: FeatureScheme,
    readonly bits: number,
    private readonly lexicon: HashTable,
    /** Word -> valence, a second opinion to the lexicon (token schemes only). */
    private readonly valences?: HashTable,
  ) {
    this.shift = 32 - bits;
    this.charMin = scheme.charMin;
    this.charMax = scheme.charMax;
    this.charSpaces = scheme.charSpaces;
    this.substring = scheme.lexiconMatch === 'substring';
  }

  private emit(h: number): void {
    this.indices[this.n++] = bucket(h, this.shift);
  }

  private score(s: number): void {
    if (s > 0) this.lexPos += s;
    else this.lexNeg -= s;
    this.lexiconHits++;
  }

  /** A word's valence, negated and intensified like the lexicon's scores; "but" reweighs the clauses. */
  private valence(tok: number, symbol: boolean): void {
    if (symbol) {
      // An emoticon: its own valence, no capitals, boosters or "but".
      const v = (this.valences as HashTable).get(tok);
      if (v !== 0) {
        this.vaderSum += v;
        if (v > 0) this.valPos += v;
        else this.valNeg -= v;
      }
      return;
    }
    const caps = this.upper >= 2 && this.lower === 0;
    if (caps) this.capsWords++;
    else this.otherWords++;
    const before = this.prevWord;
    this.prevWord = tok;
    if (tok === BUT) {
      this.valPos *= 0.5;
      this.valNeg *= 0.5;
      this.vaderSum *= 0.5;
      this.vaderCaps *= 0.5;
      this.valBut = 1.5;
      return;
    }
    let v = this.apostrophe ? 0 : (this.valences as HashTable).get(tok);
    if (v === 0) return;
    {
      const sign = v > 0 ? 1 : -1;
      const f = (this.negScope > 0 ? -0.74 : 1) * this.valBut;
      // A booster or dampener right before the word moves it away from or toward zero.
      this.vaderSum += (v + sign * BOOSTERS.get(before)) * f;
      if (caps) this.vaderCaps += sign * 0.733 * f;
    }
    if (caps) v += v > 0 ? 0.733 : -0.733;
    v *= this.boost * this.valBut;
    if (this.negScope > 0) v *= -0.5;
    if (v > 0) this.valPos += v;
    else this.valNeg -= v;
  }

  /**
   * VADER's compound score (-1..1) of the last scan, 0 when its lexicon found nothing: the valence sum
   * with its ! and ? emphasis, normalised as sum / sqrt(sum^2 + 15).
   */
  compound(): number {
    let sum = this.vaderSum + (this.capsWords > 0 && this.otherWords > 0 ? this.vaderCaps : 0);
    if (sum === 0) return 0;
    const q = this.questions;
    sum += Math.sign(sum) * (Math.min(this.bangs, 4) * 0.292 + (q > 1 ? (q <= 3 ? 0.18 * q : 0.96) : 0));
    return sum / Math.sqrt(sum * sum + 15);
  }

  /** Adds one character to the stream and emits the n-grams that end at it. */
  private push(cp: number): void {
    const ring = this.ring;
    const pos = this.pos++;
    ring[pos & (RING - 1)] = cp;
    const longest = this.charMax <= pos ? this.charMax : pos + 1;
    const first = this.charMin - 1;
    const idx = this.indices;
    const shift = this.shift;
    let n = this.n;
    let h = SEED;
    for (let k = 0; k < longest; k++) {
      h = mix(h, ring[(pos - k) & (RING - 1)] as number);
      if (k >= first) idx[n++] = bucket(h ^ (CHAR + k), shift);
      if (this.substring && k > 0) {
        const s = this.lexicon.get(h);
        if (s !== 0) this.score(s);
      }
    }
    this.n = n;
  }

  /** The boundary space goes in only before a next character: edges, handles and URLs leave no trace. */
  private char(cp: number): void {
    if (this.gap && this.charSpaces && this.pos > 0) this.push(0x20);
    this.gap = false;
    this.push(cp);
  }

  private flush(): void {
    if (this.tokLen === 0) return;
    const kind = this.kind;
    const tok = this.tok;
    let h = tok;
    if (kind === PUNCT) h ^= SYM;
    else if (this.negScope > 0) h ^= NEG;
    this.emit(h ^ UNI);
    this.emit(mix(this.prevToken, h) ^ BI);
    if (!this.substring || kind === PUNCT || kind === EMOJI) {
      let s = this.lexicon.get(tok);
      if (s !== 0) {
        s *= this.boost;
        if (this.negScope > 0 && kind !== PUNCT) s *= -0.5;
        this.score(s);
      }
    }
    if (this.valences && (kind === WORD || kind === PUNCT)) this.valence(tok, kind === PUNCT);
    if (kind === PUNCT) {
      if (isClause(this.lastCp)) this.negScope = 0;
    } else {
      if (NEGATORS.get(tok) !== 0) this.negScope = NEGATION_SCOPE;
      else if (this.negScope > 0) this.negScope--;
      this.boost = INTENSIFIERS.get(tok) !== 0 ? 1.5 : 1;
    }
    this.prevToken = h;
    this.upper = 0;
    this.lower = 0;
    this.apostrophe = false;
    this.tok = SEED;
    this.tokLen = 0;
    this.kind = SPACE;
  }

  private add(cp: number): void {
    if (cp === 0x21) this.bangs++;
    else if (cp === 0x3f) this.questions++;
    this.tok = mix(this.tok, cp);
    this.tokLen++;
    this.lastCp = cp;
    this.char(cp);
  }

  scan(input: string): number {
    this.n = 0;
    this.pos = 0;
    this.lexiconHits = 0;
    this.kind = SPACE;
    this.tok = SEED;
    this.tokLen = 0;
    this.lastCp = 0;
    this.prevToken = SEED;
    this.negScope = 0;
    this.boost = 1;
    this.gap = false;
    this.lexPos = 0;
    this.lexNeg = 0;
    this.valPos = 0;
    this.valNeg = 0;
    this.valBut = 1;
    this.bangs = 0;
    this.questions = 0;
    this.vaderSum = 0;
    this.vaderCaps = 0;
    this.prevWord = 0;
    this.capsWords = 0;
    this.otherWords = 0;
    this.apostrophe = false;
    this.upper = 0;
    this.lower = 0;
    const end = Math.min(input.length, MAX_SCAN);
    let prevCp = -1;
    let run = 0;
    let skipping = false; // inside a URL or @handle
    for (let i = 0; i < end; i++) {
      let cp = input.charCodeAt(i);
      if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < input.length) {
        const lo = input.charCodeAt(i + 1);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
          i++;
        }
      } else if (cp >= 0x1100 && cp <= 0x11ff) {
        // Decomposed Hangul (NFD, as some Mac clients send it): compose and start over; jamo
        // that do not compose become spaces, so this happens once.
        const composed = input.normalize('NFC');
        return this.scan(composed === input ? input.replaceAll(/[\u1100-\u11ff]/g, ' ') : composed);
      }
      const typed = cp;
      cp = fold(cp);
      if (cp < 0) continue;
      if (cp === prevCp) {
        if (++run > 2) continue;
      } else {
        prevCp = cp;
        run = 1;
      }
      const cls = classOf(cp);
      if (skipping) {
        if (cls === SPACE) skipping = false;
        continue;
      }
      const kind = this.kind;
      if (cls === SPACE) {
        this.flush();
        this.gap = true;
        continue;
      }
      if (kind === WORD && isApostrophe(cp)) {
        this.apostrophe = true; // don't == dont
        continue;
      }
      if (cls === PUNCT && kind !== PUNCT) {
        const tok = this.tok;
        if (
          kind === WORD &&
          ((cp === 0x3a && (tok === HTTP || tok === HTTPS)) || (cp === 0x2e && tok === WWW))
        ) {
          // A URL: take back the character grams of its first word and skip the rest.
          this.n = this.markN;
          this.pos = this.markPos;
          this.lexiconHits = this.markHits;
          this.upper = 0;
          this.lower = 0;
          this.tok = SEED;
          this.tokLen = 0;
          this.kind = SPACE;
          this.gap = true;
          skipping = true;
          continue;
        }
        this.flush();
        if (cp === 0x40 && i + 1 < end && classOf(fold(input.charCodeAt(i + 1))) === WORD) {
          skipping = true; // @handle
          continue;
        }
        if (cp === 0x23) continue; // #hashtag -> hashtag
        this.gap = true;
        this.kind = PUNCT;
      } else if (kind === PUNCT && cls === WORD && isEmoticonMouth(this.lastCp, cp)) {
        if (i + 1 >= end || classOf(fold(input.charCodeAt(i + 1))) !== WORD) {
          this.add(cp);
          continue;
        }
      }
      if (cls === EMOJI) {
        this.flush();
        this.gap = true;
        this.kind = EMOJI;
        this.add(cp);
        this.flush();
        this.gap = true;
        continue;
      }
      const tokenKind = cls === PUNCT ? PUNCT : cls === JAMO ? JAMO : WORD;
      if (this.kind !== tokenKind) {
        this.flush();
        this.gap = true;
        this.kind = tokenKind;
        this.markN = this.n;
        this.markPos = this.pos;
        this.markHits = this.lexiconHits;
      }
      if (typed >= 0x41 && typed <= 0x5a) this.upper++;
      else if (typed >= 0x61 && typed <= 0x7a) this.lower++;
      this.add(cp);
    }
    this.flush();
    if (this.lexPos > 0 || this.lexNeg > 0) {
      const p = bin(this.lexPos);
      const q = bin(this.lexNeg);
      this.emit(LEX + p);
      this.emit(LEX + 16 + q);
      this.emit(LEX + 32 + p * 8 + q);
    }
    if (this.valPos > 0 || this.valNeg > 0) {
      const p = bin(this.valPos);
      const q = bin(this.valNeg);
      this.emit(VAL + p);
      this.emit(VAL + 16 + q);
      this.emit(VAL + 32 + p * 8 + q);
      const net = this.valPos - this.valNeg;
      this.emit(VAL + 100 + (net > 0 ? bin(net) : 8 + bin(-net)));
    }
    // Nothing read (an empty text, only a handle or a URL) stays no signal; and "VADER saw nothing"
    // is no evidence of neutral when the other lexicon saw an emoji VADER's lexicon lacks.
    const vaderSaw = this.vaderSum !== 0 || this.vaderCaps !== 0;
    if (this.valences && this.n > 0 && (vaderSaw || this.lexiconHits === 0)) {
      const b = VAL + 200 + Math.round((this.compound() + 1) * 10); // in tenths, 0..20
      for (let r = 0; r < COMPOUND_WEIGHT; r++) this.emit(b);
    }
    return this.n;
  }
}

const HANGUL = /[\u1100-\u11ff\u3131-\u318e\uac00-\ud7a3]/;

/** The lookup table for a lexicon of normalized entries (lowercase, no apostrophes, one token each). */
export function lexiconTable(scheme: FeatureScheme, entries: Record<string, number>): HashTable {
  return new HashTable(
    Object.entries(entries).map(([text, score]) => [
      scheme.lexiconMatch === 'substring' && HANGUL.test(text) ? substringHash(text) : tokenHash(text),
      score,
    ]),
  );
}
