import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/config.js';
import { silentLogger } from '../../pipeline/logger.js';
import { runReadOnlyQuery } from '../../pipeline/sql-guard.js';
import type { Store } from '../../pipeline/store.js';
import { SourceLocks, sql } from '../../pipeline/verbs.js';
import { openTestStore } from '../helpers/store.js';

let store: Store;
let cleanup: () => void;
beforeEach(async () => {
  ({ store, cleanup } = await openTestStore());
  await store.write((c) => c.run("INSERT INTO meta VALUES ('k', 'v')"));
});
afterEach(() => cleanup());

describe('read-only SQL', () => {
  it('earshot sql keeps the configured row cap (sqlConsole.maxRows), like the console', async () => {
    const config = {
      ...loadConfig({ EARSHOT_DB: ':memory:', EARSHOT_CONFIG: '' }),
      sqlLimits: { maxRows: 2, timeoutMs: 5_000 },
    };
    const svc = {
      config,
      store,
      logger: silentLogger,
      fetch,
      now: () => new Date(),
      sleep: async () => undefined,
      signal: new AbortController().signal,
      locks: new SourceLocks(),
    };
    const r = await sql(svc, { query: 'SELECT * FROM range(5)' });
    expect(r.rows).toHaveLength(2);
    expect(r.truncated).toBe(true);
  });

  it('answers a SELECT with columns and plain values', async () => {
    const r = await runReadOnlyQuery(store, 'SELECT key, value, 2::BIGINT AS n FROM meta');
    expect(r.columns).toEqual(['key', 'value', 'n']);
    expect(r.rows).toEqual([{ key: 'k', value: 'v', n: 2 }]);
    expect(r.truncated).toBe(false);
  });

  it.each([
    ['DELETE FROM meta', /only SELECT/],
    ["INSERT INTO meta VALUES ('x', 'y')", /only SELECT/],
    ['DROP TABLE meta', /only SELECT/],
    ["COPY meta TO '/tmp/out.csv'", /only SELECT|disabled by configuration/],
    ["ATTACH '/tmp/other.duckdb'", /only SELECT/],
    ['SET threads = 1', /only SELECT/],
    ['INSTALL httpfs', /only SELECT/],
    ['SELECT 1; DELETE FROM meta', /exactly one statement/],
    ["SELECT * FROM read_csv('/etc/passwd')", /disabled by configuration/],
    ["SELECT nextval('quarantine_id')", /sequence/],
    ['SELEC 1', /does not parse/],
  ])('refuses %s', async (sql, message) => {
    await expect(runReadOnlyQuery(store, sql)).rejects.toThrow(message);
    expect(await store.query('SELECT count(*) AS n FROM meta')).toEqual([{ n: 1 }]);
  });

  it('caps rows', async () => {
    const r = await runReadOnlyQuery(store, 'SELECT * FROM range(100)', { maxRows: 10, timeoutMs: 5000 });
    expect(r.rows).toHaveLength(10);
    expect(r.truncated).toBe(true);
  });

  it('interrupts a query that runs past the time limit', async () => {
    const started = Date.now();
    await expect(
      runReadOnlyQuery(store, 'SELECT count(*) FROM range(100000000000) a', { maxRows: 10, timeoutMs: 200 }),
    ).rejects.toThrow(/ran longer than/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
