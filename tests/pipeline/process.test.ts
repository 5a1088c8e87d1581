import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../pipeline/store.js';
import { runCli, type Served, startServe } from '../helpers/cli.js';
import { hnSearch, syntheticHits } from '../helpers/fake-hn.js';
import { type Loopback, startLoopback } from '../helpers/loopback.js';
import { tempDir } from '../helpers/store.js';

// A credential that must never be seen anywhere but in the request it authenticates.
const SECRET = 'naver-secret-value-6f1d2a9c';

describe('one owner process', () => {
  let api: Loopback;
  let dir: string;
  let cleanup: () => void;
  let env: NodeJS.ProcessEnv;
  let db: string;
  let served: Served;
  const outputs: string[] = [];

  beforeAll(async () => {
    ({ dir, cleanup } = tempDir());
    api = await startLoopback((req) =>
      req.url.pathname.startsWith('/v1/search/')
        ? { status: 401, body: '{"errorMessage":"Authentication failed.","errorCode":"024"}' }
        : hnSearch(syntheticHits(25))(req),
    );
    db = join(dir, 'e.duckdb');
    const config = join(dir, 'earshot.yaml');
    writeFileSync(
      config,
      `topics:
  - id: acme
    name: Acme
    keywords: [acme]
sources:
  hackernews:
    baseUrl: ${api.url}
    schedule: "0 0 1 1 *"
    hitsPerPage: 10
  naver:
    baseUrl: ${api.url}
    schedule: "0 0 1 1 *"
    clientId: {secret: NAVER_CLIENT_ID}
    clientSecret: {secret: NAVER_CLIENT_SECRET}
`,
    );
    env = {
      EARSHOT_CONFIG: config,
      EARSHOT_DB: db,
      PORT: '0',
      LOG_LEVEL: 'debug',
      NAVER_CLIENT_ID: 'naver-client-id-1234',
      NAVER_CLIENT_SECRET: SECRET,
    };
    served = await startServe(env, db);
  });
  afterAll(async () => {
    if (served.child.exitCode === null) served.child.kill('SIGKILL');
    await api.close();
    cleanup();
  });

  it('writes the local token readable by its owner only', () => {
    expect(statSync(`${db}.server.json`).mode & 0o777).toBe(0o600);
  });

  it('runs collect, status and sql through the server while it holds the file', async () => {
    const collected = await runCli(['collect', 'hackernews'], env);
    outputs.push(collected.stdout, collected.stderr);
    expect(collected.stderr).not.toMatch(/lock|in use/i);
    expect(collected.code).toBe(0);
    expect(collected.stdout).toMatch(/hackernews\s+acme\s+ok\s+25\s+25/);

    const status = await runCli(['status', '--json'], env);
    outputs.push(status.stdout, status.stderr);
    expect(status.code).toBe(0);
    const hn = (JSON.parse(status.stdout) as Array<{ source: string; mentions: number }>).find(
      (s) => s.source === 'hackernews',
    );
    expect(hn?.mentions).toBe(25);

    const sql = await runCli(['sql', 'SELECT count(*) AS n FROM mentions', '--format', 'csv'], env);
    expect(sql.stdout).toBe('n\n25\n');
    const write = await runCli(['sql', 'DELETE FROM mentions'], env);
    expect(write.code).toBe(1);
    expect(write.stderr).toContain('only SELECT');
  });

  it('records a failing source without stopping the others, and never shows its secret', async () => {
    const collected = await runCli(['collect'], env);
    outputs.push(collected.stdout, collected.stderr);
    expect(collected.code).toBe(1);
    expect(collected.stdout).toMatch(/naver\s+\S+\s+error/);
    expect(collected.stdout).toMatch(/hackernews\s+acme\s+ok/);
    const status = await runCli(['status'], env);
    outputs.push(status.stdout, status.stderr);
    expect(status.stdout).toMatch(/naver .* 1 /);
    const checked = await runCli(['check'], env);
    outputs.push(checked.stdout, checked.stderr);
    expect(checked.code).toBe(1);
    expect(checked.stdout).toContain('hackernews\tok');
    expect(checked.stdout).toMatch(/naver\tFAILED: .*(refused|401|024)/);
  });

  it('refuses API calls without the local token', async () => {
    const info = JSON.parse(readFileSync(`${db}.server.json`, 'utf8')) as { url: string };
    const res = await fetch(`${info.url}/api/verbs/status`, { method: 'POST' });
    expect(res.status).toBe(401);
  });

  it('stops cleanly on SIGTERM within 10 s, then commands open the file themselves', async () => {
    const { code, ms } = await served.stop('SIGTERM');
    outputs.push(served.stderr());
    expect(code).toBe(0);
    expect(ms).toBeLessThan(10_000);
    const status = await runCli(['status', '--json'], env);
    outputs.push(status.stdout, status.stderr);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).length).toBe(2);
  });

  it('never lets the secret reach logs, outputs or the database', async () => {
    expect(outputs.join('\n')).not.toContain(SECRET);
    expect(outputs.join('\n').length).toBeGreaterThan(100);
    const store = await Store.open(db);
    const tables = await store.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'",
    );
    for (const { table_name } of tables) {
      const rows = await store.query(`SELECT * FROM "${String(table_name)}"`);
      expect(JSON.stringify(rows), String(table_name)).not.toContain(SECRET);
    }
    store.close();
  });
});

