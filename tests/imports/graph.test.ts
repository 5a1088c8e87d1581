import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../pipeline/store.js';
import { openTestStore } from '../helpers/store.js';
import { count, counts, fixture, importAt, isoDay, textFile } from './helpers.js';

let store: Store;
let cleanup: () => void;
beforeEach(async () => {
  ({ store, cleanup } = await openTestStore());
});
afterEach(() => cleanup());

const YAMMER = 'exports/graph_getYammerActivityUserDetail_D30.csv';
const TEAMS = 'exports/graph_getTeamsUserActivityUserDetail_D30.csv';
const TEAMS_LEGACY = 'exports/graph_getTeamsUserActivityUserDetail_D30_legacy12col.csv';
const CONCEALED = 'exports/graph_getYammerActivityUserDetail_D30_concealed.csv';

describe('Microsoft Graph usage reports', () => {
  it('imports Viva Engage user detail (with its BOM) as D30 period totals matched to the directory', async () => {
    await importAt(store, 'employees', [fixture('canonical/employees.csv')]);
    const outcome = await importAt(store, 'auto', [fixture(YAMMER)]);
    expect(outcome.files[0]).toMatchObject({
      kind: 'graph-yammer-user-detail',
      rows: { activity_period: 8 },
    });
    expect(outcome.unmatched).toEqual([]);
    const [u1] = await store.query("SELECT * FROM activity_period WHERE user_key = 'user01@example.com'");
    // 2026-04-14,user01@example.com,User 01,Activated,,2026-04-13,12,340,25,MICROSOFT 365 E3+VIVA SUITE,30
    expect(u1).toMatchObject({
      platform: 'viva_engage',
      period_days: 30,
      employee_id: 'E001',
      posts: 12,
      reads: 340,
      reactions: 25,
      user_state: 'Activated',
      assigned_products: 'MICROSOFT 365 E3+VIVA SUITE',
      chat_messages: null,
    });
    expect(isoDay(u1?.period_end)).toBe('2026-04-14');
    expect(isoDay(u1?.last_activity_date)).toBe('2026-04-13');
    const [u7] = await store.query("SELECT * FROM activity_period WHERE user_key = 'user07@example.com'");
    expect(u7).toMatchObject({ user_state: 'Deleted', assigned_products: null, employee_id: 'E007' });
  });

  it('imports Teams user detail in the current 33-column schema', async () => {
    await importAt(store, 'employees', [fixture('canonical/employees.csv')]);
    const outcome = await importAt(store, 'auto', [fixture(TEAMS)]);
    expect(outcome.files[0]).toMatchObject({ kind: 'graph-teams-user-detail', rows: { activity_period: 6 } });
    const [u1] = await store.query("SELECT * FROM activity_period WHERE user_key = 'user01@example.com'");
    // Team Chat 40, Private Chat 210, Call 6, Meeting 18, Post 10, Reply 30, Meetings Attended 18
    expect(u1).toMatchObject({
      platform: 'teams',
      employee_id: 'E001',
      channel_messages: 40,
      chat_messages: 210,
      calls: 6,
      meetings: 18,
      posts: 10,
      replies: 30,
      meetings_attended: 18,
      is_licensed: true,
      user_state: null,
    });
  });

  it('imports the legacy 12-column Teams schema, leaving what it lacks NULL', async () => {
    const outcome = await importAt(store, 'graph-teams-user-detail', [fixture(TEAMS_LEGACY)]);
    expect(outcome.files[0]?.rows).toEqual({ activity_period: 2 });
    const [u1] = await store.query("SELECT * FROM activity_period WHERE user_key = 'user01@example.com'");
    // 2019-11-30,user01@example.com,2019-11-29,False,,OFFICE 365 E3,22,150,4,9,No,30
    expect(u1).toMatchObject({
      channel_messages: 22,
      chat_messages: 150,
      calls: 4,
      meetings: 9,
      posts: null,
      replies: null,
      meetings_attended: null,
      is_licensed: null,
    });
  });

  it('refuses a report with concealed names, saying why and how to turn concealment off', async () => {
    const err = await importAt(store, 'auto', [fixture(CONCEALED)]).catch((e: Error) => e);
    const message = String(err);
    expect(message).toContain(
      'graph_getYammerActivityUserDetail_D30_concealed.csv:2 column "User Principal Name"',
    );
    expect(message).toMatch(/concealed/);
    expect(message).toContain('Microsoft 365 admin center > Settings > Org settings > Reports');
    expect(message).toContain('Display concealed user, group, and site names in all reports');
    expect(Object.values(await counts(store)).every((n) => n === 0)).toBe(true);
  });

  it('refuses <PII:...> placeholders too', async () => {
    const text = fixture(YAMMER).content.toString('utf8').replace('user03@example.com', '<PII:H5(abc)>');
    await expect(importAt(store, 'auto', [textFile('pii.csv', text)])).rejects.toThrow(
      /pii\.csv:4 .*concealed/,
    );
  });

  it('counts and lists user keys no employee matches, then resolves them when the directory arrives', async () => {
    const outcome = await importAt(store, 'auto', [fixture(TEAMS_LEGACY)]);
    expect(outcome.unmatched).toEqual([
      { platform: 'teams', userKey: 'user01@example.com', rows: 1 },
      { platform: 'teams', userKey: 'user02@example.com', rows: 1 },
    ]);
    // Kept, not dropped.
    expect(await count(store, 'activity_period')).toBe(2);
    expect(await count(store, 'unmatched_identities')).toBe(2);
    await importAt(store, 'auto', [fixture('canonical/employees.csv')]);
    expect(await count(store, 'unmatched_identities')).toBe(0);
    const ids = await store.query('SELECT employee_id FROM activity_period ORDER BY 1');
    expect(ids.map((r) => r.employee_id)).toEqual(['E001', 'E002']);
  });

  it('replaces a re-exported period for the same end day and keeps other periods apart', async () => {
    const original = fixture(YAMMER).content.toString('utf8');
    await importAt(store, 'auto', [fixture(YAMMER)]);
    // Microsoft restated the same D30 period (a late-arriving count): same key, new numbers.
    const restated = original.replace(',12,340,25,', ',13,350,26,');
    await importAt(store, 'auto', [textFile('restated.csv', restated)]);
    expect(await count(store, 'activity_period')).toBe(8);
    expect(
      (await store.query("SELECT posts FROM activity_period WHERE user_key = 'user01@example.com'"))[0]
        ?.posts,
    ).toBe(13);
    // The next week's D30 report is another period (different end day), not a replacement.
    await importAt(store, 'auto', [
      textFile('next.csv', original.replaceAll('2026-04-14,user', '2026-04-21,user')),
    ]);
    expect(await count(store, 'activity_period')).toBe(16);
  });
});
