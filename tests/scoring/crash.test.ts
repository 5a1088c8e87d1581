import { spawn } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendRows, mentionRow } from '../../pipeline/ingest.js';
import { scoreNew } from '../../pipeline/scoring/score.js';
import { Store, timestamptz } from '../../pipeline/store.js';
import { cliPath, runCli } from '../helpers/cli.js';
import { mentionRecord } from '../helpers/mention.js';
import { tempDir } from '../helpers/store.js';
import { scoringDeps } from './helpers.js';

// Two batches of the CLI's 20,000, so a kill after the first lands while work remains.
const N = 40_000;
const KILLS = 2;
const WORDS =
  'acme 한빛전자가 battery 배터리 recall 리콜 support 서비스 great 최고 slow 느려요 launch 출시'.split(' ');

async function seed(path: string): Promise<void> {
  const store = await Store.open(path);
  const now = timestamptz(new Date('2026-11-21T00:00:00Z'));
  await store.write(async (conn) => {
    await conn.run(`INSERT INTO topics VALUES ('acme', 'Acme', ['acme'], 'acme OR 한빛전자', 'phones', 'user', now()),
      ('recall', 'Recall', ['recall'], 'recall OR 리콜', 'phones', 'user', now())`);
    function* rows() {
      for (let i = 0; i < N; i++) {
        const text = Array.from(
          { length: 6 + (i % 9) },
          (_, k) => WORDS[(i * 7 + k * 3) % WORDS.length],
        ).join(' ');
        yield mentionRow(
          i % 3 === 0 ? 'rss' : 'x',
          'p',
          mentionRecord({
            nativeId: String(i),
            text,
            url: i % 50 === 0 ? `https://news.example/a/${i % 400}?utm_source=${i}` : null,
            authorId: `a${i % 300}`,
            likes: i % 7,
            createdAt: new Date(Date.parse('2026-11-01T00:00:00Z') + i * 17_000),
            repostOf: i % 13 === 0 ? String(i - 1) : null,
          }),
          now,
        );
      }
    }
    await appendRows(conn, 'mentions', rows());
  });
  await store.closeGracefully();
}

describe('SIGKILL during scoring', () => {
  let dir: string;
  let cleanup: () => void;
  let env: NodeJS.ProcessEnv;
  let db: string;
  let reference: string;

  beforeAll(async () => {
    ({ dir, cleanup } = tempDir());
    db = join(dir, 'killed.duckdb');
    reference = join(dir, 'reference.duckdb');
    await seed(db);
    copyFileSync(db, reference);
    const config = join(dir, 'earshot.yaml');
    writeFileSync(config, 'timezone: UTC\n');
    env = { EARSHOT_CONFIG: config, EARSHOT_DB: db, LOG_LEVEL: 'warn' };
  }, 120_000);
  afterAll(() => cleanup());

  it('leaves whole batches only: after resuming, everything equals one uninterrupted run', async () => {
    let kills = 0;
    for (let attempt = 0; attempt < KILLS * 2 && kills < KILLS; attempt++) {
      const child = spawn(process.execPath, [cliPath, 'score'], {
        env: { ...process.env, ...env, LOG_LEVEL: 'debug' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('exit', (_c, sig) => resolve(sig)),
      );
      // Right after a batch commits: the first kill lands in the second batch, the second (with
      // one batch left) between the scores and the tags and rollups.
      let sent = false;
      child.stderr?.on('data', (d: Buffer) => {
        if (!sent && d.toString().includes('scored batch')) {
          sent = true;
          child.kill('SIGKILL');
        }
      });
      if ((await exited) === 'SIGKILL') kills++;
    }
    expect(kills).toBe(KILLS);

    const final = await runCli(['score'], env, 120_000);
    expect(final.code, final.stderr).toBe(0);
    const again = await runCli(['score', '--json'], env, 120_000);
    expect(JSON.parse(again.stdout)).toMatchObject({ scored: 0, copies: 0 });

    const ref = await Store.open(reference);
    await scoreNew(scoringDeps(ref, 'UTC'));
    const killed = await Store.open(db);
    // Order-independent digests of whole tables, compared in SQL rather than row by row in JS.
    const digest = async (s: Store) => {
      const out: Record<string, unknown> = {};
      for (const [table, row] of [
        [
          'mention_scores',
          'hash(source, native_id, lang, lang_origin, sentiment, sentiment_score, sentiment_model, copy_of_source, copy_of_id, canonical_url, text_sig)',
        ],
        ['mention_terms', 'hash(t)'],
        ['mention_topics', 'hash(t)'],
        ['rollup_hourly', 'hash(t)'],
        ['rollup_terms_hourly', 'hash(t)'],
        ['rollup_authors_daily', 'hash(t)'],
      ] as Array<[string, string]>) {
        [out[table]] = await s.query(`SELECT count(*) AS n, sum(${row})::VARCHAR AS h FROM ${table} t`);
      }
      return out;
    };
    const [count] = await killed.query(
      'SELECT count(*) AS n, count(DISTINCT (source, native_id)) AS d FROM mention_scores',
    );
    expect(count).toEqual({ n: N, d: N });
    const expected = await digest(ref);
    expect(Number((expected.mention_terms as { n: number }).n)).toBeGreaterThan(N);
    expect(await digest(killed)).toEqual(expected);
    killed.close();
    ref.close();
  }, 300_000);
});
