import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../pipeline/errors.js';
import { runReadOnlyQuery } from '../../pipeline/sql-guard.js';
import { type Store, storeFolders } from '../../pipeline/store.js';
import { databaseText } from '../helpers/runner.js';
import { openTestStore, tempDir } from '../helpers/store.js';
import { options, runs, settleAsync, timeoutFor } from './runs.js';

// A file outside earshot's folders, holding a marker that must never come back in a result or an
// error. (Its own imports/exports/backups folders are open to the console by design.)
const MARKER = 'FUZZ-CANARY-7f3a';
const outside = tempDir('earshot-fuzz-outside-');
const canary = join(outside.dir, 'canary.csv');

let store: Store;
let cleanup: () => void;
let dir: string;

beforeAll(async () => {
  writeFileSync(canary, `secret\n${MARKER}\n`);
  ({ store, cleanup, dir } = await openTestStore());
  mkdirSync(storeFolders(store.path).exports, { recursive: true });
  await store.write(async (c) => {
    await c.run("INSERT INTO meta VALUES ('k', 'v')");
    await c.run(
      `INSERT INTO quarantine (source, partition, url, raw, error, received_at)
       VALUES ('x', 'p', NULL, 'raw', 'err', now())`,
    );
  });
});
afterAll(() => {
  cleanup();
  outside.cleanup();
});

const settings = () =>
  store.query(`SELECT name, value FROM duckdb_settings() WHERE name NOT IN ('temp_directory') ORDER BY name`);

const files = (): string[] => readdirSync(dir, { recursive: true }).map(String).sort();

/** Statements that would write, read a file, change a setting or leave the database if let through. */
const attacks = (paths: string[]) => [
  'DELETE FROM meta',
  "INSERT INTO meta VALUES ('x', 'y')",
  "UPDATE meta SET value = 'w'",
  'DROP TABLE meta',
  'TRUNCATE meta',
  'CREATE TABLE evil AS SELECT 1',
  'CREATE MACRO evil() AS 1',
  'CREATE SEQUENCE evil',
  'ALTER TABLE meta ADD COLUMN evil INT',
  "COPY meta TO 'out.csv'",
  `COPY meta TO '${dir}/exports/out.csv'`,
  `EXPORT DATABASE '${dir}/exports/dump'`,
  "ATTACH ':memory:' AS evil",
  'DETACH evil',
  'USE evil',
  'SET threads = 1',
  'SET GLOBAL enable_external_access = true',
  'RESET allowed_directories',
  "PRAGMA enable_profiling = 'json'",
  'PRAGMA disable_checkpoint_on_shutdown',
  'CHECKPOINT',
  'VACUUM',
  'INSTALL httpfs',
  'LOAD httpfs',
  'BEGIN TRANSACTION',
  'COMMIT',
  "CALL pragma_table_info('meta')",
  "SELECT nextval('quarantine_id')",
  "SELECT setval('quarantine_id', 1)",
  'WITH d AS (DELETE FROM meta RETURNING *) SELECT * FROM d',
  "SELECT * FROM meta; INSERT INTO meta VALUES ('x', 'y')",
  'SELECT 1; SET threads = 1',
  'EXPLAIN ANALYZE DELETE FROM meta',
  ...paths.flatMap((p) => [
    `SELECT * FROM read_csv('${p}')`,
    `SELECT * FROM read_text('${p}')`,
    `SELECT * FROM read_blob('${p}')`,
    `SELECT * FROM '${p}'`,
    `SELECT * FROM glob('${p}')`,
    `SELECT * FROM read_json_auto('${p}')`,
    `SELECT * FROM sniff_csv('${p}')`,
    `SELECT * FROM parquet_scan('${p}')`,
  ]),
];

const SELECTS = [
  'SELECT 1',
  'SELECT key, value FROM meta',
  'SELECT count(*) FROM mentions',
  'SELECT * FROM quarantine',
  'select source, error from quarantine where id > 0',
  "SELECT current_setting('threads')",
  'SELECT * FROM range(5)',
  'WITH t AS (SELECT 2 AS n) SELECT n * 2 FROM t',
  'SELECT * FROM duckdb_tables()',
  "SELECT 'DELETE FROM meta' AS not_a_statement",
  'SELECT 1 -- ; DROP TABLE meta',
];

const NOISE = [
  ' ',
  '\n',
  ';',
  ';;',
  '--',
  '/*',
  '*/',
  "'",
  '"',
  '(',
  ')',
  ',',
  'SELECT',
  'FROM',
  'WHERE',
  '\u0000',
];

let statements: string[] = [];
const statement = fc.oneof(
  fc.nat().map((i) => statements[i % statements.length] as string),
  fc.constantFrom(...SELECTS),
);

/** One SQL-ish string: a statement, two glued, one with noise spliced in, or random characters. */
const sqlish = fc.oneof(
  statement,
  fc.tuple(statement, fc.constantFrom(';', '; ', ';\n', ' '), statement).map(([a, sep, b]) => a + sep + b),
  fc
    .tuple(statement, fc.nat(), fc.array(fc.constantFrom(...NOISE), { maxLength: 3 }))
    .map(([s, at, noise]) => s.slice(0, at % (s.length + 1)) + noise.join('') + s.slice(at % (s.length + 1))),
  statement.map((s) => s.toLowerCase()),
  statement.map((s) => `/* c */ ${s} -- trailing`),
  fc.string({ unit: 'binary', maxLength: 80 }),
);

describe('SQL console guard (fuzz)', () => {
  const n = runs(300);
  it(
    'either refuses with a clear message or runs one read-only SELECT: nothing written, no file read, no setting changed',
    async () => {
      statements = attacks([canary, `${outside.dir}/*`, '/etc/passwd', '~/.ssh/id_rsa']);
      const before = await databaseText(store);
      const settingsBefore = await settings();
      const filesBefore = files();
      await fc.assert(
        fc.asyncProperty(sqlish, async (sql) => {
          const outcome = await settleAsync('runReadOnlyQuery', () =>
            runReadOnlyQuery(store, sql, { maxRows: 100, timeoutMs: 1000 }),
          );
          if (outcome.ok) {
            expect(JSON.stringify(outcome.value.rows)).not.toContain(MARKER);
          } else {
            expect(outcome.error).toBeInstanceOf(UserError);
            expect((outcome.error as UserError).message.trim()).not.toBe('');
            expect((outcome.error as UserError).message).not.toContain(MARKER);
          }
          // Cheap checks every case; the whole database is compared once at the end.
          expect(await store.query('SELECT * FROM meta')).toEqual([{ key: 'k', value: 'v' }]);
          expect(files()).toEqual(filesBefore);
        }),
        options(n, 50),
      );
      expect(await databaseText(store)).toBe(before);
      expect(await settings()).toEqual(settingsBefore);
    },
    timeoutFor(n, 50),
  );
});

// Found by the property above: EXPORT DATABASE was refused, but preparing it to learn its type had
// already created its folder.
it('refuses EXPORT DATABASE before DuckDB creates anything (regression)', async () => {
  const filesBefore = files();
  await expect(runReadOnlyQuery(store, `/* c */ EXPORT DATABASE '${dir}/exports/dump2'`)).rejects.toThrow(
    /only SELECT/,
  );
  expect(files()).toEqual(filesBefore);
});
