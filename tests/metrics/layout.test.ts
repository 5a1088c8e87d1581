/**
 * The storage layout of migration 013: a database written before it (term index without times, no
 * per-mention rollup) converts to exactly what the scoring stage writes now, and the rollup refresh
 * rewrites a table in its (key, time) order once it has doubled.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrationsDir } from '../../pipeline/paths.js';
import { refreshRollups } from '../../pipeline/scoring/rollups.js';
import type { Store } from '../../pipeline/store.js';
import { openTestStore } from '../helpers/store.js';
import { loadFixture } from './fixture.js';

let cleanup: (() => void) | null = null;
afterEach(() => {
  cleanup?.();
  cleanup = null;
});

async function open(): Promise<Store> {
  const opened = await openTestStore();
  cleanup = opened.cleanup;
  return opened.store;
}

const rows = (store: Store, table: string) => store.query(`SELECT * FROM ${table} ORDER BY ALL`);

describe('migration 013', () => {
  it('converts a database written before it to what scoring and the refresh write now', async () => {
    const store = await open();
    await loadFixture(store);
    const terms = await rows(store, 'mention_terms');
    const perMention = await rows(store, 'rollup_mentions');
    const hourly = await rows(store, 'rollup_hourly');
    expect(terms.length).toBeGreaterThan(0);
    expect(perMention.length).toBeGreaterThan(0);
    // Back to the layout of migrations 005 and 012: terms without times, keyed rollups, no
    // per-mention rollup.
    await store.write(async (conn) => {
      await conn.run(`CREATE TABLE old_terms AS SELECT term, source, native_id FROM mention_terms;
        DROP TABLE mention_terms;
        CREATE TABLE mention_terms (term VARCHAR NOT NULL, source VARCHAR NOT NULL, native_id VARCHAR NOT NULL);
        INSERT INTO mention_terms SELECT * FROM old_terms;
        DROP TABLE old_terms;
        CREATE TABLE old_hourly AS SELECT * FROM rollup_hourly;
        DROP TABLE rollup_hourly;
        CREATE TABLE rollup_hourly (topic_id VARCHAR NOT NULL, hour_start TIMESTAMPTZ NOT NULL,
          source VARCHAR NOT NULL, lang VARCHAR NOT NULL, sentiment VARCHAR NOT NULL, mentions BIGINT NOT NULL,
          reposts BIGINT NOT NULL, copies BIGINT NOT NULL, engagement BIGINT NOT NULL, reach BIGINT NOT NULL,
          PRIMARY KEY (topic_id, hour_start, source, lang, sentiment));
        INSERT INTO rollup_hourly SELECT * FROM old_hourly;
        DROP TABLE old_hourly;
        DROP TABLE rollup_mentions;
        DELETE FROM meta WHERE key LIKE 'compacted:%'`);
    });
    const sql = readFileSync(join(migrationsDir, '013_dash.sql'), 'utf8');
    await store.write((conn) => conn.run(sql));
    expect(await rows(store, 'mention_terms')).toEqual(terms);
    expect(await rows(store, 'rollup_mentions')).toEqual(perMention);
    expect(await rows(store, 'rollup_hourly')).toEqual(hourly);
    const [keyed] = await store.query(
      "SELECT count(*) AS n FROM duckdb_constraints() WHERE table_name = 'rollup_hourly' AND constraint_type = 'PRIMARY KEY'",
    );
    expect(Number(keyed?.n)).toBe(0);
    // Tables this small are below the compaction floor: nothing to remember about them.
    expect(await store.query("SELECT key FROM meta WHERE key LIKE 'compacted:%'")).toEqual([]);
  });
});

describe('compaction', () => {
  // Rewritten in one transaction, and in one of a few terms each (97 terms of about 6,200 rows).
  it.each([
    ['at once', undefined],
    ['in slices', { sliceMentions: 1_000_000, compactRows: 50_000 }],
  ])(
    'rewrites the term index in (term, time) order once it has doubled, keeping every row (%s)',
    async (_, limits) => {
      const store = await open();
      await refreshRollups(store, 'Asia/Seoul');
      // 600,000 index rows (past the floor below which order does not matter), appended in time
      // order with the terms interleaved, as scoring batches append them.
      await store.write((conn) =>
        conn.run(`INSERT INTO mention_terms
        SELECT 'term' || (i % 97), 'x', 'n' || i, TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds(i)
        FROM range(600000) t(i)`),
      );
      const fingerprint =
        'SELECT count(*) AS n, sum(hash(term, source, native_id, created_at)) AS h FROM mention_terms';
      const [before] = await store.query(fingerprint);
      const disorder = `SELECT count(*) AS n FROM (
        SELECT term, created_at, lag(term) OVER (ORDER BY rowid) AS pt, lag(created_at) OVER (ORDER BY rowid) AS pc
        FROM mention_terms) WHERE pt > term OR (pt = term AND pc > created_at)`;
      expect(Number((await store.query(disorder))[0]?.n)).toBeGreaterThan(0);
      // Compacted at 400,000 rows: 600,000 is not yet double, so nothing moves.
      await store.write((conn) =>
        conn.run("INSERT OR REPLACE INTO meta VALUES ('compacted:mention_terms', '400000')"),
      );
      await refreshRollups(store, 'Asia/Seoul');
      expect(Number((await store.query(disorder))[0]?.n)).toBeGreaterThan(0);
      await store.write((conn) =>
        conn.run("INSERT OR REPLACE INTO meta VALUES ('compacted:mention_terms', '300000')"),
      );
      await refreshRollups(store, 'Asia/Seoul', limits);
      expect(Number((await store.query(disorder))[0]?.n)).toBe(0);
      expect(await store.query(fingerprint)).toEqual([before]);
      const [meta] = await store.query("SELECT value FROM meta WHERE key = 'compacted:mention_terms'");
      expect(meta?.value).toBe('600000');
    },
  );
});
