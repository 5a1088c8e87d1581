import { describe, expect, it } from 'vitest';
import { computeScores, type ScoreInput } from '../../pipeline/scoring/compute.js';
import { matcherCache, scoreDeferred } from '../../pipeline/scoring/pool.js';
import { loadSentimentModels } from '../../pipeline/sentiment/index.js';

const models = loadSentimentModels();
const topics = matcherCache()(['samsung', 'galaxy OR 東京', 'delivery', '배송']);

// Untagged texts only eld decides (no function words, kanji without kana) between ones decided
// without it: a tag, Hangul, English function words.
const texts: Array<[string | null, string]> = [
  [null, 'Samsung Galaxy S25 Ultra'],
  ['en', 'The delivery is late again, Samsung'],
  [null, '東京都庁舎'],
  [null, '배송이 너무 늦어요 ㅠㅠ'],
  [null, 'The delivery is late again'],
  ['und', 'Galaxy Samsung Tab S10 FE'],
  ['ko', '삼성 Galaxy S25 배송'],
];
const input: ScoreInput = {
  title: texts.map(() => null),
  text: texts.map(([, text]) => text),
  lang: texts.map(([lang]) => lang),
  url: texts.map((_, i) => `https://example.com/${i}`),
  source: texts.map(() => 'x'),
  author: texts.map(() => null),
};

describe('scoring without eld in the thread', () => {
  const withEld = (part: ScoreInput) => computeScores(models, part, topics);

  it('defers exactly the texts only eld decides, and scoring them after gives what one thread gives', async () => {
    const whole = withEld(input);
    const withoutEld = computeScores(models, input, topics, false);
    expect(withoutEld.deferred).toEqual([0, 2, 5]);
    expect(whole.deferred).toEqual([]);
    expect(await scoreDeferred(input, withoutEld, withEld)).toEqual(whole);
  });

  it('leaves an output with nothing deferred as it is', async () => {
    const whole = withEld(input);
    expect(await scoreDeferred(input, whole, withEld)).toBe(whole);
  });
});
