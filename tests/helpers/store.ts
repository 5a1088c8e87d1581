import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../pipeline/logger.js';
import { Store } from '../../pipeline/store.js';

/** A temp folder removed by `cleanup`. */
export function tempDir(prefix = 'earshot-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A real DuckDB file in a temp folder with the migrations applied. */
export async function openTestStore(): Promise<{
  store: Store;
  path: string;
  dir: string;
  cleanup: () => void;
}> {
  const tmp = tempDir();
  const path = join(tmp.dir, 'test.duckdb');
  const store = await Store.open(path);
  return {
    store,
    path,
    dir: tmp.dir,
    cleanup: () => {
      store.close();
      tmp.cleanup();
    },
  };
}

/** A logger whose JSON lines are kept in memory, to assert on (and to prove secrets never reach it). */
export function memoryLogger(level = 'debug'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createLogger(level, sink), lines };
}

/** The base tables of schema main, by name. */
export async function baseTables(store: Store): Promise<string[]> {
  const rows = await store.query(
    `SELECT table_name FROM information_schema.tables
     WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY 1`,
  );
  return rows.map((r) => String(r.table_name));
}

/**
 * A fingerprint of `tables`, in one query: row count and the sum of the rows' hashes (a sum, not
 * a hash of the sorted rows: strings with NUL characters do not sort the same way every time).
 */
export async function tablesFingerprint(store: Store, tables: readonly string[]): Promise<string> {
  const parts = tables.map(
    (t) =>
      `SELECT '${t}' AS t, count(*) AS n, coalesce(sum(hash(x::VARCHAR)::HUGEINT), 0)::VARCHAR AS h FROM "${t}" x`,
  );
  return JSON.stringify(await store.query(parts.join(' UNION ALL ')));
}
