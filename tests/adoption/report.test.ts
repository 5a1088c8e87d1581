import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdoptionReport } from '../../pipeline/adoption/report.js';
import type { Store } from '../../pipeline/store.js';
import { startTestApp, TEST_TOKEN, type TestApp } from '../helpers/app.js';
import { runCli, type Served, startServe } from '../helpers/cli.js';
import { tempDir } from '../helpers/store.js';
import { adoptionFixtures } from '../imports/helpers.js';
import { openCanonical } from './helpers.js';

// The built CLI, as a user runs it: `npm test` builds first. Each test spawns a few processes,
// which on a busy machine take longer than the default 30 s.
describe('earshot report adoption', { timeout: 120_000 }, () => {
  let dir: string;
  let cleanup: () => void;
  let env: NodeJS.ProcessEnv;
  // A child process imports every canonical file: past the default 30 s hook limit on a busy host.
  beforeAll(async () => {
    ({ dir, cleanup } = tempDir());
    writeFileSync(join(dir, 'earshot.yaml'), 'timezone: Asia/Seoul\n');
    env = { EARSHOT_DB: join(dir, 'e.duckdb'), EARSHOT_CONFIG: join(dir, 'earshot.yaml'), PORT: '0' };
    const canonical = join(adoptionFixtures, 'canonical');
    const files = readdirSync(canonical).map((f) => join(canonical, f));
    const r = await runCli(['import', 'auto', ...files], env);
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);
  afterAll(() => cleanup());

  it('prints JSON with the figures and the sentences: leadership by default, analyst on request', async () => {
    type Json = AdoptionReport & { sentences: { topic: string; text: string }[] };
    const args = ['report', 'adoption', '--window', '28d', '--by', 'department'];
    const lead = await runCli(args, env);
    expect(lead.code, lead.stderr).toBe(0);
    const l = JSON.parse(lead.stdout) as Json;
    expect(l.audience).toBe('leadership');
    // On 12 people the privacy plan withholds the company too (privacy.test.ts).
    expect(l.company).toEqual({ key: {}, withheld: 'complementary' });
    expect(l.sentences[0]?.text).toMatch(/^Company-wide figures are withheld for privacy/);
    expect(l.groups.find((g) => g.key.department === 'Sales')).toEqual({
      key: { department: 'Sales' },
      withheld: 'small',
    });

    const r = await runCli([...args, '--audience', 'analyst'], env);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as Json;
    expect(json.audience).toBe('analyst');
    expect(json.window).toMatchObject({ start: '2026-03-14', end: '2026-04-10', timeZone: 'Asia/Seoul' });
    // 6 of the 12 contributed in the window (see metrics.test.ts).
    expect(json.company.figures?.participation_rate?.value).toBe(0.5);
    expect(json.sentences.map((s) => s.topic).slice(0, 2)).toEqual(['audience', 'participation']);
    expect(json.sentences[1]?.text).toBe(
      'Participation is 50%, above both the SWOOP average (27%) and the recommended target (38%).',
    );
    expect(json.groups.map((g) => [g.key.department, g.eligible])).toEqual([
      ['Executive', 1],
      ['HR', 2],
      ['R&D', 5],
      ['Sales', 4],
    ]);
  });

  it('prints CSV and a self-contained HTML page in Korean', async () => {
    const csv = await runCli(
      ['report', 'adoption', '--format', 'csv', '--as-of', '2026-04-10', '--audience', 'analyst'],
      env,
    );
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe('section,group,week,metric,value,low,high,grain,source,withheld,text');
    expect(lines).toContain('metrics,(company),,participation_rate,0.5,,,daily,activity_daily,,');
    const lead = await runCli(['report', 'adoption', '--format', 'csv'], env);
    expect(lead.stdout.trim().split('\n')).toContain('metrics,(company),,*,,,,,,complementary,');

    const html = await runCli(
      ['report', 'adoption', '--format', 'html', '--lang', 'ko', '--audience', 'analyst'],
      env,
    );
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
    const audience = await runCli(['report', 'adoption', '--audience', 'everyone'], env);
    expect(audience.code).not.toBe(0);
    expect(audience.stderr).toMatch(/'everyone' is invalid.*leadership, analyst/);
  });

  it('works through a running server', async () => {
    let served: Served | undefined;
    try {
      served = await startServe(env, String(env.EARSHOT_DB));
      // The verb goes through the server, which serves the analyst report to the CLI: its caller
      // holds the database (and the sql verb) anyway.
      const r = await runCli(['report', 'adoption', '--format', 'csv', '--audience', 'analyst'], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('metrics,(company),,participation_rate,0.5,,,daily,activity_daily,,');
      const lead = await runCli(['report', 'adoption', '--format', 'csv'], env);
      expect(lead.code, lead.stderr).toBe(0);
      expect(lead.stdout).toContain('metrics,(company),,*,,,,,,complementary,');
    } finally {
      await served?.stop();
    }
  });
});

describe('GET /api/adoption', () => {
  const TOKEN = TEST_TOKEN;
  let store: Store;
  let cleanup: () => void;
  let app: TestApp;
  let base: string;
  const get = (path: string, token: string | null = TOKEN) =>
    fetch(`${base}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

  beforeAll(async () => {
    ({ store, cleanup } = await openCanonical());
    app = await startTestApp({
      store,
      now: () => new Date('2026-04-20T00:00:00Z'),
      config: { timezone: 'Asia/Seoul' },
    });
    base = app.base;
  });
  afterAll(() => {
    app.close();
    cleanup();
  });

  it('answers the local token only', async () => {
    expect((await get('/api/adoption/summary', null)).status).toBe(401);
    expect((await get('/api/adoption/summary', 'wrong')).status).toBe(401);
  });

  it('summary: the company as leadership sees it, sentences in the asked language', async () => {
    const res = await get('/api/adoption/summary?lang=ko');
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      audience: string;
      window: { end: string };
      company: unknown;
      sentences: { text: string }[];
      benchmark: object;
    };
    expect(body.audience).toBe('leadership');
    expect(body.window.end).toBe('2026-04-10');
    expect(body.benchmark).toEqual({ swoopAverage: 0.27, target: 0.38 });
    // 12 people: the company is withheld (privacy.test.ts), and the sentence says why.
    expect(body.company).toEqual({ key: {}, withheld: 'complementary' });
    expect(body.sentences.map((s) => s.text)).toEqual([
      '전사 수치는 공개된 집단별 수치와 함께 보면 5명 미만 집단이 드러날 수 있어 개인정보 보호를 위해 공개하지 않습니다.',
    ]);
  });

  it('serves the analyst audience to the local token (admin); refuses unknown audiences', async () => {
    const res = await get('/api/adoption/summary?audience=analyst');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { audience: string }).audience).toBe('analyst');
    expect((await get('/api/adoption/groups?audience=everyone')).status).toBe(400);
    expect((await get('/api/adoption/groups?audience=leadership')).status).toBe(200);
  });

  it('groups, ties, responsiveness, personas, trend and email-meetings, privacy applied', async () => {
    type Groups = {
      groups: {
        key: Record<string, string>;
        withheld: string | null;
        eligible?: number;
        figures?: Record<string, { value: number | null; withheld?: string }>;
      }[];
    };
    const groups = (await (await get('/api/adoption/groups?by=department')).json()) as Groups;
    expect(groups.groups.map((g) => [g.key.department ?? '(company)', g.withheld])).toEqual([
      ['(company)', 'complementary'],
      ['Executive', 'small'],
      ['HR', 'small'],
      ['R&D', 'complementary'],
      ['Sales', 'small'],
    ]);
    expect(JSON.stringify(groups)).not.toContain('eligible');

    // By level the 8 ICs are published: the sections below read them.
    const ic = (body: Groups) => body.groups.find((g) => g.key.level === 'IC');
    const ties = (await (await get('/api/adoption/ties?by=level')).json()) as Groups;
    // Only tie figures; no participation.
    expect(ic(ties)?.figures?.interactions?.value).toEqual(expect.any(Number));
    expect(ic(ties)?.figures?.participation_rate).toBeUndefined();

    const personas = (await (await get('/api/adoption/personas?by=level')).json()) as Groups;
    const names = Object.keys(ic(personas)?.figures ?? {});
    expect(names.length).toBe(6);
    expect(names.every((k) => k.startsWith('persona_'))).toBe(true);

    // The ICs' questions over 54 days come from E008 and E009 alone: withheld, fewer than 5 askers.
    const resp = (await (await get('/api/adoption/responsiveness?window=54d&by=level')).json()) as Groups;
    expect(ic(resp)?.figures?.questions).toMatchObject({ value: null, withheld: 'small' });

    const trend = (await (await get('/api/adoption/trend?by=level')).json()) as {
      trend: { key: Record<string, string>; withheld: string | null; weeks?: unknown[] }[];
    };
    expect(trend.trend.find((t) => Object.keys(t.key).length === 0)).toEqual({
      key: {},
      withheld: 'complementary',
    });
    expect(trend.trend.find((t) => t.key.level === 'IC')?.weeks).toHaveLength(7);

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

  it('computes the report once per data version: a later write is reflected at once', async () => {
    const analyst = async () =>
      (await (await get('/api/adoption/summary?audience=analyst')).json()) as {
        company: { figures: { participation_rate: { value: number } } };
      };
    const before = await analyst();
    expect(await analyst()).toEqual(before);
    // One person's activity is gone; the next answer must see it.
    await store.write((conn) =>
      conn.run('DELETE FROM activity_daily WHERE user_key = (SELECT min(user_key) FROM activity_daily)'),
    );
    const after = await analyst();
    expect(after.company.figures.participation_rate.value).not.toBe(
      before.company.figures.participation_rate.value,
    );
  });
});
