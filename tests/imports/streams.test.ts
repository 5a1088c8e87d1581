import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportFile } from '../../collectors/imports/csv.js';
import { readSlices, readWhole } from '../../collectors/imports/formats.js';
import { importFiles } from '../../collectors/imports/write.js';
import type { Store } from '../../pipeline/store.js';
import { openTestStore } from '../helpers/store.js';
import { CANONICAL, counts, fixture, importAt, NOW, textFile, xlsxOf } from './helpers.js';

// One database for the file: every case either refuses (and must leave it as it was) or imports
// into tables the others do not compare.
let store: Store;
let dir: string;
let cleanup: () => void;
beforeAll(async () => {
  ({ store, dir, cleanup } = await openTestStore());
  await importAt(store, 'auto', CANONICAL.map(fixture));
});
afterAll(() => cleanup());

const sliced = (kind: string, files: ImportFile[], sliceRows = 1) =>
  importFiles(store, { kind, files, now: NOW, sliceRows });

/** Every record's line and cells, read in slices of `size` and whole: they must agree. */
async function linesBoth(file: ImportFile, size: number) {
  const parts: [number, string][] = [];
  for await (const t of readSlices(file, size))
    for (const r of t.records) parts.push([r.line, t.header.map((h) => r.raw(h)).join('|')]);
  const whole = (await readWhole(file)).records.map((r) => r.line);
  return { lines: parts.map((p) => p[0]), whole, cells: parts.map((p) => p[1]) };
}

/** Refuses `files` with `message` (a RegExp naming file:line) and leaves every table as it was. */
async function refusesWritingNothing(kind: string, files: ImportFile[], message: RegExp) {
  const before = await counts(store);
  await expect(sliced(kind, files)).rejects.toThrow(message);
  expect(await counts(store)).toEqual(before);
}

const NDJSON = fixture('exports/slack_admin.analytics.getFile_member_2026-04-16.ndjson')
  .content.toString('utf8')
  .trimEnd()
  .split('\n');

describe('NDJSON in slices (gzip or plain)', () => {
  // A BOM, CRLF and blank lines, so lines and objects differ.
  const text = `\uFEFF${NDJSON[0]}\r\n\r\n${NDJSON[1]}\n\n\n${NDJSON[2]}\n`;

  it('numbers lines as the whole read does, gzip or not', async () => {
    for (const file of [textFile('m.ndjson', text), { name: 'm.gz', content: gzipSync(text) }]) {
      const { lines, whole } = await linesBoth(file, 1);
      expect(lines).toEqual([1, 3, 6]);
      expect(whole).toEqual(lines);
    }
  });

  it('names the line of a bad count in a later slice and writes nothing', async () => {
    const bad = text.replace('"messages_posted_count":14', '"messages_posted_count":"lots"');
    await refusesWritingNothing(
      'auto',
      [{ name: 'member.ndjson.gz', content: gzipSync(bad) }],
      /^member\.ndjson\.gz:6 column "messages_posted_count": "lots" is not a whole number/,
    );
    await refusesWritingNothing(
      'slack-member-ndjson',
      [textFile('cut.ndjson', text.slice(0, -40))],
      /^cut\.ndjson:6: not valid JSON/,
    );
  });
});

