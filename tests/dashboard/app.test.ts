import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../pipeline/store.js';
import { timestamptz } from '../../pipeline/store.js';
import { startTestApp, TEST_TOKEN, type TestApp } from '../helpers/app.js';
import { openTestStore } from '../helpers/store.js';

const TOKEN = TEST_TOKEN;
let store: Store;
let cleanup: () => void;
let app: TestApp;
let base: string;

beforeAll(async () => {
  ({ store, cleanup } = await openTestStore());
  const t = timestamptz(new Date('2026-11-22T00:00:00Z'));
  await store.write(async (c) => {
    await c.run(
      `INSERT INTO collection_runs (source, partition, started_at, finished_at, status, rows, error) VALUES
       ('naver', 'news:a', $1, $1, 'ok', 5, NULL),
       ('naver', 'news:a', $1, $1, 'error', 0, 'HTTP 500 from openapi.naver.com'),
       ('naver', 'news:a', $1, $1, 'error', 0, '<script>alert(1)</script>')`,
      [t],
    );
  });
  app = await startTestApp({ store, now: () => new Date('2026-11-22T01:00:00Z') });
  base = app.base;
});
afterAll(() => {
  app.close();
  cleanup();
});

describe('HTTP app', () => {
  it('answers GET /api/status with per-source freshness to the local token only', async () => {
    expect((await fetch(`${base}/api/status`)).status).toBe(401);
    const res = await fetch(`${base}/api/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const { sources } = (await res.json()) as { sources: Array<Record<string, unknown>> };
    expect(sources).toEqual([
      expect.objectContaining({
        source: 'naver',
        lastSuccessAt: '2026-11-22T00:00:00.000Z',
        consecutiveFailures: 2,
        lastError: '<script>alert(1)</script>',
      }),
    ]);
  });

  it('serves pages as shells holding no stored text (the browser code fills them with text nodes)', async () => {
    const html = await (await fetch(base)).text();
    expect(html).toContain('<script type="module" src="/assets/main.js"></script>');
    expect(html).not.toContain('alert(1)');
  });

  it('streams a verb as NDJSON and reports bad input with a status', async () => {
    const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const ok = await fetch(`${base}/api/verbs/sql`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ query: 'SELECT 40 + 2 AS n' }),
    });
    const lines = (await ok.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.at(-1)).toMatchObject({ type: 'result', value: { rows: [{ n: 42 }] } });
    const refused = await fetch(`${base}/api/verbs/sql`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ query: 'DROP TABLE mentions' }),
    });
    expect((await refused.text()).trim()).toContain('"status":403');
    const unknown = await fetch(`${base}/api/verbs/format-disk`, {
      method: 'POST',
      headers: auth,
      body: '{}',
    });
    expect(unknown.status).toBe(404);
    const badArgs = await fetch(`${base}/api/verbs/sql`, {
      method: 'POST',
      headers: auth,
      body: '{"query": 5}',
    });
    expect(badArgs.status).toBe(400);
    expect(((await badArgs.json()) as { error: string }).error).toContain('bad arguments for sql');
  });
});

describe('POST /api/import', () => {
  const canonical = (name: string) =>
    readFileSync(join(import.meta.dirname, '../fixtures/adoption/canonical', name));
  const auth = { authorization: `Bearer ${TOKEN}` };

  it('imports one raw file, then a JSON set in one transaction; the same file again changes nothing', async () => {
    const raw = await fetch(`${base}/api/import?kind=auto&name=employees.csv`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/csv' },
      body: canonical('employees.csv'),
    });
    expect(raw.status).toBe(200);
    const first = (await raw.json()) as { files: { file: string; kind: string; duplicate: boolean }[] };
    expect(first.files).toMatchObject([{ file: 'employees.csv', duplicate: false }]);
    const [people] = await store.query('SELECT count(*) AS n FROM employees');
    expect(Number(people?.n)).toBe(12);

    const set = await fetch(`${base}/api/import`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        kind: 'auto',
        files: ['employees.csv', 'activity_daily.csv'].map((name) => ({
          name,
          content: canonical(name).toString('base64'),
        })),
      }),
    });
    expect(set.status).toBe(200);
    const second = (await set.json()) as { files: { file: string; duplicate: boolean }[] };
    expect(second.files.map((f) => [f.file, f.duplicate])).toEqual([
      ['employees.csv', true],
      ['activity_daily.csv', false],
    ]);
  });

  it('refuses without the local token, and names what is wrong with a bad file, writing nothing', async () => {
    const body = canonical('interactions.csv');
    expect((await fetch(`${base}/api/import`, { method: 'POST', body })).status).toBe(401);
    const before = await store.query('SELECT count(*) AS n FROM imports');
    const bad = await fetch(`${base}/api/import?kind=auto&name=broken.csv`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/csv' },
      body: 'no,header,anyone,knows\n1,2,3,4\n',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('broken.csv');
    expect(await store.query('SELECT count(*) AS n FROM imports')).toEqual(before);
  });
});
