import { afterEach, describe, expect, it } from 'vitest';
import { graphReports } from '../../collectors/graph-reports.js';
import { CONCEALED_HELP } from '../../collectors/imports/contract.js';
import { collectSource } from '../../collectors/runner.js';
import { Secret } from '../../pipeline/secrets.js';
import { ACCESS_TOKEN, CLIENT_SECRET, type FakeGraph, graphHandler, TENANT } from '../helpers/fake-graph.js';
import { json } from '../helpers/loopback.js';
import { databaseText, type SourceHarness, sourceHarness, testDeps } from '../helpers/runner.js';

// Today for the fake clock; with the default lag of 2 days the newest day pulled is 04-12.
const START = new Date('2026-04-14T07:00:00Z');

let h: SourceHarness;
afterEach(async () => h?.close());

async function open(settings: Record<string, unknown> = {}, state: Partial<FakeGraph> = {}) {
  const fake: FakeGraph = { concealedFrom: '9999-12-31', faults: [], ...state };
  let url = '';
  h = await sourceHarness({
    id: 'graph-reports',
    start: START,
    handler: graphHandler(fake, () => url),
    settings: () => ({ tenant: TENANT, clientId: 'app-1234', clientSecret: CLIENT_SECRET, ...settings }),
  });
  url = h.server.url;
  return fake;
}

const daily = async (platform: string) =>
  (
    await h.store.query(
      `SELECT strftime(activity_date, '%Y-%m-%d') AS day, count(*)::INT AS users, sum(posts)::INT AS posts,
         sum(channel_messages)::INT AS channel
       FROM activity_daily WHERE platform = $1 GROUP BY ALL ORDER BY day`,
      [platform],
    )
  ).map((r) => ({ ...r }));