describe('XLSX in slices', () => {
  const CSV = fixture('exports/workplace_employee_data_export.csv').content.toString('utf8');
  // A third person, managed by E001 in a later slice than E001's own row.
  const more = `${CSV.trimEnd()}\nUser 09,user09@example.com,E009,Analyst,Sales,Commercial,Example Co,Seoul,2024-01-02,E001,Yes,Active,No,Yes,Yes,No,1,1,1,0.1\n`;

  it('reads rows as the whole read does, and finds managers named in another slice', async () => {
    const file = { name: 'wp.xlsx', content: await xlsxOf(more) };
    const { lines, whole, cells } = await linesBoth(file, 1);
    expect(lines).toEqual([2, 3, 4]);
    expect(whole).toEqual(lines);
    expect(cells[2]).toContain('|2024-01-02|E001|');
    const outcome = await sliced('auto', [file]);
    expect(outcome.files[0]).toMatchObject({ kind: 'workplace-employees', rows: { employees: 3 } });
    const managers = await store.query(
      "SELECT employee_id, is_manager FROM employees WHERE employee_id IN ('E001', 'E003', 'E009') ORDER BY 1",
    );
    expect(managers).toEqual([
      { employee_id: 'E001', is_manager: true },
      { employee_id: 'E003', is_manager: false },
      { employee_id: 'E009', is_manager: false },
    ]);
  });

  it('names the row of a bad date in a later slice and writes nothing', async () => {
    const bad = more.replace('2024-01-02', 'soon');
    await refusesWritingNothing(
      'auto',
      [{ name: 'wp.xlsx', content: await xlsxOf(bad) }],
      /^wp\.xlsx:4 column "Start date": "soon" is not a date/,
    );
    // A date cell holding no valid date (Excel shows ######).
    await refusesWritingNothing(
      'auto',
      [{ name: 'wp.xlsx', content: await xlsxOf(more.replace('2024-01-02', '2024-13-02')) }],
      /^wp\.xlsx:4 column "Start date": "an invalid date" is not a date/,
    );
  });

  it('refuses a repeated employee id from an earlier slice, naming both rows', async () => {
    const bad = more.replace('E009,Analyst', 'E003,Analyst');
    await refusesWritingNothing(
      'workplace-employees',
      [{ name: 'wp.xlsx', content: await xlsxOf(bad) }],
      /^wp\.xlsx:4 column "employee_id": "E003" is also on line 3/,
    );
  });
});

