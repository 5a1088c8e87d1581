import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../pipeline/store.js';
import { openTestStore } from '../helpers/store.js';
import { CANONICAL, count, counts, fixture, importAt, isoTime, textFile } from './helpers.js';

let store: Store;
let cleanup: () => void;
beforeEach(async () => {
  ({ store, cleanup } = await openTestStore());
});
afterEach(() => cleanup());

const day = (d: unknown) => (d instanceof Date ? d.toISOString().slice(0, 10) : String(d));

describe('canonical set', () => {
  it('imports all five files with auto, in one go, with the expected rows and values', async () => {
    // Given in an order where activity comes before the directory: the directory is still applied first.
    const outcome = await importAt(store, 'auto', [...CANONICAL].reverse().map(fixture));
    expect(Object.fromEntries(outcome.files.map((f) => [f.file, f.rows]))).toEqual({
      'employees.csv': { employees: 12 },
      'activity_daily.csv': { activity_daily: 380 },
      'interactions.csv': { interactions: 17 },
      'threads.csv': { threads: 19 },
      'comm_volume_weekly.csv': { comm_volume_weekly: 144 },
    });
    expect(outcome.unmatched).toEqual([]);
    expect(await counts(store)).toMatchObject({
      imports: 5,
      employees: 12,
      employee_history: 12,
      // employee id and email for each of the 12 people
      identity_map: 24,
      unmatched_identities: 0,
      activity_daily: 380,
      interactions: 17,
      threads: 19,
      comm_volume_weekly: 144,
    });

    const [e005] = await store.query("SELECT * FROM employees WHERE employee_id = 'E005'");
    expect(e005).toMatchObject({
      department: 'Executive',
      is_manager: true,
      is_executive: true,
      manager_id: null,
    });
    expect(day(e005?.hire_date)).toBe('2020-01-06');

    // Line 2 of activity_daily.csv: 2026-02-16,viva_engage,E008,1,0,3,11,0,0,0
    const [a] = await store.query(
      "SELECT * FROM activity_daily WHERE platform = 'viva_engage' AND user_key = 'E008' AND activity_date = DATE '2026-02-16'",
    );
    expect(a).toMatchObject({ employee_id: 'E008', posts: 1, replies: 0, reactions: 3, reads: 11 });

    // interactions.csv line 2: 2026-02-19T01:10:00.000Z,viva_engage,E006,E001,reply,T0002
    const [i] = await store.query("SELECT * FROM interactions WHERE thread_id = 'T0002'");
    expect(i).toMatchObject({ from_employee_id: 'E006', to_employee_id: 'E001', interaction_type: 'reply' });
    expect(isoTime(i?.event_ts)).toBe('2026-02-19T01:10:00.000Z');

    // threads.csv: T0001 is an unanswered question, T0002 answered by E006 16h10m later.
    const threads = await store.query(
      "SELECT thread_id, is_question, first_reply_employee_id, first_reply_ts FROM threads WHERE thread_id IN ('T0001', 'T0002') ORDER BY 1",
    );
    expect(threads[0]).toMatchObject({ thread_id: 'T0001', is_question: true, first_reply_ts: null });
    expect(threads[1]).toMatchObject({ is_question: true, first_reply_employee_id: 'E006' });

    const [c] = await store.query(
      "SELECT * FROM comm_volume_weekly WHERE employee_id = 'E001' AND week_start = DATE '2026-01-19'",
    );
    expect(c).toMatchObject({
      emails_sent: 47,
      emails_received: 141,
      meetings_attended: 12,
      meeting_hours: 11.5,
    });
  });

  it('changes nothing when the same file is imported again', async () => {
    await importAt(store, 'auto', CANONICAL.map(fixture));
    const before = await counts(store);
    const again = await importAt(store, 'auto', CANONICAL.map(fixture));
    expect(again.files.every((f) => f.duplicate)).toBe(true);
    expect(await counts(store)).toEqual(before);
  });

  it('names line 7 of a file with a bad date and writes nothing at all', async () => {
    const lines = fixture('canonical/activity_daily.csv').content.toString('utf8').split('\n');
    lines[6] = (lines[6] ?? '').replace(/^2026-02-17/, '2026-02-30');
    const bad = textFile('activity_daily.csv', lines.join('\n'));
    const err = await importAt(store, 'auto', [fixture('canonical/employees.csv'), bad]).catch(
      (e: Error) => e,
    );
    expect(String(err)).toContain('activity_daily.csv:7 column "activity_date": "2026-02-30" is not a date');
    // The directory in the same import was rolled back (in fact never written): all or nothing.
    expect(Object.values(await counts(store)).every((n) => n === 0)).toBe(true);
  });

  it('names the line of a record spread over several lines by a quoted newline', async () => {
    const text =
      'platform,thread_id,group_name,author_id,created_ts,is_question,first_reply_ts,first_reply_by\n' +
      'viva_engage,T1,"Sales, ""Q&A""\nKorea",E001,2026-04-01T00:00:00Z,true,,\n' +
      'viva_engage,T2,All,E001,yesterday,true,,\n';
    await expect(importAt(store, 'threads', [textFile('threads.csv', text)])).rejects.toThrow(
      'threads.csv:4 column "created_ts"',
    );
    await importAt(store, 'threads', [textFile('threads.csv', text.split('\n').slice(0, 3).join('\n'))]);
    expect((await store.query('SELECT group_name FROM threads'))[0]?.group_name).toBe('Sales, "Q&A"\nKorea');
  });

  it('maps columns by name: reordered, differently cased and extra unknown columns are fine; a BOM too', async () => {
    const text =
      '\uFEFFEMPLOYEE_ID,posts,Favourite_Colour,Platform,activity_date,reads\n' +
      'E001,2,teal,teams,2026-03-02,40\n' +
      'E002,0,red,teams,2026-03-02,5\n';
    await importAt(store, 'auto', [fixture('canonical/employees.csv')]);
    const outcome = await importAt(store, 'auto', [textFile('custom.csv', text)]);
    expect(outcome.files[0]).toMatchObject({ kind: 'activity-daily', rows: { activity_daily: 2 } });
    const rows = await store.query(
      'SELECT user_key, employee_id, posts, reads, replies FROM activity_daily ORDER BY 1',
    );
    expect(rows).toEqual([
      { user_key: 'E001', employee_id: 'E001', posts: 2, reads: 40, replies: null },
      { user_key: 'E002', employee_id: 'E002', posts: 0, reads: 5, replies: null },
    ]);
  });

  it('lets a later overlapping export replace the days it covers instead of adding them', async () => {
    const header = 'activity_date,platform,employee_id,posts,replies,reactions,reads\n';
    const first = textFile(
      'week1.csv',
      `${header}2026-03-02,teams,E001,1,0,0,10\n2026-03-03,teams,E001,2,0,0,20\n2026-03-04,teams,E001,3,0,0,30\n`,
    );
    // Re-exported a day later: 03-03 and 03-04 restated, 03-05 new.
    const second = textFile(
      'week1-restated.csv',
      `${header}2026-03-03,teams,E001,5,0,0,50\n2026-03-04,teams,E001,6,0,0,60\n2026-03-05,teams,E001,7,0,0,70\n`,
    );
    await importAt(store, 'activity-daily', [first]);
    await importAt(store, 'activity-daily', [second]);
    const rows = await store.query('SELECT activity_date, posts FROM activity_daily ORDER BY 1');
    expect(rows.map((r) => [day(r.activity_date), r.posts])).toEqual([
      ['2026-03-02', 1],
      ['2026-03-03', 5],
      ['2026-03-04', 6],
      ['2026-03-05', 7],
    ]);
    expect(await count(store, 'imports')).toBe(2);
  });

  it('lets the later of two overlapping files in one import win', async () => {
    const header = 'activity_date,platform,employee_id,posts\n';
    await importAt(store, 'activity-daily', [
      textFile('a.csv', `${header}2026-03-02,teams,E001,1\n2026-03-03,teams,E001,2\n`),
      textFile('b.csv', `${header}2026-03-03,teams,E001,9\n`),
    ]);
    const rows = await store.query('SELECT activity_date, posts FROM activity_daily ORDER BY 1');
    expect(rows.map((r) => [day(r.activity_date), r.posts])).toEqual([
      ['2026-03-02', 1],
      ['2026-03-03', 9],
    ]);
  });

  it('refuses a file that lists the same key twice, naming both lines', async () => {
    const text =
      'week_start,employee_id,emails_sent\n2026-03-02,E001,4\n2026-03-09,E001,5\n2026-03-02,E001,6\n';
    await expect(importAt(store, 'comm-volume', [textFile('comm.csv', text)])).rejects.toThrow(
      /comm\.csv:4: repeats the comm_volume_weekly row of line 2/,
    );
  });

  it('keeps the history of a department move and the current directory', async () => {
    await importAt(
      store,
      'employees',
      [fixture('canonical/employees.csv')],
      new Date('2026-03-01T09:00:00Z'),
    );
    const moved = fixture('canonical/employees.csv')
      .content.toString('utf8')
      .replace(
        'E002,user02@example.com,User 02,Sales,Seoul',
        'E002,user02@example.com,User 02,Marketing,Seoul',
      );
    await importAt(
      store,
      'employees',
      [textFile('employees-april.csv', moved)],
      new Date('2026-04-01T09:00:00Z'),
    );
    const history = await store.query(
      "SELECT department, valid_from, valid_to FROM employee_history WHERE employee_id = 'E002' ORDER BY valid_from",
    );
    expect(
      history.map((h) => [h.department, day(h.valid_from), h.valid_to === null ? null : day(h.valid_to)]),
    ).toEqual([
      ['Sales', '2020-01-03', '2026-04-01'],
      ['Marketing', '2026-04-01', null],
    ]);
    expect(
      (await store.query("SELECT department FROM employees WHERE employee_id = 'E002'"))[0]?.department,
    ).toBe('Marketing');
    // Nobody else moved: still one stretch each.
    expect(await count(store, 'employee_history')).toBe(13);
  });

  it('uses an as_of column for the day of the move when the directory has one', async () => {
    const text = (dept: string, asOf: string) =>
      `employee_id,email,department,location,level,is_manager,is_executive,hire_date,as_of\nE001,a@example.com,${dept},Seoul,IC,false,false,2021-05-01,${asOf}\n`;
    await importAt(store, 'employees', [textFile('d1.csv', text('Sales', '2026-01-01'))]);
    await importAt(store, 'employees', [textFile('d2.csv', text('R&D', '2026-02-15'))]);
    const history = await store.query(
      'SELECT department, valid_from, valid_to FROM employee_history ORDER BY 2',
    );
    expect(
      history.map((h) => [h.department, day(h.valid_from), h.valid_to === null ? null : day(h.valid_to)]),
    ).toEqual([
      ['Sales', '2021-05-01', '2026-02-15'],
      ['R&D', '2026-02-15', null],
    ]);
  });
});