describe('npm start with nothing configured', () => {
  it('comes up on loopback, says what to configure, and stops cleanly', async () => {
    const { dir, cleanup } = tempDir();
    const db = join(dir, 'fresh.duckdb');
    const served = await startServe({ EARSHOT_CONFIG: '', EARSHOT_DB: db, PORT: '0', LOG_LEVEL: 'info' }, db);
    try {
      const info = JSON.parse(readFileSync(`${db}.server.json`, 'utf8')) as { url: string };
      expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await (await fetch(`${info.url}/api/health`)).json()).toEqual({ ok: true, configured: false });
      const page = await fetch(info.url);
      expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
      // The page is the dashboard's shell; what to configure is said in the log.
      expect(await page.text()).toContain('/assets/main.js');
      expect(served.stderr()).toContain('nothing is configured yet');
    } finally {
      const { code } = await served.stop('SIGINT');
      expect(code).toBe(0);
      cleanup();
    }
  });
});

describe('SIGTERM in the middle of a collection', () => {
  it('ends the run cleanly, exits 0 within 10 s, and the next run completes without loss', async () => {
    const { dir, cleanup } = tempDir();
    const hits = syntheticHits(300);
    const search = hnSearch(hits);
    const api = await startLoopback(async (req) => {
      await new Promise((r) => setTimeout(r, 40));
      return search(req);
    });
    const db = join(dir, 'term.duckdb');
    const config = join(dir, 'earshot.yaml');
    writeFileSync(
      config,
      `topics: [{id: acme, name: Acme, keywords: [acme]}]
sources:
  hackernews: {baseUrl: "${api.url}", schedule: "0 0 1 1 *", hitsPerPage: 5}
`,
    );
    const env = { EARSHOT_CONFIG: config, EARSHOT_DB: db, PORT: '0', LOG_LEVEL: 'info' };
    try {
      const served = await startServe(env, db);
      const collecting = runCli(['collect', 'hackernews'], env);
      // SIGTERM only once the server is collecting and has stored some of it.
      const info = JSON.parse(readFileSync(`${db}.server.json`, 'utf8')) as { url: string; token: string };
      for (let i = 0; i < 200; i++) {
        const res = await fetch(`${info.url}/api/status`, {
          headers: { authorization: `Bearer ${info.token}` },
        });
        const { sources } = (await res.json()) as { sources: Array<{ running: boolean; mentions: number }> };
        if (sources[0]?.running && (sources[0]?.mentions ?? 0) > 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const { code, ms } = await served.stop('SIGTERM');
      expect(code).toBe(0);
      expect(ms).toBeLessThan(10_000);
      expect((await collecting).code).not.toBe(0);
      const again = await runCli(['collect', 'hackernews'], env);
      expect(again.code, again.stderr).toBe(0);
      const store = await Store.open(db);
      expect(await store.query('SELECT count(*) AS n, count(DISTINCT native_id) AS d FROM mentions')).toEqual(
        [{ n: 300, d: 300 }],
      );
      const statuses = (await store.query('SELECT status FROM collection_runs ORDER BY id')).map(
        (r) => r.status,
      );
      expect(statuses).toEqual(['aborted', 'ok']);
      store.close();
    } finally {
      await api.close();
      cleanup();
    }
  });
});