describe('the org directory, Chatter and Viva Engage read from disk', () => {
  const onDisk = (name: string, text: string): ImportFile => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return { name, path };
  };
  const employees = fixture('canonical/employees.csv').content.toString('utf8');

  it('names a bad directory line in a later slice, and a repeated email, writing nothing', async () => {
    const lines = employees.trimEnd().split('\n');
    const last = lines.length;
    const badFlag = [...lines.slice(0, -1), lines[last - 1]?.replace(/,(true|false),/, ',maybe,')].join('\n');
    await refusesWritingNothing(
      'employees',
      [onDisk('dir.csv', badFlag)],
      new RegExp(`^dir\\.csv:${last} column "is_(manager|executive)": "maybe" is not true/false`),
    );
    const email = /,(user\d+@example\.com),/.exec(lines[1] ?? '')?.[1];
    const repeated = [
      ...lines.slice(0, -1),
      lines[last - 1]?.replace(/,user\d+@example\.com,/, `,${email},`),
    ];
    await refusesWritingNothing(
      'employees',
      [onDisk('dir2.csv', repeated.join('\n'))],
      new RegExp(`^dir2\\.csv:${last} column "email": "${email}" is also on line 2`),
    );
  });

  it('Chatter activity and users: a bad line in a later slice is named and nothing is written', async () => {
    const activity = fixture('exports/chatter_ChatterActivity.csv').content.toString('utf8');
    await refusesWritingNothing(
      'auto',
      [onDisk('activity.csv', activity.replace(/,3,20,/, ',3,x20,'))],
      /^activity\.csv:3 column "CommentCount": "x20" is not a whole number/,
    );
    await refusesWritingNothing(
      'chatter-users',
      [
        onDisk(
          'User.csv',
          'Id,Email,Username\n005A,a@example.com,a\n005B,b@example.com,b\n005a,c@example.com,c\n',
        ),
      ],
      /^User\.csv:4 column "Id": "005a" is also on line 2/,
    );
  });

  it('Chatter activity read in slices takes the snapshot day from the whole file', async () => {
    const text =
      'Id,ParentId,PostCount,CommentCount,CommentReceivedCount,SystemModstamp\n' +
      '0D1,005X1,1,2,0,2026-04-02T10:00:00.000+0000\n' +
      '0D2,005X2,3,4,0,2026-04-09T10:00:00.000+0000\n' +
      '0D3,005X3,5,6,0,2026-04-01T10:00:00.000+0000\n';
    await sliced('auto', [onDisk('snap.csv', text)]);
    const ends = await store.query(
      "SELECT DISTINCT period_end::VARCHAR AS d FROM activity_period WHERE user_key LIKE '005X%'",
    );
    expect(ends).toEqual([{ d: '2026-04-09' }]);
  });

  it('Viva Engage Messages.csv: threads and replies derived across slices, whatever the order', async () => {
    const [header, ...rows] = fixture('exports/yammer_network_export_Messages.csv')
      .content.toString('utf8')
      .trimEnd()
      .split('\n');
    // Replies before the messages they answer, each in its own slice.
    const outcome = await sliced('auto', [onDisk('Messages.csv', [header, ...rows.reverse()].join('\n'))]);
    expect(outcome.files[0]).toMatchObject({ rows: { interactions: 2, threads: 2 } });
    const threads = await store.query(
      `SELECT thread_id, author_user, is_question, first_reply_user, first_reply_ts::VARCHAR AS at
       FROM threads WHERE platform = 'viva_engage' AND thread_id IN ('1001', '1004') ORDER BY thread_id`,
    );
    expect(threads).toEqual([
      {
        thread_id: '1001',
        author_user: 'user01@example.com',
        is_question: true,
        first_reply_user: 'user05@example.com',
        at: '2026-04-01 09:40:00+00',
      },
      {
        thread_id: '1004',
        author_user: 'user08@example.com',
        is_question: false,
        first_reply_user: null,
        at: null,
      },
    ]);
    const ties = await store.query(
      "SELECT from_user AS f, to_user AS t FROM interactions WHERE thread_id = '1001' ORDER BY event_ts",
    );
    expect(ties).toEqual([
      { f: 'user05@example.com', t: 'user01@example.com' },
      { f: 'user01@example.com', t: 'user05@example.com' },
    ]);
    // Staged messages and derived rows are dropped (on the writing connection, where they lived).
    const temporary = await store.write(async (conn) =>
      (await conn.runAndReadAll('SELECT table_name FROM duckdb_tables() WHERE temporary')).getRowObjectsJS(),
    );
    expect(temporary).toEqual([]);
  });

  it('Viva Engage Messages.csv: a bad line or a repeated reply in a later slice is named, nothing written', async () => {
    const messages = fixture('exports/yammer_network_export_Messages.csv').content.toString('utf8');
    const lines = messages.trimEnd().split('\n');
    const last = lines.length;
    const bad = [...lines.slice(0, -1), lines[last - 1]?.replace(/2026-04-\d\d \d\d:\d\d:\d\d UTC/, 'soon')];
    await refusesWritingNothing(
      'auto',
      [onDisk('Messages2.csv', bad.join('\n'))],
      new RegExp(`^Messages2\\.csv:${last} column "created_at": "soon" is not a date-time`),
    );
    // Message 1002's reply again, under another id: the same tie at the same instant.
    const again = `${messages.trimEnd()}\n${lines[2]?.replace(/^1002,/, '1009,')}\n`;
    await refusesWritingNothing(
      'viva-engage-messages',
      [onDisk('Messages3.csv', again)],
      new RegExp(`^Messages3\\.csv:${last + 1}: repeats the interactions row of line 3`),
    );
  });
});

describe('duplicates by content hash', () => {
  // A header both the canonical directory and Workplace's export fit.
  const both =
    'employee_id,email,department,location,level,is_manager,is_executive,Full name,Employee ID,Manager employee ID\n' +
    'E201,user201@example.com,Ops,Seoul,L1,false,false,User 201,E201,\n';

  it('imports the same bytes as another kind, and skips them again as the kind auto detects', async () => {
    const file = textFile('both.csv', both);
    expect((await sliced('employees', [file])).files[0]?.duplicate).toBe(false);
    const other = await sliced('workplace-employees', [file]);
    expect(other.files[0]).toMatchObject({ kind: 'workplace-employees', duplicate: false });
    // auto picks the directory, as imported first: the same file twice changes nothing.
    const again = await sliced('auto', [file]);
    expect(again.files[0]).toMatchObject({ kind: 'employees', duplicate: true });
  });
});
