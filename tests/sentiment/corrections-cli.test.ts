import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POOL_MIN_BATCH } from '../../pipeline/scoring/pool.js';
import { scoreNew } from '../../pipeline/scoring/score.js';
import { loadSentimentModels } from '../../pipeline/sentiment/index.js';
import { newestLayers } from '../../pipeline/sentiment/layers.js';
import type { EvalLanguage, LearnResult } from '../../pipeline/sentiment/learn.js';
import { Store } from '../../pipeline/store.js';
import { runCli } from '../helpers/cli.js';
import { mentionRecord } from '../helpers/mention.js';
import { tempDir } from '../helpers/store.js';
import { collect, scoringDeps } from '../scoring/helpers.js';

const shipped = loadSentimentModels();
// Through the built CLI (dist/pipeline/cli.js) on a database file no server holds.
let env: NodeJS.ProcessEnv;
let db: string;
let cleanup: () => void;
const FILLER = POOL_MIN_BATCH + 500;
const TEXTS = [
  'the new Bolt camera is sick',
  'battery life on the Bolt is insane',
  'Bolt night mode is sick, no joke',
  'this Bolt update is insane',
  'Bolt zoom is sick',
  'the Bolt design is killer',
  'The keynote starts at 10am',
];

beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup } = tempDir());
  db = join(dir, 'earshot.duckdb');
  const configPath = join(dir, 'earshot.yaml');
  writeFileSync(configPath, 'timezone: UTC\n');
  env = { EARSHOT_CONFIG: configPath, EARSHOT_DB: db, LOG_LEVEL: 'error' };
  const store = await Store.open(db);
  await collect(
    store,
    'x',
    TEXTS.map((text, i) =>
      mentionRecord({ nativeId: `x${i}`, text, lang: 'en', createdAt: new Date(Date.UTC(2026, 10, 20, i)) }),
    ),
    new Date('2026-11-22T00:00:00Z'),
  );
  // Enough mentions for the re-score to use the worker threads (POOL_MIN_BATCH).
  await collect(
    store,
    'bsky',
    Array.from({ length: FILLER }, (_, i) =>
      mentionRecord({
        nativeId: `b${i}`,
        text: `${TEXTS[i % 6]} #${i}`,
        lang: 'en',
        createdAt: new Date(Date.UTC(2026, 10, 21, 0, i % 60)),
      }),
    ),
    new Date('2026-11-22T00:00:00Z'),
  );
  await scoreNew(scoringDeps(store));
  await store.closeGracefully();
});
afterAll(() => cleanup());

describe('earshot sentiment correct | learn | eval', () => {
  it('corrects, learns a version that re-scores the mentions, and evaluates on the held-out', async () => {
    const first = await runCli(['sentiment', 'correct', 'x:x0', 'positive', '--by', 'mina'], env);
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(/^x:x0: positive \(model said negative\), by mina at \d{4}-/);
    for (let i = 1; i < 6; i++) {
      expect((await runCli(['sentiment', 'correct', `x:x${i}`, 'positive', '--by', 'mina'], env)).code).toBe(
        0,
      );
    }
    const bad = await runCli(['sentiment', 'correct', 'x:nope', 'positive'], env);
    expect(bad).toMatchObject({ code: 1, stderr: 'earshot: no mention x:nope\n' });

    const learned = await runCli(['sentiment', 'learn', '--json'], env);
    expect(learned.stderr).toBe('');
    const result = JSON.parse(learned.stdout) as LearnResult;
    expect(result.layers).toEqual([{ lang: 'en', model: 'en-linear@4+local1', trained: 5, heldOut: 1 }]);
    expect(result.rescore?.rescored).toBe(TEXTS.length + FILLER);

    const table = await runCli(['sentiment', 'eval'], env);
    expect(table.stdout).toContain('en-linear@4+local1');
    expect(table.stdout).toContain('ko: too few corrections');
    const [en] = JSON.parse((await runCli(['sentiment', 'eval', '--json'], env)).stdout) as EvalLanguage[];
    expect(en).toMatchObject({ corrections: 6, heldOut: 1, shipped: { items: 1 }, updated: { items: 1 } });

    const store = await Store.open(db);
    try {
      expect(await store.query('SELECT DISTINCT sentiment_model FROM mention_scores')).toEqual([
        { sentiment_model: 'en-linear@4+local1' },
      ]);
      expect(await store.query('SELECT count(*) AS n FROM sentiment_corrections')).toEqual([{ n: 6 }]);
      // Every stored label is the layered model's, whichever thread scored it (the workers get the
      // layer too): the shipped model alone calls all of these texts negative, the layered one (five
      // corrections) at least a third of them positive.
      const layered = loadSentimentModels(undefined, await newestLayers(store));
      const rows = await store.query(
        "SELECT m.text, s.sentiment FROM mentions m JOIN mention_scores s USING (source, native_id) WHERE m.source = 'bsky'",
      );
      expect(rows).toHaveLength(FILLER);
      const disagree = rows.filter((r) => layered.en.score(String(r.text)).label !== r.sentiment);
      expect(disagree).toEqual([]);
      const shippedDiffers = rows.filter((r) => shipped.en.score(String(r.text)).label !== r.sentiment);
      expect(shippedDiffers.length).toBeGreaterThan(FILLER / 3);
    } finally {
      store.close();
    }
  }, 180_000);

  it('leaves the stdin scorer as it was', async () => {
    const r = await runCli(['sentiment', '--lang', 'en'], env, 60_000, `${TEXTS[0]}\n`);
    const s = shipped.en.score(TEXTS[0] as string);
    // The scorer needs no database: the shipped model answers, whatever layers the database holds.
    expect(r).toMatchObject({ code: 0, stdout: `${s.label}\t${s.score.toFixed(4)}\n` });
  }, 60_000);
});
