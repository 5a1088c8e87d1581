import { afterEach, describe, expect, it } from 'vitest';
import { collectSource } from '../../collectors/runner.js';
import { slackAnalytics } from '../../collectors/slack-analytics.js';
import { type FakeSlack, slackHandler, TOKEN } from '../helpers/fake-slack.js';
import { json } from '../helpers/loopback.js';
import { databaseText, type SourceHarness, sourceHarness, testDeps } from '../helpers/runner.js';

const START = new Date('2026-04-18T03:00:00Z');

/** Slack writes a day's file by 06:00 UTC the next day in this fake. */
const byMorning = (day: string, now: Date) =>
  Date.parse(`${day}T00:00:00Z`) + 30 * 3_600_000 <= now.getTime();

let h: SourceHarness;
afterEach(async () => h?.close());

async function open(settings: Record<string, unknown> = {}, state: Partial<FakeSlack> = {}) {
  const fake: FakeSlack = { ready: () => true, faults: [], ...state };
  h = await sourceHarness({
    id: 'slack-analytics',
    start: START,
    handler: slackHandler(fake),
    settings: () => ({ token: TOKEN, ...settings }),
  });
  return fake;
}

const days = async () =>
  (
    await h.store.query(
      `SELECT strftime(activity_date, '%Y-%m-%d') AS day, count(*)::INT AS users, sum(posts)::INT AS posts
       FROM activity_daily WHERE platform = 'slack' GROUP BY ALL ORDER BY day`,
    )
  ).map((r) => ({ ...r }));
const bookmark = async () =>
  JSON.parse(String((await h.store.query('SELECT state FROM bookmarks'))[0]?.state ?? 'null'));
const getFileCalls = () => h.server.requests.filter((r) => r.url.pathname === '/api/admin.analytics.getFile');