describe('collector graph-reports', () => {
  it('gets a token, follows the 302 without the bearer token and imports each day as daily grain', async () => {
    await open({ reports: ['getYammerActivityUserDetail'], backfillDays: 3 });
    const results = await h.run();
    expect(results).toMatchObject([{ partition: 'getYammerActivityUserDetail', status: 'ok', error: null }]);

    const token = h.server.requests.filter((r) => r.url.pathname.endsWith('/token'));
    expect(token).toHaveLength(1);
    const form = new URLSearchParams(token[0]?.body);
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'client_credentials',
      client_id: 'app-1234',
      client_secret: CLIENT_SECRET.reveal(),
      scope: 'https://graph.microsoft.com/.default',
    });
    const api = h.server.requests.filter((r) => r.url.pathname.startsWith('/v1.0/'));
    const downloads = h.server.requests.filter((r) => r.url.pathname.startsWith('/download/'));
    // Days 04-10..04-12: today (04-14) minus the 2-day lag, three days back.
    expect(api.map((r) => decodeURIComponent(r.url.pathname))).toEqual([
      '/v1.0/reports/getYammerActivityUserDetail(date=2026-04-10)',
      '/v1.0/reports/getYammerActivityUserDetail(date=2026-04-11)',
      '/v1.0/reports/getYammerActivityUserDetail(date=2026-04-12)',
    ]);
    for (const r of api) expect(r.headers.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
    expect(downloads).toHaveLength(3);
    for (const r of downloads) expect(r.headers.authorization).toBeUndefined();

    // 04-10 and 04-11 are complete on 04-14 (8 users, Posted Count = day of the month); 04-12 still lags
    // (2 users, 1 each).
    expect(await daily('viva_engage')).toEqual([
      { day: '2026-04-10', users: 8, posts: 80, channel: null },
      { day: '2026-04-11', users: 8, posts: 88, channel: null },
      { day: '2026-04-12', users: 2, posts: 2, channel: null },
    ]);
    // The refresh date column (04-12) is not the day the rows belong to.
    expect(await h.store.query('SELECT count(*)::INT AS n FROM activity_period')).toEqual([{ n: 0 }]);
    const [bookmark] = await h.store.query("SELECT state FROM bookmarks WHERE source = 'graph-reports'");
    expect(JSON.parse(String(bookmark?.state))).toEqual({ lastDay: '2026-04-12' });
    const [run] = await h.store.query('SELECT rows::INT AS rows, status FROM collection_runs');
    expect(run).toEqual({ rows: 18, status: 'ok' });
  });

  it('pulls the lagging days again the next day: the import replaces them, identical files are skipped', async () => {
    await open({ reports: ['getYammerActivityUserDetail'], backfillDays: 3 });
    await h.run();
    h.clock.advance(86_400_000); // 04-15: 04-12 is now complete, 04-13 appears
    const second = await h.run();
    expect(second[0]).toMatchObject({ status: 'ok' });
    // Re-pulled from 04-09 (3 days before the bookmark's 04-12) to 04-13; 04-12 went from 2 rows to 8.
    expect(await daily('viva_engage')).toEqual([
      { day: '2026-04-09', users: 8, posts: 72, channel: null },
      { day: '2026-04-10', users: 8, posts: 80, channel: null },
      { day: '2026-04-11', users: 8, posts: 88, channel: null },
      { day: '2026-04-12', users: 8, posts: 96, channel: null },
      { day: '2026-04-13', users: 2, posts: 2, channel: null },
    ]);
    // Replaced, not added: one row per (platform, day, user), 8 + 8 + 8 + 8 + 2.
    expect((await h.store.query('SELECT count(*)::INT AS n FROM activity_daily'))[0]?.n).toBe(34);
    // A third run the same day gets the same bytes for every day: each file is skipped.
    const imports = (await h.store.query('SELECT count(*)::INT AS n FROM imports'))[0]?.n;
    const third = await h.run();
    expect(third[0]).toMatchObject({ status: 'ok', rows: 0 });
    expect((await h.store.query('SELECT count(*)::INT AS n FROM imports'))[0]?.n).toBe(imports);
    expect((await h.store.query('SELECT count(*)::INT AS n FROM activity_daily'))[0]?.n).toBe(34);
  });

  it('reads Teams and groups reports on the same contract, one partition each', async () => {
    await open({ lagDays: 3, backfillDays: 1 });
    const results = await h.run();
    expect(results.map((r) => [r.partition, r.status])).toEqual([
      ['getYammerActivityUserDetail', 'ok'],
      ['getYammerGroupsActivityDetail', 'ok'],
      ['getTeamsUserActivityUserDetail', 'ok'],
    ]);
    // 04-11 is complete on 04-14: 6 Teams users, Post Messages 10+0+0+0+45+5, Team Chat Message Count 11 each.
    expect(await daily('teams')).toEqual([{ day: '2026-04-11', users: 6, posts: 60, channel: 66 }]);
    const groups = await h.store.query(
      "SELECT period_days, strftime(period_end, '%Y-%m-%d') AS day, count(*)::INT AS n, sum(posts)::INT AS posts FROM group_activity_period GROUP BY ALL",
    );
    expect(groups).toEqual([{ period_days: 1, day: '2026-04-11', n: 4, posts: 44 }]);
  });

  it("pulls period='D7' reports as period grain", async () => {
    await open({ reports: ['getYammerActivityUserDetail'], period: 'D7' });
    const results = await h.run();
    expect(results[0]).toMatchObject({ status: 'ok', rows: 8 });
    const api = h.server.requests.filter((r) => r.url.pathname.startsWith('/v1.0/'));
    expect(api.map((r) => decodeURIComponent(r.url.pathname))).toEqual([
      "/v1.0/reports/getYammerActivityUserDetail(period='D7')",
    ]);
    const rows = await h.store.query(
      "SELECT period_days, strftime(period_end, '%Y-%m-%d') AS d, count(*)::INT AS n FROM activity_period GROUP BY ALL",
    );
    expect(rows).toEqual([{ period_days: 7, d: '2026-04-14', n: 8 }]);
    expect((await h.run())[0]).toMatchObject({ status: 'ok', rows: 0 });
  });

  it('refuses concealed names with the file import message and writes nothing', async () => {
    await open(
      { reports: ['getYammerActivityUserDetail'], backfillDays: 2 },
      { concealedFrom: '2000-01-01' },
    );
    const [result] = await h.run();
    expect(result?.status).toBe('error');
    expect(result?.error).toContain(CONCEALED_HELP);
    expect(result?.error).toMatch(
      /^getYammerActivityUserDetail\(date=2026-04-11\)\.csv:2 column "User Principal Name"/,
    );
    for (const t of ['activity_daily', 'activity_period', 'imports', 'bookmarks'])
      expect((await h.store.query(`SELECT count(*)::INT AS n FROM ${t}`))[0]?.n, t).toBe(0);
    const [run] = await h.store.query('SELECT status, error FROM collection_runs');
    expect(run?.status).toBe('error');
    expect(String(run?.error)).toContain('Display concealed user, group, and site names');
  });

  it('keeps the days before a concealed one, each with its bookmark, and stops there', async () => {
    await open(
      { reports: ['getYammerActivityUserDetail'], backfillDays: 3 },
      { concealedFrom: '2026-04-12' },
    );
    const [result] = await h.run();
    expect(result).toMatchObject({ status: 'error', rows: 16 });
    expect((await daily('viva_engage')).map((d) => d.day)).toEqual(['2026-04-10', '2026-04-11']);
    const [bookmark] = await h.store.query('SELECT state FROM bookmarks');
    expect(JSON.parse(String(bookmark?.state))).toEqual({ lastDay: '2026-04-11' });
    expect((await h.store.query('SELECT count(*)::INT AS n FROM imports'))[0]?.n).toBe(2);
  });

  it('waits out a 429 with Retry-After and ends with every day', async () => {
    const fake = await open({ reports: ['getYammerActivityUserDetail'], backfillDays: 2 });
    fake.faults.push({ status: 429, headers: { 'retry-after': '30' }, body: '' });
    const [result] = await h.run();
    expect(result).toMatchObject({ status: 'ok' });
    expect(h.clock.sleeps.some((ms) => ms >= 30_000)).toBe(true);
    expect((await daily('viva_engage')).map((d) => d.day)).toEqual(['2026-04-11', '2026-04-12']);
  });

  it('loses nothing and counts nothing twice when a run stops between days', async () => {
    await open({ reports: ['getYammerActivityUserDetail'], backfillDays: 3 });
    const controller = new AbortController();
    const first = await collectSource(
      h.source,
      testDeps(h.store, h.clock, {
        logger: h.mem.logger,
        signal: controller.signal,
        onProgress: (e) => {
          if (e.status === 'running' && e.rows > 0) controller.abort(new Error('simulated crash'));
        },
      }).deps,
    );
    expect(first[0]?.status).toBe('aborted');
    const partial = await daily('viva_engage');
    expect(partial.map((d) => d.day)).toEqual(['2026-04-10']);
    const [bookmark] = await h.store.query('SELECT state FROM bookmarks');
    expect(JSON.parse(String(bookmark?.state))).toEqual({ lastDay: '2026-04-10' });
    await h.run();
    expect(await daily('viva_engage')).toEqual([
      // Resumed from the bookmark's 04-10 minus the re-pull window: 04-07 on, 04-10 replaced in place.
      { day: '2026-04-07', users: 8, posts: 56, channel: null },
      { day: '2026-04-08', users: 8, posts: 64, channel: null },
      { day: '2026-04-09', users: 8, posts: 72, channel: null },
      { day: '2026-04-10', users: 8, posts: 80, channel: null },
      { day: '2026-04-11', users: 8, posts: 88, channel: null },
      { day: '2026-04-12', users: 2, posts: 2, channel: null },
    ]);
  });

  it('keeps the client secret and the access token out of the database and the logs', async () => {
    await open({ reports: ['getYammerActivityUserDetail'], backfillDays: 1 });
    await h.run();
    const text = await databaseText(h.store);
    const logs = h.mem.lines.join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [CLIENT_SECRET.reveal(), ACCESS_TOKEN]) {
      expect(text).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
  });

  it('says which credential is wrong and which permission is missing', async () => {
    const fake = await open({ reports: ['getYammerActivityUserDetail'] });
    expect(await graphReports.check(h.source.settings as never, h.ctx)).toEqual({ ok: true });
    // One cheap request: the redirect is enough, the report is not downloaded.
    expect(h.server.requests.filter((r) => r.url.pathname.startsWith('/download/'))).toEqual([]);
    fake.faults.push({ status: 403, ...json({ error: { code: 'Forbidden' } }) });
    const forbidden = await graphReports.check(h.source.settings as never, h.ctx);
    expect(forbidden.ok ? '' : forbidden.reason).toMatch(
      /needs the Reports\.Read\.All application permission/,
    );
    const bad = graphReports.configSchema.parse({
      tenant: TENANT,
      clientId: 'app-1234',
      clientSecret: new Secret('GRAPH_OTHER', 'not-the-secret-value'),
    });
    const refused = await graphReports.check(bad, h.ctx);
    expect(refused).toMatchObject({ ok: false });
    expect(refused.ok ? '' : refused.reason).toMatch(
      /refused the client credentials \(HTTP 401.*invalid_client/,
    );
  });

  it('names the bad field of a config', () => {
    const parsed = graphReports.configSchema.safeParse({
      tenant: 'https://login.microsoftonline.com/x',
      clientId: 'app',
      clientSecret: 'plain-text-secret',
      reports: ['getYammerActivityUserDetail', 'getOneDriveUsage'],
    });
    expect(parsed.success).toBe(false);
    const fields = parsed.error?.issues.map((i) => i.path.join('.'));
    expect(fields).toEqual(['tenant', 'clientSecret', 'reports.1']);
  });
});
