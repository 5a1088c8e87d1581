import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { chatter } from '../../collectors/chatter.js';
import { importFiles } from '../../collectors/imports/write.js';
import { collectSource } from '../../collectors/runner.js';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  type FakeSalesforce,
  fixtures,
  ISSUED_TOKEN,
  org,
  STATIC_TOKEN,
  salesforceHandler,
} from '../helpers/fake-salesforce.js';
import { databaseText, type SourceHarness, sourceHarness, testDeps } from '../helpers/runner.js';

const START = new Date('2026-04-10T06:00:00Z');

let h: SourceHarness;
afterEach(async () => h?.close());

async function open(
  settings: Record<string, unknown> = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
) {
  const fake: FakeSalesforce = { data: org(), faults: [], staticValid: true, queries: [] };
  h = await sourceHarness({
    id: 'chatter',
    start: START,
    handler: salesforceHandler(fake),
    settings: () => settings,
  });
  // The org directory, so Salesforce users resolve to employees through their email.
  await importFiles(h.store, {
    kind: 'employees',
    files: [{ name: 'employees.csv', content: readFileSync(new URL('canonical/employees.csv', fixtures)) }],
    now: START,
  });
  return fake;
}

const q = async (sql: string) => (await h.store.query(sql)).map((r) => ({ ...r }));

