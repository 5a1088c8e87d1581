import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import ExcelJS from 'exceljs';
import { type BufferFile, type ImportFile, readCsv } from '../../collectors/imports/csv.js';
import { type ImportOutcome, importFiles } from '../../collectors/imports/write.js';
import { projectRoot } from '../../pipeline/paths.js';
import type { Store } from '../../pipeline/store.js';
import { openTestStore } from '../helpers/store.js';

export const adoptionFixtures = join(projectRoot, 'tests', 'fixtures', 'adoption');

/** A fixture file as an import would receive it. */
export function fixture(path: string): BufferFile {
  return { name: basename(path), content: readFileSync(join(adoptionFixtures, path)) };
}

/** A made-up file, named like a fixture in messages. */
export function textFile(name: string, text: string): BufferFile {
  return { name, content: Buffer.from(text, 'utf8') };
}

export const NOW = new Date('2026-04-20T00:00:00Z');

export function importAt(
  store: Store,
  kind: string,
  files: ImportFile[],
  now: Date = NOW,
): Promise<ImportOutcome> {
  return importFiles(store, { kind, files, now });
}

export async function count(store: Store, table: string): Promise<number> {
  return Number((await store.query(`SELECT count(*) AS n FROM ${table}`))[0]?.n);
}

/** Every adoption table's row count, to prove a refused import wrote nothing. */
export async function counts(store: Store): Promise<Record<string, number>> {
  const tables = [
    'imports',
    'employees',
    'employee_history',
    'identity_map',
    'unmatched_identities',
    'activity_daily',
    'activity_period',
    'interactions',
    'threads',
    'comm_volume_weekly',
    'group_activity_period',
  ];
  const result: Record<string, number> = {};
  for (const t of tables) result[t] = await count(store, t);
  return result;
}

export const CANONICAL = [
  'canonical/employees.csv',
  'canonical/activity_daily.csv',
  'canonical/interactions.csv',
  'canonical/threads.csv',
  'canonical/comm_volume_weekly.csv',
];

/** A DATE read back (a Date at UTC midnight) as YYYY-MM-DD. */
export function isoDay(v: unknown): string {
  return v instanceof Date ? v.toISOString().slice(0, 10) : String(v);
}

export function isoTime(v: unknown): string {
  return v instanceof Date ? v.toISOString() : String(v);
}

/** A fresh database with the canonical directory imported, so user keys resolve to employees. */
export async function openWithDirectory(): Promise<{ store: Store; cleanup: () => void }> {
  const opened = await openTestStore();
  await importAt(opened.store, 'employees', [fixture('canonical/employees.csv')]);
  return opened;
}

/** A CSV as the .xlsx a product gives (Workplace), with Start date as a real Excel date cell. */
export async function xlsxOf(text: string): Promise<Buffer> {
  const table = readCsv(textFile('x.csv', text));
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('Employees');
  sheet.addRow(table.header);
  for (const r of table.records)
    sheet.addRow(
      table.header.map((h) =>
        h === 'Start date' && /^\d{4}-\d{2}-\d{2}$/.test(r.raw(h))
          ? new Date(`${r.raw(h)}T00:00:00Z`)
          : r.raw(h),
      ),
    );
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
