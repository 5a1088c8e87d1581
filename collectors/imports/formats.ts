import { createInterface } from 'node:readline';
import { gunzipSync, constants as zlib } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { gzipError, headBytes, isGzip, isZip, plainStream, wholeFile } from './bytes.js';
import { CsvRecord, CsvTable, ImportError, type ImportFile, readCsvSlices } from './csv.js';

const isNdjson = (b: Buffer) => /^(?:\uFEFF)?\s*\{/.test(b.subarray(0, 64).toString('utf8'));

/** The first bytes of the text, gzip undone as far as they go, for telling formats apart. */
async function plainHead(file: ImportFile): Promise<Buffer> {
  const head = await headBytes(file, 65_536);
  if (!isGzip(head)) return head;
  try {
    // A gzip cut short inflates as far as it goes with a sync flush; the whole file is not needed.
    return gunzipSync(head, { finishFlush: zlib.Z_SYNC_FLUSH });
  } catch (err) {
    throw gzipError(file, err);
  }
}

type Format = 'xlsx' | 'ndjson' | 'csv';

async function formatOf(file: ImportFile): Promise<Format> {
  if (isZip(await headBytes(file, 4))) return 'xlsx';
  return isNdjson(await plainHead(file)) ? 'ndjson' : 'csv';
}

const cellText = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
};

/**
 * Newline-delimited JSON (gzip or plain) in tables of at most `size` objects, read line by line, so
 * the importers read it with the same by-name accessors and line-numbered errors as a CSV. A slice's
 * header is every key seen so far in the file, in order of appearance: Slack adds fields over time
 * and omits some per row (the last slice's header is the whole file's).
 */
async function* ndjsonSlices(file: ImportFile, size: number): AsyncGenerator<CsvTable> {
  const source = await plainStream(file);
  const header: string[] = [];
  const known = new Set<string>();
  let objects: { line: number; value: Record<string, unknown> }[] = [];
  const table = () => {
    const t = new CsvTable(file.name, [...header]);
    for (const o of objects)
      t.records.push(
        new CsvRecord(
          t,
          header.map((h) => cellText(o.value[h])),
          o.line,
        ),
      );
    objects = [];
    return t;
  };
  let line = 0;
  let yielded = false;
  try {
    for await (const raw of createInterface({ input: source, crlfDelay: Number.POSITIVE_INFINITY })) {
      line += 1;
      const text = line === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        throw new ImportError(file.name, line, null, `not valid JSON: ${(err as Error).message}`);
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw new ImportError(file.name, line, null, 'expected one JSON object per line');
      for (const k of Object.keys(value))
        if (!known.has(k)) {
          known.add(k);
          header.push(k);
        }
      objects.push({ line, value: value as Record<string, unknown> });
      if (objects.length === size) {
        yielded = true;
        yield table();
      }
    }
  } catch (err) {
    throw gzipError(file, err);
  } finally {
    source.destroy();
  }
  if (objects.length > 0 || !yielded) yield table();
}

/** An Excel cell as the text a CSV export of it would hold; dates as YYYY-MM-DD (UTC, as Excel stores them). */
function xlsxText(v: ExcelJS.CellValue): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) {
    // A date cell Excel cannot show (######): refused by the column's reader, on its row.
    if (Number.isNaN(v.getTime())) return 'an invalid date';
    const iso = v.toISOString();
    // A date-only cell is midnight UTC; anything else keeps its time.
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso;
  }
  if (typeof v === 'object') {
    if ('richText' in v) return v.richText.map((t) => t.text).join('');
    if ('text' in v) return String(v.text);
    if ('result' in v) return xlsxText((v.result ?? null) as ExcelJS.CellValue);
    if ('error' in v) return '';
  }
  return String(v);
}

