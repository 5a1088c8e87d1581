import { existsSync, readdirSync } from 'node:fs';
import { parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../pipeline/audit/log.js';
import { type Store, storeFolders } from '../../pipeline/store.js';
import { startTestApp, TEST_TOKEN, type TestApp } from '../helpers/app.js';
import { openTestStore } from '../helpers/store.js';

let store: Store;
let cleanup: () => void;
let app: TestApp;
const now = new Date('2026-11-23T01:00:00Z');
const headers = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' };

// Cells a spreadsheet would run as formulas, and cells that need quoting.
const TRICKY = [
  '=HYPERLINK("http://evil.example","click")',
  '+1+2',
  '-2+3',
  '@SUM(A1)',
  'a, "quoted" value',
  'two\nlines',
  '한국어 텍스트',
];

beforeAll(async () => {
  ({ store, cleanup } = await openTestStore());
  await store.write(async (c) => {
    // Sign-in tables as the auth migration makes them (only their names matter to the guard).
    await c.run('CREATE TABLE IF NOT EXISTS users (name VARCHAR)');
    await c.run('CREATE TABLE IF NOT EXISTS sessions (token_hash VARCHAR)');
    for (const [i, text] of TRICKY.entries())
      await c.run(`INSERT INTO topics VALUES ($1, $2, ['k'], NULL, NULL, 'config', '2026-11-20T00:00:00Z')`, [
        `t${i}`,
        text,
      ]);
  });
  app = await startTestApp({
    store,
    now: () => now,
    config: { sqlLimits: { maxRows: 50, timeoutMs: 3000 } },
  });
});
afterAll(() => {
  app.close();
  cleanup();
});

async function post(path: string, body: unknown) {
  const res = await fetch(`${app.base}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  return {
    status: res.status,
    res,
    body: res.headers.get('content-type')?.includes('json') ? await res.json() : null,
  };
}

async function stillAnswers(): Promise<void> {
  const r = await post('/api/sql', { query: 'SELECT 42 AS answer' });
  expect(r.status).toBe(200);
  expect(r.body.rows).toEqual([{ answer: 42 }]);
}

/** RFC 4180 reader, enough to prove what the export wrote. */
function readCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  return rows;
}

describe('SQL console', () => {
  it('answers a SELECT with columns, rows and timing, and audits it', async () => {
    const r = await post('/api/sql', { query: "SELECT id, name FROM topics WHERE id = 't6'" });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      columns: ['id', 'name'],
      rows: [{ id: 't6', name: '한국어 텍스트' }],
      truncated: false,
    });
    expect(typeof r.body.elapsedMs).toBe('number');
    const [entry] = await listAudit(store, { action: 'sql.query', limit: 1 });
    expect(entry).toMatchObject({
      actor: 'cli',
      detail: { query: "SELECT id, name FROM topics WHERE id = 't6'", rows: 1 },
    });
  });

  it('needs a signed-in caller', async () => {
    const res = await fetch(`${app.base}/api/sql`, { method: 'POST', body: '{"query":"SELECT 1"}' });
    expect(res.status).toBe(401);
  });

  it.each([
    ["SELECT * FROM read_csv('/etc/passwd')", 400, /disabled by configuration/],
    ["SELECT * FROM read_csv_auto('/etc/hostname')", 400, /disabled by configuration/],
    ["SELECT * FROM read_parquet('/tmp/x.parquet')", 400, /disabled by configuration/],
    ["SELECT * FROM read_json('/etc/passwd')", 400, /disabled by configuration/],
    ["SELECT * FROM glob('/etc/*')", 400, /disabled by configuration/],
    ["SELECT * FROM '/etc/passwd'", 400, /disabled by configuration|does not exist/],
    ["COPY topics TO '/tmp/earshot-stolen.csv'", 403, /only SELECT/],
    ["COPY (SELECT * FROM topics) TO '/tmp/earshot-stolen.csv'", 403, /only SELECT/],
    ["ATTACH '/tmp/other.duckdb' AS other", 403, /only SELECT/],
    ['INSTALL httpfs', 403, /only SELECT/],
    ['LOAD httpfs', 403, /only SELECT/],
    ['SET threads = 1', 403, /only SELECT/],
    ['SET GLOBAL enable_external_access = true', 403, /only SELECT/],
    ['PRAGMA enable_profiling', 403, /only SELECT/],
    ["INSERT INTO meta VALUES ('x', 'y')", 403, /only SELECT/],
    ["UPDATE topics SET name = 'x'", 403, /only SELECT/],
    ['DELETE FROM topics', 403, /only SELECT/],
    ['CREATE TABLE stolen AS SELECT * FROM topics', 403, /only SELECT/],
    ['DROP TABLE topics', 403, /only SELECT/],
    ['SELECT 1; DROP TABLE topics', 400, /exactly one statement/],
    ["SELECT nextval('saved_queries_id')", 403, /sequence/],
    ['SELEC 1', 400, /does not parse/],
    ['SELECT * FROM users', 403, /table users is not open/],
    ["SELECT * FROM query_table('users')", 403, /table users is not open/],
    ["SELECT * FROM query('SELECT * FROM sessions')", 403, /table sessions is not open/],
    ['WITH u AS (SELECT * FROM main.users) SELECT count(*) FROM u', 403, /table users is not open/],
    ['SELECT (SELECT max(action) FROM audit_log) FROM topics', 403, /table audit_log is not open/],
    ['SUMMARIZE users', 403, /table users is not open/],
  ])('refuses %s with a clear message and keeps answering', async (query, status, message) => {
    const r = await post('/api/sql', { query });
    expect(r.status).toBe(status);
    expect(r.body.error).toMatch(message);
    await stillAnswers();
    expect(await store.query('SELECT count(*) AS n FROM topics')).toEqual([{ n: TRICKY.length }]);
    // The newest entry is stillAnswers'; the refusal is the one before it.
    const [latest, refused] = await listAudit(store, { action: 'sql.query', limit: 2 });
    expect(latest?.detail).toMatchObject({ query: 'SELECT 42 AS answer' });
    expect(refused?.detail).toMatchObject({ query, status });
  });

  it('refuses an empty query naming the field', async () => {
    const r = await post('/api/sql', { query: '  ' });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/^query:/);
  });

  it('caps rows and says so', async () => {
    const r = await post('/api/sql', { query: 'SELECT * FROM range(1000) t(n)' });
    expect(r.status).toBe(200);
    expect(r.body.rows).toHaveLength(50);
    expect(r.body.truncated).toBe(true);
  });

  it('stops a runaway query at the time limit and keeps answering', async () => {
    const r = await post('/api/sql', { query: 'SELECT count(*) FROM range(1000000) a, range(1000000) b' });
    expect(r.status).toBe(408);
    expect(r.body.error).toMatch(/ran longer than 3 s and was stopped/);
    await stillAnswers();
  });
});

describe('exports', () => {
  const query = 'SELECT id, name, 2.5 AS x, -3 AS neg FROM topics ORDER BY id';

  it('downloads CSV with quoting and formula cells defused', async () => {
    const r = await post('/api/sql/export?format=csv', { query });
    expect(r.status).toBe(200);
    expect(r.res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(r.res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="?earshot-query-2026-11-23T01-00-00Z\.csv"?$/,
    );
    const rows = readCsv(await r.res.text());
    expect(rows[0]).toEqual(['id', 'name', 'x', 'neg']);
    expect(rows.slice(1).map((row) => row[1])).toEqual([
      `'${TRICKY[0]}`,
      `'${TRICKY[1]}`,
      `'${TRICKY[2]}`,
      `'${TRICKY[3]}`,
      TRICKY[4],
      TRICKY[5],
      TRICKY[6],
    ]);
    expect(rows[1]?.slice(2)).toEqual(['2.5', '-3']);
    const [entry] = await listAudit(store, { action: 'export.sql', limit: 1 });
    expect(entry?.detail).toMatchObject({ query, format: 'csv', rows: TRICKY.length });
  });

  it('streams a result far larger than the console cap', async () => {
    const r = await post('/api/sql/export?format=csv', { query: 'SELECT n FROM range(20000) t(n)' });
    expect(r.status).toBe(200);
    const lines = (await r.res.text()).trimEnd().split('\r\n');
    expect(lines).toHaveLength(20_001);
    expect(lines.at(-1)).toBe('19999');
  });

  it('downloads Parquet written by the server, readable by another reader, and leaves no file', async () => {
    const r = await post('/api/sql/export?format=parquet', { query: `${query} -- trailing comment` });
    expect(r.status).toBe(200);
    expect(r.res.headers.get('content-disposition')).toMatch(/\.parquet"?$/);
    const file = await r.res.arrayBuffer();
    const rows = await parquetReadObjects({ file });
    expect(rows.map((row) => row.name)).toEqual(TRICKY);
    expect(rows[0]).toMatchObject({ id: 't0', neg: -3 });
    expect(Number(rows[0]?.x)).toBe(2.5);
    const exports = storeFolders(store.path).exports;
    expect(existsSync(exports) ? readdirSync(exports) : []).toEqual([]);
    const [entry] = await listAudit(store, { action: 'export.sql', limit: 1 });
    expect(entry?.detail).toMatchObject({ format: 'parquet', rows: TRICKY.length });
  });

  it('refuses what the console refuses, as JSON, not a download', async () => {
    for (const format of ['csv', 'parquet']) {
      const r = await post(`/api/sql/export?format=${format}`, {
        query: "SELECT * FROM read_csv('/etc/passwd')",
      });
      expect(r.status).toBe(400);
      expect(r.res.headers.get('content-disposition')).toBeNull();
      expect(r.body.error).toMatch(/disabled by configuration/);
      const two = await post(`/api/sql/export?format=${format}`, {
        query: "SELECT 1) TO '/tmp/x.csv' (FORMAT csv); --",
      });
      expect(two.status).toBe(400);
    }
    expect(existsSync('/tmp/x.csv')).toBe(false);
    const bad = await post('/api/sql/export?format=xlsx', { query });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/format: "xlsx" is not one of csv, parquet/);
    await stillAnswers();
  });

  it('stops a runaway Parquet export at the time limit', async () => {
    const r = await post('/api/sql/export?format=parquet', {
      query: 'SELECT count(*) FROM range(1000000) a, range(1000000) b',
    });
    expect(r.status).toBe(408);
    const exports = storeFolders(store.path).exports;
    expect(readdirSync(exports)).toEqual([]);
    await stillAnswers();
  });
});

