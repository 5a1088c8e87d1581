import { gunzipSync } from 'node:zlib';
import ExcelJS from 'exceljs';
import { CsvRecord, CsvTable, ImportError, type ImportFile, readCsv, readHeader } from './csv.js';

// Decided by magic bytes, not by the name: analysts rename downloads, and Slack's getFile answers
// with gzip whatever the name says.
const isGzip = (b: Buffer) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
const isZip = (b: Buffer) => b.length >= 4 && b.readUInt32LE(0) === 0x04034b50;
const isNdjson = (b: Buffer) => /^(?:\uFEFF)?\s*\{/.test(b.subarray(0, 64).toString('utf8'));

/** The file with gzip undone, so every reader sees plain bytes. */
export function gunzipped(file: ImportFile): ImportFile {
  if (!isGzip(file.content)) return file;
  try {
    return { name: file.name, content: gunzipSync(file.content) };
  } catch (err) {
    throw new ImportError(file.name, 1, null, `not a valid gzip file: ${(err as Error).message}`);
  }
}

const cellText = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
};

/**
 * Newline-delimited JSON (gzip or plain) as a table, so the importers read it with the same
 * by-name accessors and line-numbered errors as a CSV. The header is every key seen, in order of
 * appearance: Slack adds fields over time and omits some per row.
 */
export function readNdjson(input: ImportFile): CsvTable {
  const file = gunzipped(input);
  const lines = file.content
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .split('\n');
  const objects: { line: number; value: Record<string, unknown> }[] = [];
  lines.forEach((text, i) => {
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new ImportError(file.name, i + 1, null, `not valid JSON: ${(err as Error).message}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new ImportError(file.name, i + 1, null, 'expected one JSON object per line');
    objects.push({ line: i + 1, value: value as Record<string, unknown> });
  });
  const header: string[] = [];
  for (const o of objects) for (const k of Object.keys(o.value)) if (!header.includes(k)) header.push(k);
  const table = new CsvTable(file.name, header);
  for (const o of objects)
    table.records.push(
      new CsvRecord(
        table,
        header.map((h) => cellText(o.value[h])),
        o.line,
      ),
    );
  return table;
}

/** An Excel cell as the text a CSV export of it would hold; dates as YYYY-MM-DD (UTC, as Excel stores them). */
function xlsxText(v: ExcelJS.CellValue): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) {
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

/** The first worksheet of an .xlsx as a table; "lines" are sheet rows (the header is row 1). */
export async function readXlsx(file: ImportFile): Promise<CsvTable> {
  const workbook = new ExcelJS.Workbook();
  try {
    // exceljs's Buffer type predates @types/node's generic Buffer.
    await workbook.xlsx.load(file.content as unknown as ExcelJS.Buffer);
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
  const table = new CsvTable(file.name, header);
  sheet.eachRow({ includeEmpty: false }, (row, n) => {
    if (n === 1) return;
    const values = cells(row);
    if (values.some((v) => v !== '')) table.records.push(new CsvRecord(table, values, n));
  });
  return table;
}

/** A CSV or an .xlsx (told apart by the zip signature), for formats a product gives either way. */
export function readTable(file: ImportFile): Promise<CsvTable> {
  return isZip(file.content) ? readXlsx(file) : Promise.resolve(readCsv(file));
}

/** The column names of any supported file (CSV, NDJSON, gzip of either, XLSX), for `auto`. */
export async function sniffHeader(input: ImportFile): Promise<string[] | null> {
  try {
    if (isZip(input.content)) return (await readXlsx(input)).header;
    const file = gunzipped(input);
    if (isNdjson(file.content)) {
      const first =
        file.content
          .toString('utf8')
          .replace(/^\uFEFF/, '')
          .split('\n', 1)[0] ?? '';
      return Object.keys(JSON.parse(first) as Record<string, unknown>);
    }
    return readHeader(file);
  } catch {
    return null;
  }
}