/**
 * The first worksheet of an .xlsx in tables of at most `size` rows; "lines" are sheet rows (the
 * header is row 1); empty rows are skipped, as a CSV's blank lines are. The workbook is loaded whole:
 * exceljs's streaming reader lost unzip errors (hanging on a corrupt entry) and, under load, misread
 * the header now and then (a CI failure), and the exports that come as .xlsx (Workplace's employee
 * list: one row per person) are small.
 */
async function* xlsxSlices(file: ImportFile, size: number): AsyncGenerator<CsvTable> {
  const workbook = new ExcelJS.Workbook();
  try {
    // exceljs's Buffer type predates @types/node's generic Buffer.
    await workbook.xlsx.load((await wholeFile(file)).content as unknown as ExcelJS.Buffer);
  } catch (err) {
    throw new ImportError(file.name, 1, null, `not a readable .xlsx workbook: ${(err as Error).message}`);
  }
  const sheet = workbook.worksheets[0];
  const head = sheet?.getRow(1);
  if (!sheet || !head || head.cellCount === 0)
    throw new ImportError(file.name, 1, null, 'the first worksheet is empty; expected a header row');
  const width = head.cellCount;
  const cells = (row: ExcelJS.Row) =>
    Array.from({ length: width }, (_, i) => xlsxText(row.getCell(i + 1).value).trim());
  const header = cells(head).map((h) => h.replace(/^\uFEFF/, ''));
  let table = new CsvTable(file.name, header);
  let yielded = false;
  for (let n = 2; n <= sheet.rowCount; n++) {
    const values = cells(sheet.getRow(n));
    if (!values.some((v) => v !== '')) continue;
    table.records.push(new CsvRecord(table, values, n));
    if (table.records.length === size) {
      yielded = true;
      yield table;
      table = new CsvTable(file.name, header);
    }
  }
  if (table.records.length > 0 || !yielded) yield table;
}

/**
 * Any supported table file (CSV, NDJSON, gzip of either, XLSX, told apart by their bytes) in tables
 * of at most `size` records that share its header, at least one (maybe empty, so a header-only file
 * is still checked), lines numbered as in the whole file.
 */
export async function* readSlices(file: ImportFile, size: number): AsyncGenerator<CsvTable> {
  const format = await formatOf(file);
  if (format === 'xlsx') yield* xlsxSlices(file, size);
  else if (format === 'ndjson') yield* ndjsonSlices(file, size);
  else yield* readCsvSlices(file, size);
}

/** The whole file as one table (see readSlices). */
export async function readWhole(file: ImportFile): Promise<CsvTable> {
  for await (const table of readSlices(file, Number.POSITIVE_INFINITY)) return table;
  throw new Error('readSlices yields at least one table');
}

/**
 * Every key of the objects on the head's lines, in order of appearance, as the slices' headers grow:
 * a line may omit a field its neighbours have (the last line may be cut short by the head and is
 * skipped unless it is the only one).
 */
function ndjsonKeys(head: string): string[] {
  const lines = head.split('\n').filter((l) => l.trim() !== '');
  const whole = lines.length > 1 && !head.endsWith('\n') ? lines.slice(0, -1) : lines;
  const keys = new Set<string>();
  for (const line of whole) for (const k of Object.keys(JSON.parse(line) as object)) keys.add(k);
  return [...keys];
}

/** The column names of any supported file (CSV, NDJSON, gzip of either, XLSX), for `auto`; null if unreadable. */
export async function sniffHeader(file: ImportFile): Promise<string[] | null> {
  try {
    const format = await formatOf(file);
    if (format === 'xlsx') {
      for await (const table of xlsxSlices(file, 1)) return table.header;
      return null;
    }
    const head = (await plainHead(file)).toString('utf8').replace(/^\uFEFF/, '');
    if (format === 'ndjson') return ndjsonKeys(head);
    const [first] = parse(head, { to_line: 1, relax_column_count: true }) as string[][];
    return first ?? null;
  } catch {
    return null;
  }
}
