import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../pipeline/store.js';
import { fixture, importAt, isoDay, isoTime, openWithDirectory, textFile } from './helpers.js';

let store: Store;
let cleanup: () => void;
beforeEach(async () => {
  ({ store, cleanup } = await openWithDirectory());
});
afterEach(() => cleanup());

const SLACK = 'exports/Example Co Member Analytics Prior 30 Days - Apr 17, 2026.csv';

describe('Slack Member Analytics', () => {
  it('imports members as 30-day totals ending on the day in the file name', async () => {
    const outcome = await importAt(store, 'auto', [fixture(SLACK)]);
    expect(outcome.files[0]).toMatchObject({ kind: 'slack-member-analytics', rows: { activity_period: 6 } });
    expect(outcome.unmatched).toEqual([]);
    const [u1] = await store.query("SELECT * FROM activity_period WHERE user_key = 'user01@example.com'");
    // User 01,...,Member,"Jan 10, 2024",...,19,18,0,6,143,61,40,"Apr 16, 2026",...
    expect(u1).toMatchObject({
      platform: 'slack',
      period_days: 30,
      employee_id: 'E001',
      active_days: 19,
      posts: 143,
      channel_messages: 61,
      reactions: 40,
      user_state: 'Member',
    });
    expect(isoDay(u1?.period_end)).toBe('2026-04-17');
    expect(isoDay(u1?.last_activity_date)).toBe('2026-04-16');
    const [guest] = await store.query(
      "SELECT user_state FROM activity_period WHERE user_key = 'user09@example.com'",
    );
    expect(guest?.user_state).toBe('Multi-Channel Guest');
  });

  it('refuses a renamed file, since the period is only in the name', async () => {
    const renamed = { ...fixture(SLACK), name: 'members.csv' };
    await expect(importAt(store, 'slack-member-analytics', [renamed])).rejects.toThrow(
      /members\.csv:1: cannot tell the period from the file name/,
    );
  });
});

describe('Viva Engage network export (Messages.csv)', () => {
  it('yields threads with their first reply by someone else, and reply interactions', async () => {
    const outcome = await importAt(store, 'auto', [fixture('exports/yammer_network_export_Messages.csv')]);
    expect(outcome.files[0]).toMatchObject({
      kind: 'viva-engage-messages',
      rows: { interactions: 2, threads: 2 },
    });
    const threads = await store.query('SELECT * FROM threads ORDER BY thread_id');
    // 1001 "How do we quote the new bundle?" by User 01, answered by User 05 40 minutes later.
    expect(threads[0]).toMatchObject({
      thread_id: '1001',
      group_name: 'Sales Q&A',
      author_employee_id: 'E001',
      is_question: true,
      first_reply_employee_id: 'E005',
    });
    expect(isoTime(threads[0]?.first_reply_ts)).toBe('2026-04-01T09:40:00.000Z');
    expect(threads[1]).toMatchObject({ thread_id: '1004', is_question: false, first_reply_ts: null });
    const ties = await store.query(
      'SELECT from_employee_id AS f, to_employee_id AS t FROM interactions ORDER BY event_ts',
    );
    expect(ties).toEqual([
      { f: 'E005', t: 'E001' },
      { f: 'E001', t: 'E005' },
    ]);
  });

  it('skips deleted messages', async () => {
    const text = fixture('exports/yammer_network_export_Messages.csv')
      .content.toString('utf8')
      .replace('2026-04-01 10:05:00 UTC,', '2026-04-01 10:05:00 UTC,2026-04-02 00:00:00 UTC');
    const outcome = await importAt(store, 'viva-engage-messages', [textFile('Messages.csv', text)]);
    expect(outcome.files[0]?.rows).toEqual({ interactions: 1, threads: 2 });
  });
});
