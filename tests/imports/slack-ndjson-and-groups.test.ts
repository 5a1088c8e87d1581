import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../pipeline/store.js';
import { counts, fixture, importAt, isoDay, openWithDirectory, textFile } from './helpers.js';

let store: Store;
let cleanup: () => void;
beforeEach(async () => {
  ({ store, cleanup } = await openWithDirectory());
});
afterEach(() => cleanup());

const NDJSON = 'exports/slack_admin.analytics.getFile_member_2026-04-16.ndjson';
const GROUPS = 'exports/graph_getYammerGroupsActivityDetail_D30.csv';
const CHANNELS = 'exports/Example Co Channel Analytics Prior 30 Days - Apr 17, 2026.csv';

describe('Slack admin.analytics.getFile member NDJSON', () => {
  it('imports plain NDJSON as daily rows keyed by email and matched to the directory', async () => {
    const outcome = await importAt(store, 'auto', [fixture(NDJSON)]);
    expect(outcome.files[0]).toMatchObject({ kind: 'slack-member-ndjson', rows: { activity_daily: 3 } });
    expect(outcome.unmatched).toEqual([]);
    const [u5] = await store.query("SELECT * FROM activity_daily WHERE user_key = 'user05@example.com'");
    // user05: messages_posted_count 14, channel_messages_posted_count 9, reactions_added_count 5
    expect(u5).toMatchObject({
      platform: 'slack',
      employee_id: 'E005',
      posts: 14,
      channel_messages: 9,
      reactions: 5,
      meetings_attended: 0,
      reads: null,
    });
    expect(isoDay(u5?.activity_date)).toBe('2026-04-16');
  });

  it('detects gzip by its magic bytes whatever the name, and a re-pull of the day replaces it', async () => {
    const gz = { name: 'member.bin', content: gzipSync(fixture(NDJSON).content) };
    const outcome = await importAt(store, 'auto', [gz]);
    expect(outcome.files[0]).toMatchObject({ kind: 'slack-member-ndjson', rows: { activity_daily: 3 } });
    const restated = fixture(NDJSON)
      .content.toString('utf8')
      .replace('"messages_posted_count":14', '"messages_posted_count":15');
    await importAt(store, 'auto', [textFile('member-again.ndjson', restated)]);
    expect(await counts(store)).toMatchObject({ activity_daily: 3, imports: 3 });
    const [u5] = await store.query("SELECT posts FROM activity_daily WHERE user_key = 'user05@example.com'");
    expect(u5?.posts).toBe(15);
    const again = await importAt(store, 'auto', [gz]);
    expect(again.files[0]?.duplicate).toBe(true);
  });

  it('names the line and field of a bad value and writes nothing; falls back to the Slack id', async () => {
    const lines = fixture(NDJSON).content.toString('utf8').split('\n');
    lines[1] = (lines[1] ?? '').replace('"date":"2026-04-16"', '"date":"16/04/2026"');
    const before = await counts(store);
    await expect(
      importAt(store, 'slack-member-ndjson', [textFile('m.ndjson', lines.join('\n'))]),
    ).rejects.toThrow('m.ndjson:2 column "date": "16/04/2026" is not a date');
    expect(await counts(store)).toEqual(before);
    const noEmail =
      '\uFEFF{"date":"2026-04-16","user_id":"U9","messages_posted_count":1,"is_active":true,"channel_messages_posted_count":0,"new_field":1}\n';
    const outcome = await importAt(store, 'auto', [textFile('n.ndjson', noEmail)]);
    expect(outcome.unmatched).toEqual([{ platform: 'slack', userKey: 'U9', rows: 1 }]);
  });

  it('checks the columns of every line of the head, not the first line only', async () => {
    // Slack omits fields per row: the first member lacks the count the second one has.
    const first = '{"date":"2026-04-16","user_id":"U8","is_active":false}';
    const second =
      '{"date":"2026-04-16","user_id":"U9","messages_posted_count":2,"is_active":true,"channel_messages_posted_count":1}';
    const outcome = await importAt(store, 'auto', [textFile('o.ndjson', `${first}\n${second}\n`)]);
    expect(outcome.files[0]).toMatchObject({ kind: 'slack-member-ndjson', rows: { activity_daily: 2 } });
    const rows = await store.query('SELECT user_key, posts FROM activity_daily ORDER BY user_key');
    expect(rows).toEqual([
      { user_key: 'U8', posts: null },
      { user_key: 'U9', posts: 2 },
    ]);
  });
});

