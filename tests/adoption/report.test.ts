import { readdirSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../collectors/runner.js';
import { createApp } from '../../dashboard/app.js';
import type { AdoptionReport } from '../../pipeline/adoption/report.js';
import { loadConfig } from '../../pipeline/config.js';
import type { Store } from '../../pipeline/store.js';
import { SourceLocks } from '../../pipeline/verbs.js';
import { runCli, type Served, startServe } from '../helpers/cli.js';
import { memoryLogger, tempDir } from '../helpers/store.js';
import { adoptionFixtures } from '../imports/helpers.js';
import { openCanonical } from './helpers.js';

// The built CLI, as a user runs it: `npm test` builds first. Each test spawns a few processes,
// which on a busy machine take longer than the default 30 s.
describe('earshot report adoption', { timeout: 120_000 }, () => {
  let dir: string;
  let cleanup: () => void;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    ({ dir, cleanup } = tempDir());
    writeFileSync(join(dir, 'earshot.yaml'), 'timezone: Asia/Seoul\n');
    env = { EARSHOT_DB: join(dir, 'e.duckdb'), EARSHOT_CONFIG: join(dir, 'earshot.yaml'), PORT: '0' };
    const canonical = join(adoptionFixtures, 'canonical');
    const files = readdirSync(canonical).map((f) => join(canonical, f));
    const r = await runCli(['import', 'auto', ...files], env);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(() => cleanup());

  it('prints JSON with the figures and the sentences', async () => {
    const r = await runCli(['report', 'adoption', '--window', '28d', '--by', 'department'], env);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as AdoptionReport & { sentences: { topic: string; text: string }[] };
    expect(json.window).toMatchObject({ start: '2026-03-14', end: '2026-04-10', timeZone: 'Asia/Seoul' });
    // 6 of the 12 contributed in the window (see metrics.test.ts).
    expect(json.company.figures?.participation_rate?.value).toBe(0.5);
    expect(json.sentences[0]?.text).toBe(
      'Participation is 50%, above both the SWOOP average (27%) and the recommended target (38%).',
    );
    expect(json.groups.map((g) => g.key.department)).toEqual(['Executive', 'HR', 'R&D', 'Sales']);
  });

  it('prints CSV and a self-contained HTML page in Korean', async () => {
    const csv = await runCli(['report', 'adoption', '--format', 'csv', '--as-of', '2026-04-10'], env);
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe('section,group,week,metric,value,low,high,grain,source,withheld,text');
    expect(lines).toContain('metrics,(company),,participation_rate,0.5,,,daily,activity_daily,,');

    const html = await runCli(['report', 'adoption', '--format', 'html', '--lang', 'ko'], env);
    expect(html.code, html.stderr).toBe(0);
    expect(html.stdout).toMatch(/^<!doctype html>/);
    expect(html.stdout).toContain('<html lang="ko">');
    expect(html.stdout).toContain('참여율은 50%로 SWOOP 평균(27%)과 권장 목표(38%)를 모두 넘습니다.');
    expect(html.stdout).toContain('size: A4');
    // Nothing to fetch: no scripts, links or external URLs.
    expect(html.stdout).not.toMatch(/<script|<link|src=|https?:\/\//);
  });

  it('names a bad option', async () => {
    const window = await runCli(['report', 'adoption', '--window', 'month'], env);
    expect(window.code).toBe(1);
    expect(window.stderr).toContain('--window: "month" is not a number of days');
    const by = await runCli(['report', 'adoption', '--by', 'team'], env);
    expect(by.stderr).toContain('by: "team" is not one of department, location, level');
    const day = await runCli(['report', 'adoption', '--as-of', '2026-02-30'], env);
    expect(day.stderr).toContain('as-of: "2026-02-30" is not a day');
  });

  it('works through a running server', async () => {
    let served: Served | undefined;
    try {
      served = await startServe(env, String(env.EARSHOT_DB));
      const r = await runCli(['report', 'adoption', '--format', 'csv'], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('metrics,(company),,participation_rate,0.5,,,daily,activity_daily,,');
    } finally {
      await served?.stop();
    }
  });
});

describe('GET /api/adoption', () => {
  const TOKEN = 'local-token-for-tests-0123456789';
  let store: Store;
  let cleanup: () => void;
  let server: Server;
  let base: string;
  const get = (path: string, token: string | null = TOKEN) =>
    fetch(`${base}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

  beforeAll(async () => {
    ({ store, cleanup } = await openCanonical());
    const { logger } = memoryLogger();
    const config = { ...loadConfig({ EARSHOT_DB: ':memory:', EARSHOT_CONFIG: '' }), timezone: 'Asia/Seoul' };
    const app = createApp({
      services: {
        config,
        store,
        logger,
        fetch,
        now: () => new Date('2026-04-20T00:00:00Z'),
        sleep,
        signal: new AbortController().signal,
        locks: new SourceLocks(),
      },
      logger,
      getLocalToken: () => TOKEN,
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.close();
    cleanup();
  });

  it('answers the local token only', async () => {
    expect((await get('/api/adoption/summary', null)).status).toBe(401);
    expect((await get('/api/adoption/summary', 'wrong')).status).toBe(401);
  });

  it('summary: the company figures and sentences in the asked language', async () => {
    const res = await get('/api/adoption/summary?lang=ko');
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      window: { end: string };
      sentences: { text: string }[];
      benchmark: object;
    };
    expect(body.window.end).toBe('2026-04-10');
    expect(body.benchmark).toEqual({ swoopAverage: 0.27, target: 0.38 });
    expect(body.sentences[0]?.text).toContain('참여율은 50%');
  });

  it('groups, ties, responsiveness, personas, trend and email-meetings, privacy applied', async () => {
    const groups = (await (await get('/api/adoption/groups?by=department')).json()) as {
      groups: { key: Record<string, string>; withheld: string | null; eligible?: number }[];
    };
    expect(groups.groups.find((g) => g.key.department === 'Sales')).toEqual({
      key: { department: 'Sales' },
      withheld: 'small',
    });
    expect(groups.groups.find((g) => g.key.department === 'R&D')?.eligible).toBe(5);

    const ties = (await (await get('/api/adoption/ties')).json()) as {
      groups: { figures: Record<string, { value: number }> }[];
    };
    // Only tie figures, e.g. reciprocity 3 of 6 pairs (metrics.test.ts); no participation.
    expect(ties.groups[0]?.figures.reciprocity?.value).toBe(0.5);
    expect(ties.groups[0]?.figures.participation_rate).toBeUndefined();

    const personas = (await (await get('/api/adoption/personas')).json()) as {
      groups: { figures: Record<string, unknown> }[];
    };
    expect(Object.keys(personas.groups[0]?.figures ?? {}).every((k) => k.startsWith('persona_'))).toBe(true);

    const resp = (await (await get('/api/adoption/responsiveness?window=54d')).json()) as {
      groups: { figures: Record<string, { value: number }> }[];
    };
    expect(resp.groups[0]?.figures.questions?.value).toBe(13);

    const trend = (await (await get('/api/adoption/trend')).json()) as { trend: { weeks: unknown[] }[] };
    expect(trend.trend[0]?.weeks).toHaveLength(7);

    const em = (await (await get('/api/adoption/email-meetings')).json()) as {
      emailMeetings: { rollout: string }[];
    };
    expect(em.emailMeetings[0]?.rollout).toBe('2026-02-16');
  });

  it('names a bad section, window or dimension', async () => {
    expect((await get('/api/adoption/people')).status).toBe(404);
    const window = await get('/api/adoption/summary?window=soon');
    expect(window.status).toBe(400);
    expect(((await window.json()) as { error: string }).error).toContain('window');
    const by = await get('/api/adoption/groups?by=name');
    expect(by.status).toBe(400);
  });
});
