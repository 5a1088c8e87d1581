import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectors } from '../../collectors/registry.js';
import { adoptionReport } from '../../pipeline/adoption/report.js';
import { loadConfig } from '../../pipeline/config.js';
import { buildDemo } from '../../pipeline/demo/build.js';
import { isDemo } from '../../pipeline/demo/flag.js';
import { crisisStartOf } from '../../pipeline/demo/mentions.js';
import { Scheduler } from '../../pipeline/scheduler.js';
import { openServices } from '../../pipeline/services.js';
import { Store } from '../../pipeline/store.js';
import { cliPath, runCli } from '../helpers/cli.js';
import { memoryLogger, tempDir } from '../helpers/store.js';

// Building a demo runs the whole pipeline over ~30k mentions: minutes on a busy 2-core machine.
const BUILD_MS = 900_000;
const HOUR = 3_600_000;
const SEED = 42;
// A fixed instant: the generated data (and so the Poisson noise the spike detector sees) depends on
// `now`, and across instants the alerts outside the crisis ranged 9-17 (the bound below is 14.4), so
// a wall-clock `now` made this test pass or fail by the hour it ran. The server test below still
// builds its demo at the real time.
const now = new Date('2026-11-23T12:00:00Z');
const tmp = tempDir('earshot-demo-');
const first = join(tmp.dir, 'first.duckdb');
const second = join(tmp.dir, 'second.duckdb');
// Sources that read internal adoption exports, not public mentions.
const INTERNAL = new Set(['graph-reports', 'slack-analytics', 'chatter']);
// The directory importer stamps employees.updated_at with the wall clock, the one thing not generated.
const FACT_TABLES = [
  'mentions',
  'mention_scores',
  'mention_topics',
  'rollup_hourly',
  'alerts',
  '(SELECT * EXCLUDE (updated_at) FROM employees)',
  'employee_history',
  'activity_daily',
  'interactions',
  'threads',
  'comm_volume_weekly',
];