describe('group and channel period totals', () => {
  it('imports Viva Engage groups (BOM) into group_activity_period with owners matched', async () => {
    const outcome = await importAt(store, 'auto', [fixture(GROUPS)]);
    expect(outcome.files[0]).toMatchObject({
      kind: 'graph-yammer-groups',
      rows: { group_activity_period: 4 },
    });
    expect(outcome.unmatched).toEqual([]);
    const [g] = await store.query("SELECT * FROM group_activity_period WHERE group_name = 'Sales Q&A'");
    // 2026-04-14,Sales Q&A,False,user01@example.com,2026-04-13,public,Yes,5,18,310,31,30
    expect(g).toMatchObject({
      platform: 'viva_engage',
      period_days: 30,
      group_type: 'public',
      is_deleted: false,
      owner_employee_id: 'E001',
      member_count: 5,
      posts: 18,
      reads: 310,
      reactions: 31,
    });
    expect(isoDay(g?.period_end)).toBe('2026-04-14');
    expect(isoDay(g?.last_activity_date)).toBe('2026-04-13');
    // Groups are not people: nothing lands in the per-user tables.
    expect(await counts(store)).toMatchObject({ activity_period: 0, activity_daily: 0 });
  });

  it('refuses concealed group names', async () => {
    const text = fixture(GROUPS)
      .content.toString('utf8')
      .replace('Sales Q&A', '0123456789abcdef0123456789abcdef');
    await expect(importAt(store, 'auto', [textFile('groups.csv', text)])).rejects.toThrow(
      /groups\.csv:3 column "Group Display Name": the user names in this report are concealed/,
    );
  });

  it('imports Slack channels with the period from the file name', async () => {
    const outcome = await importAt(store, 'auto', [fixture(CHANNELS)]);
    expect(outcome.files[0]).toMatchObject({
      kind: 'slack-channel-analytics',
      rows: { group_activity_period: 2 },
    });
    const [c] = await store.query("SELECT * FROM group_activity_period WHERE group_name = 'sales-qna'");
    // sales-qna,"Jan 12, 2024",3,3,0,120,118,3,0,3,44,3,2
    expect(c).toMatchObject({
      platform: 'slack',
      period_days: 30,
      member_count: 3,
      guest_count: 0,
      posts: 120,
      reactions: 44,
      members_who_posted: 3,
      members_who_read: 3,
      members_who_reacted: 3,
      owner_user: null,
    });
    expect(isoDay(c?.period_end)).toBe('2026-04-17');
    expect(isoDay(c?.created_date)).toBe('2024-01-12');
    const before = await counts(store);
    expect((await importAt(store, 'auto', [fixture(CHANNELS)])).files[0]?.duplicate).toBe(true);
    expect(await counts(store)).toEqual(before);
  });

  it('names line 3 of a channel file with a bad date and writes nothing', async () => {
    const text = fixture(CHANNELS).content.toString('utf8').replace('"Jan 12, 2024"', '"Jan 32, 2024"');
    const before = await counts(store);
    await expect(
      importAt(store, 'auto', [
        textFile('Example Co Channel Analytics Prior 30 Days - Apr 17, 2026.csv', text),
      ]),
    ).rejects.toThrow('Prior 30 Days - Apr 17, 2026.csv:3 column "Created": "Jan 32, 2024" is not a date');
    expect(await counts(store)).toEqual(before);
  });
});
