import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../pipeline/store.js';
import { counts, fixture, importAt, isoDay, isoTime, openWithDirectory, textFile } from './helpers.js';

let store: Store;
let cleanup: () => void;
beforeEach(async () => {
  ({ store, cleanup } = await openWithDirectory());
});
afterEach(() => cleanup());

const ACTIVITY = 'exports/chatter_ChatterActivity.csv';
const ITEM = 'exports/chatter_FeedItem.csv';
const COMMENT = 'exports/chatter_FeedComment.csv';

describe('Salesforce Chatter', () => {
  it('imports the three SOQL exports with auto in one go', async () => {
    const outcome = await importAt(store, 'auto', [fixture(COMMENT), fixture(ACTIVITY), fixture(ITEM)]);
    expect(Object.fromEntries(outcome.files.map((f) => [f.file, [f.kind, f.rows]]))).toEqual({
      'chatter_ChatterActivity.csv': ['chatter-activity', { activity_period: 3 }],
      'chatter_FeedItem.csv': ['chatter-feed', { threads: 1 }],
      'chatter_FeedComment.csv': ['chatter-feed', { interactions: 2 }],
    });
    // Salesforce user ids are not in the directory: listed, not dropped.
    expect(outcome.unmatched.map((u) => u.userKey)).toEqual([
      '0050000000000001',
      '0050000000000002',
      '0050000000000005',
    ]);

    // 0D1...1,0050000000000001,55,140,...: running totals, stored as a 0-day period ending on the import day.
    const [a] = await store.query("SELECT * FROM activity_period WHERE user_key = '0050000000000001'");
    expect(a).toMatchObject({
      platform: 'chatter',
      period_days: 0,
      posts: 55,
      replies: 140,
      employee_id: null,
    });
    expect(isoDay(a?.period_end)).toBe('2026-04-20');

    // QuestionPost by ...01 at 08:00, first comment by ...02 at 09:15 (also the best comment).
    const [t] = await store.query('SELECT * FROM threads');
    expect(t).toMatchObject({
      platform: 'chatter',
      thread_id: '0D50000000000001',
      group_name: '0F90000000000001',
      author_user: '0050000000000001',
      is_question: true,
      first_reply_user: '0050000000000002',
    });
    expect(isoTime(t?.created_ts)).toBe('2026-04-02T08:00:00.000Z');
    expect(isoTime(t?.first_reply_ts)).toBe('2026-04-02T09:15:00.000Z');
    const ties = await store.query(
      'SELECT from_user, to_user, interaction_type FROM interactions ORDER BY event_ts',
    );
    expect(ties).toEqual([
      { from_user: '0050000000000002', to_user: '0050000000000001', interaction_type: 'reply' },
      { from_user: '0050000000000005', to_user: '0050000000000001', interaction_type: 'reply' },
    ]);
  });

  it('changes nothing when the same set is imported twice', async () => {
    await importAt(store, 'auto', [fixture(ACTIVITY), fixture(ITEM), fixture(COMMENT)]);
    const before = await counts(store);
    const again = await importAt(store, 'auto', [fixture(ACTIVITY), fixture(ITEM), fixture(COMMENT)]);
    expect(again.files.every((f) => f.duplicate)).toBe(true);
    expect(await counts(store)).toEqual(before);
  });

  it('rewrites the known posts when a later comment export answers them', async () => {
    const unanswered = textFile(
      'FeedComment.csv',
      'Id,FeedItemId,ParentId,CreatedById,CreatedDate,CommentType,IsDeleted\n',
    );
    await importAt(store, 'chatter-feed', [fixture(ITEM), unanswered]);
    expect((await store.query('SELECT first_reply_user FROM threads'))[0]?.first_reply_user).toBeNull();
    const outcome = await importAt(store, 'chatter-feed', [fixture(ITEM), fixture(COMMENT)]);
    expect(outcome.files.map((f) => f.duplicate)).toEqual([false, false]);
    expect((await store.query('SELECT first_reply_user FROM threads'))[0]?.first_reply_user).toBe(
      '0050000000000002',
    );
    expect(await counts(store)).toMatchObject({ imports: 4, threads: 1, interactions: 2 });
  });

  it('refuses posts without their comments, and comments on a post it was not given', async () => {
    await expect(importAt(store, 'auto', [fixture(ITEM)])).rejects.toThrow(
      /chatter_FeedItem\.csv:1: .*come as a set.*missing: FeedComment/,
    );
    const otherPost = textFile(
      'FeedItem.csv',
      'Id,ParentId,CreatedById,CreatedDate,Type,CommentCount,LikeCount,BestCommentId,IsDeleted\n' +
        '0D59,0F9,0050000000000001,2026-04-02T08:00:00.000+0000,TextPost,0,0,,false\n',
    );
    await expect(importAt(store, 'chatter-feed', [otherPost, fixture(COMMENT)])).rejects.toThrow(
      'chatter_FeedComment.csv:2 column "FeedItemId": post "0D50000000000001" is not in the FeedItem export',
    );
  });

  it('names the line and column of a bad date, writes nothing, and skips deleted comments', async () => {
    const before = await counts(store);
    const lines = fixture(COMMENT).content.toString('utf8').split('\n');
    lines[2] = (lines[2] ?? '').replace('2026-04-02T10:40', '2026-04-31T10:40');
    await expect(
      importAt(store, 'auto', [fixture(ITEM), textFile('chatter_FeedComment.csv', lines.join('\n'))]),
    ).rejects.toThrow(
      'chatter_FeedComment.csv:3 column "CreatedDate": "2026-04-31T10:40:00.000+0000" is not a date-time',
    );
    expect(await counts(store)).toEqual(before);
    lines[2] = (fixture(COMMENT).content.toString('utf8').split('\n')[2] ?? '').replace(/false$/, 'true');
    const outcome = await importAt(store, 'auto', [fixture(ITEM), textFile('c.csv', lines.join('\n'))]);
    expect(outcome.files.find((f) => f.file === 'c.csv')?.rows).toEqual({ interactions: 1 });
  });

  it('accepts a BOM, reordered and extra columns, and a later snapshot day from SystemModstamp', async () => {
    const text =
      '\uFEFFPostCount,Extra,ParentId,CommentCount,CommentReceivedCount,SystemModstamp\n' +
      '7,x,0050000000000009,2,0,2026-04-15T23:59:00.000+0000\n';
    const outcome = await importAt(store, 'auto', [textFile('ChatterActivity.csv', text)]);
    expect(outcome.files[0]).toMatchObject({ kind: 'chatter-activity', rows: { activity_period: 1 } });
    const [a] = await store.query('SELECT period_end, posts, replies FROM activity_period');
    expect([isoDay(a?.period_end), a?.posts, a?.replies]).toEqual(['2026-04-15', 7, 2]);
  });

  it('maps Salesforce user ids to employees from a User export, matching rows imported before', async () => {
    await importAt(store, 'auto', [fixture(ACTIVITY)]);
    const users = textFile(
      'User.csv',
      'Id,Email,Username\n0050000000000001,User01@Example.com,u1.prod\n0050000000000002,user02@example.com,u2.prod\n005000000000NOPE,bot@example.org,bot\n',
    );
    const outcome = await importAt(store, 'auto', [users]);
    expect(outcome.files[0]).toMatchObject({ kind: 'chatter-users', rows: { identity_map: 2 } });
    expect(outcome.unmatched).toEqual([{ platform: 'chatter', userKey: '005000000000nope', rows: 1 }]);
    const rows = await store.query('SELECT user_key, employee_id FROM activity_period ORDER BY 1');
    expect(rows.map((r) => [r.user_key, r.employee_id])).toEqual([
      ['0050000000000001', 'E001'],
      ['0050000000000002', 'E002'],
      ['0050000000000005', null],
    ]);
    const dup = textFile(
      'User.csv',
      'Id,Email,Username\n0050000000000001,a@example.com,a\n0050000000000001,b@example.com,b\n',
    );
    await expect(importAt(store, 'chatter-users', [dup])).rejects.toThrow(
      'User.csv:3 column "Id": "0050000000000001" is also on line 2',
    );
  });
});