async function withStore<T>(path: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await Store.open(path);
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

async function digests(path: string): Promise<Record<string, string>> {
  return withStore(path, async (store) => {
    const out: Record<string, string> = {};
    for (const table of FACT_TABLES) {
      const [row] = await store.query(
        `SELECT count(*) || ':' || coalesce(md5(string_agg(t::VARCHAR, '\n' ORDER BY t::VARCHAR)), '') AS d FROM ${table} t`,
      );
      out[table] = String(row?.d);
    }
    return out;
  });
}

beforeAll(async () => {
  const config = loadConfig({ EARSHOT_CONFIG: '', EARSHOT_DB: join(tmp.dir, 'unused.duckdb') });
  const { logger } = memoryLogger('warn');
  await buildDemo({ path: first, seed: SEED, now, config, logger });
  await buildDemo({ path: second, seed: SEED, now, config, logger });
}, BUILD_MS);

afterAll(() => tmp.cleanup());

describe('the demo database', () => {
  it('is the same for the same seed and the same now, and flagged as a demo', async () => {
    const a = await digests(first);
    expect(a).toEqual(await digests(second));
    const mentions = Number(a.mentions?.split(':')[0]);
    expect(Number(a.alerts?.split(':')[0])).toBeGreaterThan(0);
    expect(mentions).toBeGreaterThan(20_000);
    expect(mentions).toBeLessThan(40_000);
    expect(await withStore(first, isDemo)).toBe(true);
    expect(existsSync(`${first}.building.duckdb`)).toBe(false);
  });

  it('has every public source, both languages, reposts, syndicated copies and every topic tagged', async () => {
    const publicSources = [...collectors.keys()].filter((id) => !INTERNAL.has(id)).sort();
    await withStore(first, async (store) => {
      const sources = (await store.query('SELECT DISTINCT source FROM mentions ORDER BY 1')).map(
        (r) => r.source,
      );
      expect(sources).toEqual(publicSources);
      const langs = await store.query(
        `SELECT s.lang, count(DISTINCT m.source) AS sources FROM mentions m JOIN mention_scores s USING (source, native_id)
         GROUP BY 1 ORDER BY 1`,
      );
      expect(langs.filter((l) => Number(l.sources) >= 6).map((l) => l.lang)).toEqual(['en', 'ko']);
      const [kinds] = await store.query(
        `SELECT count(*) FILTER (WHERE m.is_repost) AS reposts, count(s.copy_of_id) AS copies,
           count(*) FILTER (WHERE s.sentiment = 'positive') AS pos, count(*) FILTER (WHERE s.sentiment = 'negative') AS neg
         FROM mentions m JOIN mention_scores s USING (source, native_id)`,
      );
      expect(Number(kinds?.reposts)).toBeGreaterThan(500);
      expect(Number(kinds?.copies)).toBeGreaterThan(200);
      expect(Number(kinds?.pos)).toBeGreaterThan(3000);
      expect(Number(kinds?.neg)).toBeGreaterThan(3000);
      const tagged = await store.query(
        'SELECT topic_id, count(*) AS n FROM mention_topics GROUP BY 1 ORDER BY 1',
      );
      expect(tagged.map((t) => t.topic_id)).toEqual(['brisko', 'kestrum', 'quorix', 'velnora']);
      for (const t of tagged) expect(Number(t.n)).toBeGreaterThan(1000);
      // Korean particles matter: 벨노라가 is tagged, the namesake hotel is not.
      const [korean] = await store.query(
        `SELECT count(*) FILTER (WHERE t.topic_id IS NOT NULL) AS tagged, count(*) AS n FROM mentions m
         LEFT JOIN mention_topics t ON t.source = m.source AND t.native_id = m.native_id AND t.topic_id = 'velnora'
         WHERE m.text LIKE '%벨노라가%' AND m.text NOT LIKE '%호텔%'`,
      );
      expect(Number(korean?.n)).toBeGreaterThan(50);
      expect(korean?.tagged).toBe(korean?.n);
      const [hotel] = await store.query(
        `SELECT count(*) AS n, count(t.topic_id) AS tagged FROM mentions m
         LEFT JOIN mention_topics t ON t.source = m.source AND t.native_id = m.native_id AND t.topic_id = 'velnora'
         WHERE m.text ILIKE '%velnora hotel%' OR m.text LIKE '%벨노라 호텔%'`,
      );
      expect(Number(hotel?.n)).toBeGreaterThan(0);
      expect(Number(hotel?.tagged)).toBe(0);
      const [leaders] = await store.query(
        'SELECT max(followers) AS top, median(followers) AS mid FROM authors',
      );
      expect(Number(leaders?.top)).toBeGreaterThan(100_000);
      expect(Number(leaders?.mid)).toBeLessThan(1_000);
    });
  });

  it('the spike detector caught the crisis, and raised only a few alerts elsewhere', async () => {
    const crisis = crisisStartOf(now).getTime();
    await withStore(first, async (store) => {
      const alerts = (await store.query('SELECT kind, topic_id, window_start, value FROM alerts')).map(
        (a) => ({
          kind: String(a.kind),
          topic: String(a.topic_id),
          at: (a.window_start as Date).getTime(),
          value: Number(a.value),
        }),
      );
      const spike = alerts.find(
        (a) =>
          a.kind === 'volume_spike' && a.topic === 'velnora' && a.at >= crisis && a.at < crisis + 6 * HOUR,
      );
      expect(spike).toBeDefined();
      expect(alerts.some((a) => a.kind === 'negative_surge' && a.topic === 'velnora' && a.at >= crisis)).toBe(
        true,
      );
      // Outside the crisis and its aftermath, ordinary Poisson noise at k = 3: under 1% of the
      // topic-hours judged (15 days of 4 topics: the backfill's last day and everything since),
      // each far smaller than the crisis.
      const elsewhere = alerts.filter((a) => a.at < crisis || a.at >= crisis + 72 * HOUR);
      expect(elsewhere.length).toBeLessThanOrEqual(0.01 * 15 * 24 * 4);
      for (const a of elsewhere) expect(a.value).toBeLessThan((spike?.value ?? 0) / 2);
    });
  });

  it('gives leadership an adoption report with company figures, leaders vs others and departments', async () => {
    await withStore(first, async (store) => {
      const report = await adoptionReport(
        store,
        { timezone: 'Asia/Seoul', minGroupSize: 5 },
        { by: ['department'] },
      );
      expect(report.company.withheld).toBeNull();
      const f = report.company.figures ?? {};
      for (const name of [
        'participation_rate',
        'active_rate',
        'leader_participation_rate',
        'others_participation_rate',
      ]) {
        expect(f[name]?.withheld, name).toBeUndefined();
        expect(f[name]?.value, name).toBeGreaterThan(0.05);
        expect(f[name]?.value, name).toBeLessThan(0.95);
      }
      expect(f.leader_participation_rate?.value).toBeGreaterThan(f.others_participation_rate?.value ?? 1);
      expect(report.groups.filter((g) => g.withheld === null).length).toBeGreaterThanOrEqual(5);
    });
  });
});

describe('a demo database is never used for real collection', () => {
  let db: string;
  let config: string;
  beforeAll(() => {
    db = join(tmp.dir, 'collect.duckdb');
    copyFileSync(first, db);
    config = join(tmp.dir, 'earshot.yaml');
    writeFileSync(
      config,
      'topics: [{id: acme, name: Acme, keywords: [acme]}]\nsources:\n  hackernews: {baseUrl: "http://127.0.0.1:9"}\n',
    );
  });

  it('collect refuses, naming why', async () => {
    const before = await withStore(
      db,
      async (s) => (await s.query('SELECT count(*) AS n FROM collection_runs'))[0],
    );
    const r = await runCli(['collect'], { EARSHOT_CONFIG: config, EARSHOT_DB: db, LOG_LEVEL: 'warn' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is a demo database');
    expect(r.stderr).toContain('collection never writes real data into it');
    const after = await withStore(
      db,
      async (s) => (await s.query('SELECT count(*) AS n FROM collection_runs'))[0],
    );
    expect(after).toEqual(before);
  });

  it('the scheduler refuses to start', async () => {
    const { logger } = memoryLogger('warn');
    const svc = await openServices(
      loadConfig({ EARSHOT_CONFIG: config, EARSHOT_DB: db }),
      logger,
      new AbortController().signal,
    );
    try {
      await expect(new Scheduler(svc).start()).rejects.toThrow(
        /is a demo database.*the scheduler never writes/,
      );
    } finally {
      svc.store.close();
    }
  });

  it('earshot demo names a bad seed', async () => {
    const r = await runCli(['demo', '--seed', 'lots'], {
      EARSHOT_CONFIG: '',
      EARSHOT_DEMO_DB: join(tmp.dir, 'x.duckdb'),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--seed: "lots" is not a whole number');
    expect(existsSync(join(tmp.dir, 'x.duckdb'))).toBe(false);
  });
});

describe('npm start with nothing configured', () => {
  it(
    'answers at once with a starting page, builds the demo on first start and serves it, saying so',
    async () => {
      const path = join(tmp.dir, 'served.duckdb');
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        EARSHOT_CONFIG: '',
        EARSHOT_DEMO_DB: path,
        PORT: '0',
        LOG_LEVEL: 'info',
      };
      delete env.EARSHOT_DB;
      const child: ChildProcess = spawn(process.execPath, [cliPath, 'serve'], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let log = '';
      child.stderr?.on('data', (d: Buffer) => {
        log += d.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      try {
        // The port answers at once, while the demo is still being built: a page that refreshes
        // itself, and 503 + Retry-After from the API.
        let url = '';
        while (!url) {
          if (child.exitCode !== null) throw new Error(`serve exited: ${log}`);
          url = /"url":"(http:[^"]+)"/.exec(log)?.[1] ?? '';
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(existsSync(`${path}.server.json`)).toBe(false);
        const page = await fetch(`${url}/comms`);
        expect(page.status).toBe(503);
        expect(page.headers.get('retry-after')).toBe('3');
        const html = await page.text();
        expect(html).toContain('<meta http-equiv="refresh" content="3">');
        expect(html).toContain('Building the demo database');
        expect((await fetch(`${url}/api/alerts`)).status).toBe(503);
        // The server file appears once the demo is built and the dashboard answers.
        while (!existsSync(`${path}.server.json`)) {
          if (child.exitCode !== null) throw new Error(`serve exited: ${log}`);
          await new Promise((r) => setTimeout(r, 200));
        }
        const info = JSON.parse(readFileSync(`${path}.server.json`, 'utf8')) as {
          url: string;
          token: string;
        };
        const res = await fetch(`${info.url}/api/alerts?topic=velnora`, {
          headers: { authorization: `Bearer ${info.token}` },
        });
        expect(res.status).toBe(200);
        const { alerts } = (await res.json()) as { alerts: { kind: string }[] };
        expect(alerts.some((a) => a.kind === 'volume_spike')).toBe(true);
        expect(info.url).toBe(url.replace('localhost', '127.0.0.1'));
        expect((await fetch(`${url}/comms`)).status).toBe(200);
        expect(log).toContain('building the demo database');
        expect(log).toContain('this is the DEMO');
        expect(log).toContain('create earshot.yaml');
      } finally {
        child.kill('SIGTERM');
        expect(await exited).toBe(0);
      }
      expect(await withStore(path, isDemo)).toBe(true);
      // The demo's import kept no report weeks (it does not warm); the server kept them as it started,
      // though nothing asked it for an adoption report: 12 weeks x (people, company, by department).
      const kept = await withStore(path, (store) =>
        store.query('SELECT count(*) AS n FROM adoption_week_figures'),
      );
      expect(Number(kept[0]?.n)).toBe(12 * 3);
    },
    BUILD_MS,
  );
});