describe('collector slack-analytics', () => {
  it('imports the gzip NDJSON member file of each day since the bookmark', async () => {
    await open({ backfillDays: 3 });
    const [result] = await h.run();
    expect(result).toMatchObject({ partition: 'member', status: 'ok', error: null, rows: 9 });
    expect(getFileCalls().map((r) => r.url.searchParams.get('date'))).toEqual([
      '2026-04-15',
      '2026-04-16',
      '2026-04-17',
    ]);
    // 3 members a day, messages_posted_count 9 + 0 + 14.
    expect(await days()).toEqual([
      { day: '2026-04-15', users: 3, posts: 23 },
      { day: '2026-04-16', users: 3, posts: 23 },
      { day: '2026-04-17', users: 3, posts: 23 },
    ]);
    const keys = await h.store.query('SELECT DISTINCT user_key FROM activity_daily ORDER BY 1');
    expect(keys.map((k) => k.user_key)).toEqual([
      'user01@example.com',
      'user03@example.com',
      'user05@example.com',
    ]);
    expect(await bookmark()).toEqual({ lastDay: '2026-04-17' });
    // A second run the same day has nothing new to ask for.
    const calls = getFileCalls().length;
    expect((await h.run())[0]).toMatchObject({ status: 'ok', rows: 0 });
    expect(getFileCalls().length).toBe(calls);
  });

  it('takes file_not_yet_available as "ask again later": the run succeeds and the day comes next run', async () => {
    await open({ backfillDays: 2 }, { ready: byMorning });
    const [first] = await h.run();
    // 04-17's file is written by 06:00 on 04-18; it is 03:00.
    expect(first).toMatchObject({ status: 'ok', error: null, rows: 3 });
    expect((await days()).map((d) => d.day)).toEqual(['2026-04-16']);
    expect(await bookmark()).toEqual({ lastDay: '2026-04-16' });
    expect(h.mem.lines.join('\n')).toContain('not yet available');
    h.clock.advance(4 * 3_600_000);
    const [second] = await h.run();
    expect(second).toMatchObject({ status: 'ok', rows: 3 });
    expect(getFileCalls().map((r) => r.url.searchParams.get('date'))).toEqual([
      '2026-04-16',
      '2026-04-17',
      '2026-04-17',
    ]);
    expect(await days()).toEqual([
      { day: '2026-04-16', users: 3, posts: 23 },
      { day: '2026-04-17', users: 3, posts: 23 },
    ]);
    expect(await bookmark()).toEqual({ lastDay: '2026-04-17' });
  });

  it('fails with a clear message on invalid_auth and writes nothing', async () => {
    await open({}, { error: 'invalid_auth' });
    const [result] = await h.run();
    expect(result?.status).toBe('error');
    expect(result?.error).toBe(
      'Slack admin.analytics.getFile refused: invalid_auth (the token is not valid; check the secret)',
    );
    for (const t of ['activity_daily', 'imports', 'bookmarks'])
      expect((await h.store.query(`SELECT count(*)::INT AS n FROM ${t}`))[0]?.n, t).toBe(0);
    expect(await slackAnalytics.check(h.source.settings as never, h.ctx)).toEqual({
      ok: false,
      reason: 'Slack auth.test refused: invalid_auth (the token is not valid; check the secret)',
    });
  });

  it('waits out a 429 with Retry-After', async () => {
    const fake = await open({ backfillDays: 1 });
    fake.faults.push({
      status: 429,
      headers: { 'retry-after': '20' },
      ...json({ ok: false, error: 'ratelimited' }),
    });
    const [result] = await h.run();
    expect(result).toMatchObject({ status: 'ok', rows: 3 });
    expect(h.clock.sleeps.some((ms) => ms >= 20_000)).toBe(true);
  });

  it('loses nothing and counts nothing twice when a run stops between days', async () => {
    await open({ backfillDays: 3 });
    const controller = new AbortController();
    const [first] = await collectSource(
      h.source,
      testDeps(h.store, h.clock, {
        logger: h.mem.logger,
        signal: controller.signal,
        onProgress: (e) => {
          if (e.status === 'running' && e.rows > 0) controller.abort(new Error('simulated crash'));
        },
      }).deps,
    );
    expect(first?.status).toBe('aborted');
    expect((await days()).map((d) => d.day)).toEqual(['2026-04-15']);
    await h.run();
    expect(await days()).toEqual([
      { day: '2026-04-15', users: 3, posts: 23 },
      { day: '2026-04-16', users: 3, posts: 23 },
      { day: '2026-04-17', users: 3, posts: 23 },
    ]);
    // Each day asked for once: the resumed run started after the stored day.
    expect(
      getFileCalls()
        .map((r) => r.url.searchParams.get('date'))
        .filter((d) => d === '2026-04-15'),
    ).toHaveLength(1);
  });

  it('stores the file as Slack sent it: gzip, imported through the NDJSON importer', async () => {
    await open({ backfillDays: 1 });
    await h.run();
    const [imp] = await h.store.query('SELECT file_name, kind, rows FROM imports');
    expect(imp).toEqual({
      file_name: 'admin.analytics.getFile member 2026-04-17.ndjson.gz',
      kind: 'slack-member-ndjson',
      rows: JSON.stringify({ activity_daily: 3 }),
    });
  });

  it('keeps the token out of the database and the logs; check uses auth.test', async () => {
    await open({ backfillDays: 2 });
    expect(await slackAnalytics.check(h.source.settings as never, h.ctx)).toEqual({ ok: true });
    await h.run();
    const logs = h.mem.lines.join('\n');
    expect(logs.length).toBeGreaterThan(0);
    expect(await databaseText(h.store)).not.toContain(TOKEN.reveal());
    expect(logs).not.toContain(TOKEN.reveal());
  });

  it('names the bad field of a config', () => {
    const parsed = slackAnalytics.configSchema.safeParse({ token: 'xoxp-in-the-file', backfillDays: 0 });
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual(['token', 'backfillDays']);
  });
});