describe('schema and saved queries', () => {
  it('lists tables and views with comments and column types', async () => {
    const res = await fetch(`${app.base}/api/schema`, { headers });
    const schema = (await res.json()) as {
      name: string;
      kind: string;
      comment: string | null;
      columns: { name: string; type: string; comment: string | null }[];
    }[];
    const mentions = schema.find((s) => s.name === 'mentions');
    expect(mentions).toMatchObject({
      kind: 'table',
      comment: expect.stringContaining('attacker-controlled'),
    });
    expect(mentions?.columns.find((c) => c.name === 'created_at')).toMatchObject({
      type: 'TIMESTAMP WITH TIME ZONE',
      comment: expect.stringContaining('UTC'),
    });
    const view = schema.find((s) => s.name === 'analyst_mentions');
    expect(view).toMatchObject({ kind: 'view', comment: expect.stringContaining('corrections win') });
    expect(view?.columns.map((c) => c.name)).toContain('topics');
    expect(schema.map((s) => s.name)).toContain('analyst_adoption_daily');
    expect(schema.map((s) => s.name)).not.toContain('duckdb_tables');
    expect(schema.map((s) => s.name)).not.toContain('users');
    expect(schema.map((s) => s.name)).not.toContain('audit_log');
  });

  it('the documented views answer through the console', async () => {
    for (const view of ['analyst_mentions', 'analyst_adoption_daily', 'analyst_topic_daily']) {
      const r = await post('/api/sql', { query: `SELECT * FROM ${view} LIMIT 1` });
      expect(r.status).toBe(200);
    }
  });

  it('saves, lists and deletes queries; refuses bad names and non-SELECTs', async () => {
    const saved = await post('/api/queries', {
      name: 'Topics by name',
      sql: 'SELECT * FROM topics ORDER BY name',
    });
    expect(saved.status).toBe(201);
    expect(saved.body).toMatchObject({ name: 'Topics by name', createdBy: 'cli' });
    expect((await post('/api/queries', { name: 'Topics by name', sql: 'SELECT 1' })).status).toBe(409);
    const bad = await post('/api/queries', { name: 'bad\u0007name', sql: 'SELECT 1' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/^name:/);
    const write = await post('/api/queries', { name: 'Wipe', sql: 'DELETE FROM topics' });
    expect(write.status).toBe(403);
    const list = (await (await fetch(`${app.base}/api/queries`, { headers })).json()) as {
      id: number;
      name: string;
    }[];
    expect(list.map((q) => q.name)).toEqual(['Topics by name']);
    const del = await fetch(`${app.base}/api/queries/${saved.body.id}`, { method: 'DELETE', headers });
    expect(del.status).toBe(204);
    const again = await fetch(`${app.base}/api/queries/${saved.body.id}`, { method: 'DELETE', headers });
    expect(again.status).toBe(404);
  });
});