describe('collector chatter', () => {
  it('pulls users, activity and threads through SOQL with paging, and maps Salesforce ids to employees', async () => {
    await open();
    const results = await h.run();
    expect(results.map((r) => [r.partition, r.status, r.error])).toEqual([
      ['User', 'ok', null],
      ['ChatterActivity', 'ok', null],
      ['Feed', 'ok', null],
    ]);
    // Paged by nextRecordsUrl: 4 users and 3 activity rows come 2 a page.
    expect(
      h.server.requests.filter((r) => /\/query\/01g/.test(r.url.pathname)).length,
    ).toBeGreaterThanOrEqual(2);
    expect(
      await q("SELECT user_key, employee_id, origin FROM identity_map WHERE platform = 'chatter' ORDER BY 1"),
    ).toEqual([
      { user_key: '0050000000000001', employee_id: 'E001', origin: 'chatter-users' },
      { user_key: '0050000000000002', employee_id: 'E002', origin: 'chatter-users' },
      { user_key: '0050000000000005', employee_id: 'E005', origin: 'chatter-users' },
    ]);
    // The integration user has no employee: listed, not dropped.
    expect(await q("SELECT user_key FROM unmatched_identities WHERE platform = 'chatter'")).toEqual([
      { user_key: '005000000000intg' },
    ]);
    // ChatterActivity running totals, as a 0-day period ending on the latest SystemModstamp.
    expect(
      await q(
        "SELECT user_key, employee_id, posts, replies, strftime(period_end, '%Y-%m-%d') AS d FROM activity_period WHERE platform = 'chatter' ORDER BY 1",
      ),
    ).toEqual([
      { user_key: '0050000000000001', employee_id: 'E001', posts: 55, replies: 140, d: '2026-04-09' },
      { user_key: '0050000000000002', employee_id: 'E002', posts: 3, replies: 20, d: '2026-04-09' },
      { user_key: '0050000000000005', employee_id: 'E005', posts: 90, replies: 60, d: '2026-04-09' },
    ]);
    // The QuestionPost by 01 answered first by 02 at 09:15; 05's post answered by 02 at 11:00.
    expect(
      await q(
        'SELECT thread_id, author_employee_id, is_question, first_reply_employee_id, first_reply_ts FROM threads ORDER BY 1',
      ),
    ).toEqual([
      {
        thread_id: '0D50000000000001',
        author_employee_id: 'E001',
        is_question: true,
        first_reply_employee_id: 'E002',
        first_reply_ts: new Date('2026-04-02T09:15:00Z'),
      },
      {
        thread_id: '0D50000000000002',
        author_employee_id: 'E005',
        is_question: false,
        first_reply_employee_id: 'E002',
        first_reply_ts: new Date('2026-04-03T11:00:00Z'),
      },
    ]);
    expect(
      await q('SELECT from_employee_id AS f, to_employee_id AS t FROM interactions ORDER BY event_ts'),
    ).toEqual([
      { f: 'E002', t: 'E001' },
      { f: 'E005', t: 'E001' },
      { f: 'E002', t: 'E005' },
    ]);
    const [bookmark] = await q("SELECT state FROM bookmarks WHERE partition = 'Feed'");
    expect(JSON.parse(String(bookmark?.state))).toEqual({ since: '2026-04-10T05:55:00.000Z' });
  });

  it('re-reads a whole old thread when it gets a new comment: the first reply stays, nothing doubles', async () => {
    const fake = await open();
    await h.run();
    h.clock.advance(86_400_000);
    fake.data.FeedComment?.push({
      attributes: { type: 'FeedComment' },
      Id: '0D70000000000009',
      FeedItemId: '0D50000000000001',
      ParentId: '0F90000000000001',
      CreatedById: '0050000000000005',
      CreatedDate: '2026-04-10T12:00:00.000+0000',
      CommentType: 'TextComment',
    });
    fake.queries.length = 0;
    const results = await h.run();
    expect(results.every((r) => r.status === 'ok')).toBe(true);
    expect(fake.queries.filter((s) => s.includes('FROM FeedItem WHERE Id IN'))).toEqual([
      expect.stringContaining("('0D50000000000001')"),
    ]);
    expect(await q("SELECT first_reply_ts FROM threads WHERE thread_id = '0D50000000000001'")).toEqual([
      { first_reply_ts: new Date('2026-04-02T09:15:00Z') },
    ]);
    expect(await q('SELECT count(*)::INT AS n FROM interactions')).toEqual([{ n: 4 }]);
    expect(await q('SELECT count(*)::INT AS n FROM threads')).toEqual([{ n: 2 }]);
  });

  it('loses nothing and counts nothing twice when a run stops between batches of posts', async () => {
    await open({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, postsPerBatch: 1 });
    const controller = new AbortController();
    const first = await collectSource(
      h.source,
      testDeps(h.store, h.clock, {
        logger: h.mem.logger,
        signal: controller.signal,
        onProgress: (e) => {
          if (e.partition === 'Feed' && e.status === 'running' && e.rows > 0)
            controller.abort(new Error('crash'));
        },
      }).deps,
    );
    expect(first.find((r) => r.partition === 'Feed')?.status).toBe('aborted');
    expect(await q('SELECT thread_id FROM threads')).toEqual([{ thread_id: '0D50000000000001' }]);
    // The bookmark did not move: the posts of the unfinished run are read again.
    const [bookmark] = await q("SELECT state FROM bookmarks WHERE partition = 'Feed'");
    expect(JSON.parse(String(bookmark?.state))).toEqual({ since: '2026-03-11T06:00:00.000Z' });
    await h.run();
    expect(await q('SELECT count(*)::INT AS n FROM threads')).toEqual([{ n: 2 }]);
    expect(await q('SELECT count(*)::INT AS n FROM interactions')).toEqual([{ n: 3 }]);
  });

  it('waits out a 429 with Retry-After', async () => {
    const fake = await open();
    fake.faults.push({ status: 429, headers: { 'retry-after': '15' }, body: '' });
    const results = await h.run();
    expect(results.every((r) => r.status === 'ok')).toBe(true);
    expect(h.clock.sleeps.some((ms) => ms >= 15_000)).toBe(true);
    expect(await q('SELECT count(*)::INT AS n FROM threads')).toEqual([{ n: 2 }]);
  });

  it('works with a configured access token and says so when it has expired', async () => {
    const fake = await open({ accessToken: STATIC_TOKEN });
    expect(await chatter.check(h.source.settings as never, h.ctx)).toEqual({ ok: true });
    fake.staticValid = false;
    const results = await h.run();
    expect(results[0]?.status).toBe('error');
    expect(results[0]?.error).toMatch(/Salesforce rejected the access token \(HTTP 401 twice\)/);
    expect(h.server.requests.some((r) => r.url.pathname === '/services/oauth2/token')).toBe(false);
  });

  it('keeps the credentials and tokens out of the database and the logs', async () => {
    await open();
    await h.run();
    const text = await databaseText(h.store);
    const logs = h.mem.lines.join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [CLIENT_ID.reveal(), CLIENT_SECRET.reveal(), ISSUED_TOKEN]) {
      expect(text).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
  });

  it('names the bad field of a config', () => {
    const none = chatter.configSchema.safeParse({});
    expect(none.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['accessToken', 'is required unless clientId and clientSecret (client-credentials flow) are given'],
    ]);
    const half = chatter.configSchema.safeParse({ clientId: CLIENT_ID, apiVersion: 'v60' });
    expect(half.error?.issues.map((i) => i.path.join('.'))).toEqual(['apiVersion', 'clientSecret']);
    const partial = chatter.configSchema.safeParse({ clientId: CLIENT_ID });
    expect(partial.error?.issues.map((i) => i.path.join('.'))).toEqual(['clientSecret']);
  });
});
