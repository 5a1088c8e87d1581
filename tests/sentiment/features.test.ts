import { describe, expect, it } from 'vitest';
import {
  COMPOUND_WEIGHT,
  FeatureScanner,
  lexiconTable,
  MAX_SCAN,
  schemes,
} from '../../pipeline/sentiment/features.js';

const en = new FeatureScanner(schemes.en, 20, lexiconTable(schemes.en, { good: 3, ':)': 2, '😍': 3 }));
const vader = new FeatureScanner(
  schemes.en,
  20,
  lexiconTable(schemes.en, {}),
  lexiconTable(schemes.en, { admirable: 2.6, awful: -2, ill: -1.7, ':)': 2 }),
);
const ko = new FeatureScanner(schemes.ko, 20, lexiconTable(schemes.ko, { 최고: 3, ㅋㅋ: 1, ㅠㅠ: -1 }));

/** The features of a text as a sorted list (a multiset: repeats kept). */
function features(scanner: FeatureScanner, text: string): number[] {
  const n = scanner.scan(text);
  return Array.from(scanner.indices.subarray(0, n)).sort((a, b) => a - b);
}

describe('sentiment feature scanner', () => {
  it('folds case and width, and cuts runs of a character to two', () => {
    expect(features(en, 'SOOOOO GOOD!!!!')).toEqual(features(en, 'soo good!!'));
    expect(features(en, 'ｇｏｏｄ')).toEqual(features(en, 'good'));
    expect(features(en, 'soo good')).not.toEqual(features(en, 'so good'));
    expect(features(ko, 'ㅋㅋㅋㅋㅋㅋㅋ')).toEqual(features(ko, 'ㅋㅋ'));
    expect(features(ko, 'ㅠㅠㅠㅠ')).toEqual(features(ko, 'ㅠㅠ'));
  });

  it('drops @handles and URLs, keeps hashtags as words, and ignores apostrophes in words', () => {
    expect(features(en, '@acme_support good https://t.co/x1Y?z=2 www.acme.com/help')).toEqual(
      features(en, 'good'),
    );
    expect(features(en, '#good')).toEqual(features(en, 'good'));
    expect(features(en, "don't")).toEqual(features(en, 'dont'));
    expect(features(en, 'don’t')).toEqual(features(en, 'dont'));
    expect(en.scan('@acme http://acme.com')).toBe(0);
    expect(en.scan('   ')).toBe(0);
    expect(en.scan('')).toBe(0);
  });

  it('hashes a negated word apart from the same word, until punctuation', () => {
    const good = features(en, 'good');
    const notGood = new Set(features(en, 'not good'));
    expect(good.every((f) => notGood.has(f))).toBe(false);
    // After a full stop the scope is closed: "good" is back to its plain features.
    const closed = new Set(features(en, 'not. good'));
    const scoped = new Set(features(en, 'not good'));
    expect(good.filter((f) => closed.has(f)).length).toBeGreaterThan(
      good.filter((f) => scoped.has(f)).length,
    );
  });

  it('counts lexicon hits for words, emoticons, emoji, and Korean substrings without spaces', () => {
    en.scan('so good :) 😍😍😍');
    expect(en.lexiconHits).toBe(4); // good, :), and 😍 twice (runs are cut to two)
    en.scan('the meeting is at noon');
    expect(en.lexiconHits).toBe(0);
    ko.scan('이영화최고였어ㅋㅋㅋㅋ');
    expect(ko.lexiconHits).toBe(2);
    ko.scan('너무 슬펐다 ㅠㅠㅠ');
    expect(ko.lexiconHits).toBe(1);
  });

  it('adds valence features that follow negation, "but" and capitals', () => {
    const plain = new FeatureScanner(schemes.en, 20, lexiconTable(schemes.en, {}));
    const count = (scanner: FeatureScanner, text: string) => scanner.scan(text);
    expect(count(vader, 'admirable')).toBeGreaterThan(count(plain, 'admirable'));
    // Words VADER does not know: only its "saw nothing" compound, and nothing at all for no text.
    expect(count(vader, 'the meeting is at noon')).toBe(
      count(plain, 'the meeting is at noon') + COMPOUND_WEIGHT,
    );
    expect(count(vader, '')).toBe(0);
    const valence = (text: string) => features(vader, text).filter((f) => !features(plain, text).includes(f));
    expect(valence('admirable')).not.toEqual(valence('awful'));
    expect(valence('ADMIRABLE')).not.toEqual(valence('admirable'));
    // "but" halves what came before it and weighs what follows 1.5 times.
    expect(valence('admirable but awful')).not.toEqual(valence('admirable and awful'));
  });

  it("computes VADER's compound score with its rules", () => {
    const compound = (text: string) => {
      vader.scan(text);
      return vader.compound();
    };
    // admirable 2.6 (VADER's lexicon): 2.6 / sqrt(2.6^2 + 15)
    expect(compound('admirable')).toBeCloseTo(2.6 / Math.sqrt(2.6 ** 2 + 15), 6);
    expect(compound('not admirable')).toBeCloseTo((-0.74 * 2.6) / Math.sqrt((0.74 * 2.6) ** 2 + 15), 6);
    expect(compound('very admirable')).toBeGreaterThan(compound('admirable'));
    expect(compound('slightly admirable')).toBeLessThan(compound('admirable'));
    expect(compound('admirable!!')).toBeGreaterThan(compound('admirable'));
    // Capitals count only next to words that are not in capitals.
    expect(compound('ADMIRABLE')).toBe(compound('admirable'));
    expect(compound('an ADMIRABLE plan')).toBeGreaterThan(compound('an admirable plan'));
    expect(compound('admirable but awful')).toBeLessThan(compound('admirable and awful'));
    // Emoticons are in VADER's lexicon; "i'll" is not the word "ill".
    expect(compound('see you :)')).toBeGreaterThan(0);
    expect(compound("i'll report back")).toBe(0);
    expect(compound('ill again')).toBeLessThan(0);
  });

  it('treats emoji with skin tones and variation selectors as the bare emoji', () => {
    expect(features(en, '👍🏽')).toEqual(features(en, '👍'));
    expect(features(en, '❤️')).toEqual(features(en, '❤'));
  });

  it('gives Korean the same character grams with or without spaces', () => {
    const spaced = new Set(features(ko, '재미 없다'));
    const joined = features(ko, '재미없다');
    // Only the word features differ: every character gram of the spaceless text is in the spaced one.
    expect(joined.filter((f) => !spaced.has(f)).length).toBeLessThanOrEqual(4);
  });

  it('reads decomposed Hangul (NFD) as composed', () => {
    const text = '정말 최고의 영화';
    expect(features(ko, text.normalize('NFD'))).toEqual(features(ko, text));
  });

  it('scans at most MAX_SCAN characters of a very long text', () => {
    const n = en.scan('good '.repeat(100_000));
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThanOrEqual(en.indices.length);
    const long = 'good '.repeat(100_000);
    expect(features(en, long)).toEqual(features(en, long.slice(0, MAX_SCAN)));
  });
});
