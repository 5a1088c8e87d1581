import { readdirSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFiles } from '../../collectors/imports/write.js';
import { saveUpload } from '../../dashboard/upload.js';
import type { Store } from '../../pipeline/store.js';
import { startTestApp, TEST_TOKEN, type TestApp } from '../helpers/app.js';
import { openTestStore } from '../helpers/store.js';
import { adoptionFixtures, counts, fixture, importAt, NOW } from './helpers.js';

let store: Store;
let dir: string;
let cleanup: () => void;
let app: TestApp;
beforeAll(async () => {
  ({ store, dir, cleanup } = await openTestStore());
  await importAt(store, 'employees', [fixture('canonical/employees.csv')]);
  app = await startTestApp({ store, now: () => NOW, config: { databasePath: join(dir, 'test.duckdb') } });
});
afterAll(() => {
  app.close();
  cleanup();
});

const uploads = () => readdirSync(dir).filter((f) => f.startsWith('.earshot-upload-'));

/** Resolves once `ready()` holds, checked on every turn of the event loop (no fixed sleep). */
async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((r) => setImmediate(r));
}

describe('POST /api/import with a raw body', () => {
  it('streams the file to a private temp file and imports what a CLI import of the file does', async () => {
    const path = join(adoptionFixtures, 'canonical', 'activity_daily.csv');
    const res = await fetch(`${app.base}/api/import?kind=auto&name=activity_daily.csv`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'text/csv' },
      body: new Uint8Array(fixture('canonical/activity_daily.csv').content),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      files: [{ file: 'activity_daily.csv', kind: 'activity-daily', duplicate: false }],
    });
    expect(uploads()).toEqual([]);
    // The local CLI's way: the file read from its path.
    const cli = await openTestStore();
    try {
      await importAt(cli.store, 'employees', [fixture('canonical/employees.csv')]);
      await importFiles(cli.store, { kind: 'auto', files: [{ name: 'activity_daily.csv', path }], now: NOW });
      const sql = 'SELECT * EXCLUDE (import_id) FROM activity_daily ORDER BY ALL';
      const posted = await store.query(sql);
      expect(posted.length).toBe(380);
      expect(posted).toEqual(await cli.store.query(sql));
      const imports = 'SELECT file_name, kind, content_hash, rows::VARCHAR AS rows FROM imports ORDER BY ALL';
      expect(await store.query(imports)).toEqual(await cli.store.query(imports));
    } finally {
      cli.cleanup();
    }
  });

  it('leaves no temp file and writes nothing when the client goes away mid-upload', async () => {
    const before = await counts(store);
    const body = fixture('canonical/interactions.csv').content;
    const req = request(`${app.base}/api/import?kind=auto&name=interactions.csv`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TEST_TOKEN}`,
        'content-type': 'text/csv',
        'content-length': String(body.length * 10),
      },
    });
    req.on('error', () => {});
    req.write(body);
    // The upload has begun (its file exists, the first bytes written) before the client goes.
    await until(() => uploads().some((f) => statSync(join(dir, f)).size === body.length));
    const [file] = uploads();
    expect(statSync(join(dir, String(file))).mode & 0o777).toBe(0o600);
    req.destroy();
    await until(() => uploads().length === 0);
    expect(await counts(store)).toEqual(before);
  });

  it('refuses a body over the limit with 413, keeping no file', async () => {
    const body = Readable.from([Buffer.alloc(600), Buffer.alloc(600)]);
    await expect(saveUpload(body, dir, 1000)).rejects.toMatchObject({ status: 413 });
    expect(uploads()).toEqual([]);
  });
});
