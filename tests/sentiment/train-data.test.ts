import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../pipeline/errors.js';
import { vaderTweets } from '../../pipeline/sentiment/train-data.js';
import { tempDir } from '../helpers/store.js';

// A stand-in for ../shared/data in VADER's format (`id \t mean on -4..4 \t text`), our own texts.
const tmp = tempDir('earshot-vader-');
afterAll(tmp.cleanup);
const folder = join(tmp.dir, 'sentiment', 'en');
mkdirSync(folder, { recursive: true });
const means = [0.2, 0.19, 0, -0.19, -0.2, 3.1, -2.5];
const rows = Array.from(
  { length: 700 },
  (_, i) => `${i + 1}\t${means[i % means.length]}\ttweet number ${i + 1}`,
);
writeFileSync(join(folder, 'vader_tweets_GroundTruth.tsv'), `${rows.join('\n')}\n`);

describe('VADER tweets for training and measuring', () => {
  const split = vaderTweets(tmp.dir);
  const all = [...split.train, ...split.dev];

  it("labels by its authors' thresholds: |mean / 4| >= 0.05 is polar", () => {
    const labelOf = (n: number) => all.find((e) => e.text === `tweet number ${n}`)?.label;
    expect([1, 2, 3, 4, 5, 6, 7].map(labelOf)).toEqual([2, 1, 1, 1, 0, 2, 0]);
  });

  it('holds out a fixed fifth, disjoint from the training part, the same on every run', () => {
    expect(all).toHaveLength(700);
    expect(new Set(all.map((e) => e.text)).size).toBe(700);
    expect(split.dev.length).toBeGreaterThan(700 * 0.15);
    expect(split.dev.length).toBeLessThan(700 * 0.25);
    expect(vaderTweets(tmp.dir)).toEqual(split);
  });

  it('names the file when it cannot be read', () => {
    expect(() => vaderTweets(join(tmp.dir, 'missing'))).toThrow(UserError);
    expect(() => vaderTweets(join(tmp.dir, 'missing'))).toThrow('vader_tweets_GroundTruth.tsv');
  });
});
