import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readCsv, readCsvSlices } from '../../collectors/imports/csv.js';
import { importFiles, parseImport, writeImport } from '../../collectors/imports/write.js';
import type { Store } from '../../pipeline/store.js';
import { openTestStore } from '../helpers/store.js';
import { CANONICAL, counts, fixture, importAt, NOW, textFile } from './helpers.js';

let store: Store;
let cleanup: () => void;
beforeEach(async () => {
  ({ store, cleanup } = await openTestStore());
});
afterEach(() => cleanup());

const THREADS = 'platform,thread_id,author_id,created_ts,is_question,group_name\n';

// A BOM, blank lines and a group name with a quoted line break, so records and lines differ.
const tricky = textFile(
  'threads.csv',
  `\uFEFF${THREADS}` +
    'slack,T1,E001,2026-03-02T09:00:00Z,true,"two\nlines"\n\n' +
    'slack,T2,E002,2026-03-02T10:00:00Z,false,g\n' +
    'slack,T3,E003,2026-03-02T11:00:00Z,true,"a, b"\n\n\n' +
    'slack,T4,E004,2026-03-02T12:00:00Z,true,"x\ny\nz"\n' +
    'slack,T5,E005,2026-03-02T13:00:00Z,true,g\n',
);

describe('reading a CSV in slices', () => {
  it('numbers every record as reading it whole does, whatever the slice size', async () => {
    const whole = readCsv(tricky).records.map((r) => [r.line, r.raw('thread_id'), r.raw('group_name')]);
    expect(whole.map((w) => w[0])).toEqual([2, 5, 6, 9, 12]);
    for (const size of [1, 2, 3, 5, 6]) {
      const sliced: unknown[] = [];
      const sizes: number[] = [];
      for await (const t of readCsvSlices(tricky, size)) {
        sizes.push(t.records.length);
        for (const r of t.records) sliced.push([r.line, r.raw('thread_id'), r.raw('group_name')]);
      }
      expect(sliced).toEqual(whole);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(size);
    }
  });

  it('gives a header-only file one empty slice, and refuses an empty or broken one with its line', async () => {
    const slices = [];
    for await (const t of readCsvSlices(textFile('h.csv', THREADS), 10)) slices.push(t);
    expect(slices.map((t) => [t.header.length, t.records.length])).toEqual([[6, 0]]);
    const drain = async (text: string) => {
      for await (const _ of readCsvSlices(textFile('b.csv', text), 2));
    };
    await expect(drain('')).rejects.toThrow(/^b\.csv:1: the file is empty/);
    await expect(drain(`${THREADS}slack,T1,E1,2026-03-02T09:00:00Z,true,g\nslack,T2\n`)).rejects.toThrow(
      /^b\.csv:3: not a valid CSV file/,
    );
  });
});

describe('an import streamed in slices', () => {
  it('writes exactly what the whole-file path writes', async () => {
    await importFiles(store, { kind: 'auto', files: CANONICAL.map(fixture), now: NOW, sliceRows: 7 });
    const other = await openTestStore();
    try {
      // The collectors' path: every file parsed whole before the transaction.
      const parsed = await parseImport({ kind: 'auto', files: CANONICAL.map(fixture), now: NOW });
      expect(parsed.files.every((f) => f.rows !== null)).toBe(true);
      await other.store.write((conn) => writeImport(conn, parsed));
      for (const table of ['activity_daily', 'interactions', 'threads', 'comm_volume_weekly']) {
        const sql = `SELECT * EXCLUDE (import_id) FROM ${table} ORDER BY ALL`;
        const streamed = await store.query(sql);
        expect(streamed.length).toBeGreaterThan(10);
        expect(streamed).toEqual(await other.store.query(sql));
      }
      const rows = 'SELECT kind, rows::VARCHAR AS rows FROM imports ORDER BY kind';
      expect(await store.query(rows)).toEqual(await other.store.query(rows));
    } finally {
      other.cleanup();
    }
  });

  it('names the line of a bad value in a later slice and writes nothing, earlier slices included', async () => {
    await importAt(store, 'employees', [fixture('canonical/employees.csv')]);
    const before = await counts(store);
    const bad = textFile(
      'threads.csv',
      tricky.content.toString('utf8').replace('2026-03-02T12:00:00Z', '2026-03-32T12:00:00Z'),
    );
    await expect(importFiles(store, { kind: 'auto', files: [bad], now: NOW, sliceRows: 2 })).rejects.toThrow(
      /^threads\.csv:9 column "created_ts": "2026-03-32T12:00:00Z" is not a date-time/,
    );
    expect(await counts(store)).toEqual(before);
  });

  it('refuses a key repeated in another slice, naming both lines', async () => {
    const repeated = textFile('threads.csv', tricky.content.toString('utf8').replace(',T5,', ',T1,'));
    await expect(
      importFiles(store, { kind: 'threads', files: [repeated], now: NOW, sliceRows: 2 }),
    ).rejects.toThrow(/^threads\.csv:12: repeats the threads row of line 2/);
    expect((await counts(store)).threads).toBe(0);
  });

  it('checks the header before the transaction, even for bytes imported before under another kind', async () => {
    await importAt(store, 'employees', [fixture('canonical/employees.csv')]);
    await expect(importAt(store, 'activity-daily', [fixture('canonical/employees.csv')])).rejects.toThrow(
      /^employees\.csv:1: missing column\(s\) "activity_date", "platform"/,
    );
  });

  it('leaves no staging table behind on the writing connection', async () => {
    await importFiles(store, { kind: 'auto', files: CANONICAL.map(fixture), now: NOW, sliceRows: 7 });
    // Reused staging tables kept every row ever staged in memory (DELETE does not free it).
    const temporary = await store.write(async (conn) =>
      (await conn.runAndReadAll('SELECT table_name FROM duckdb_tables() WHERE temporary')).getRowObjectsJS(),
    );
    expect(temporary).toEqual([]);
  });
});
