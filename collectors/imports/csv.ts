import { DuckDBDateValue } from '@duckdb/node-api';
import { type Info, parse as parseStream } from 'csv-parse';
import { parse } from 'csv-parse/sync';
import { UserError } from '../../pipeline/errors.js';
import { gzipError, plainStream } from './bytes.js';

/**
 * One file handed to an importer: its name (for messages) and its bytes, in memory (a collector's
 * download) or in a file (an upload, a CLI import), which is read as a stream, never whole, by
 * every format that can be read in slices.
 */
export type ImportFile = {
  name: string;
  /**
   * The one day (YYYY-MM-DD, UTC) an API report was asked for (Graph `date=`): its rows are that
   * day's, daily grain, whatever its refresh date column says. Absent for downloaded exports.
   */
  reportDay?: string;
} & ({ content: Buffer } | { path: string });

/** An ImportFile whose bytes are in memory. */
export type BufferFile = ImportFile & { content: Buffer };

/** A bad file: the message names the file, the line and the column, so the analyst can fix it. */
export class ImportError extends UserError {
  override name = 'ImportError';
  constructor(file: string, line: number, column: string | null, message: string) {
    super(`${file}:${line}${column === null ? '' : ` column "${column}"`}: ${message}`, 400);
  }
}

// Vendors differ in case and stray spaces around header names; matching ignores both.
const norm = (name: string) => name.trim().toLowerCase();

/** One data record, read by column NAME: vendors add and reorder columns between versions. */
export class CsvRecord {
  constructor(
    private readonly table: CsvTable,
    private readonly values: string[],
    /** Line of the file where the record starts (the header is line 1). */
    readonly line: number,
  ) {}

  fail(column: string | null, message: string): never {
    throw new ImportError(this.table.file, this.line, column, message);
  }

  /** The raw cell, '' when the column is absent or empty. */
  raw(column: string): string {
    const i = this.table.index(column);
    return i === undefined ? '' : (this.values[i] ?? '').trim();
  }

  has(column: string): boolean {
    return this.table.index(column) !== undefined;
  }

  str(column: string): string {
    const v = this.raw(column);
    if (v === '') this.fail(column, 'is empty; a value is required');
    return v;
  }

  optStr(column: string): string | null {
    const v = this.raw(column);
    return v === '' ? null : v;
  }

  int(column: string): number | null {
    const v = this.raw(column);
    if (v === '') return null;
    if (!/^-?\d+$/.test(v)) this.fail(column, `"${v}" is not a whole number`);
    const n = Number.parseInt(v, 10);
    // Counts are INTEGER columns: a larger one failed the import inside DuckDB without naming the
    // line (found by tests/fuzz/importers.test.ts).
    if (Math.abs(n) > 2_147_483_647) this.fail(column, `"${v}" is too large (at most 2147483647)`);
    return n;
  }

  num(column: string): number | null {
    const v = this.raw(column);
    if (v === '') return null;
    const n = Number(v);
    if (!Number.isFinite(n)) this.fail(column, `"${v}" is not a number`);
    return n;
  }

  bool(column: string): boolean | null {
    const v = this.raw(column).toLowerCase();
    if (v === '') return null;
    if (['true', 'yes', '1', 'y'].includes(v)) return true;
    if (['false', 'no', '0', 'n'].includes(v)) return false;
    return this.fail(column, `"${this.raw(column)}" is not true/false or yes/no`);
  }

  /** A calendar day (DuckDB DATE), from YYYY-MM-DD or "Mon D, YYYY". */
  date(column: string): DuckDBDateValue | null {
    const v = this.raw(column);
    if (v === '') return null;
    const days = parseDay(v);
    if (days === null) return this.fail(column, `"${v}" is not a date (expected YYYY-MM-DD)`);
    return new DuckDBDateValue(days);
  }

  /** An instant; a value without an offset is read as UTC (what the vendors document). */
  instant(column: string): Date | null {
    const v = this.raw(column);
    if (v === '') return null;
    const t = parseInstant(v);
    if (t === null)
      return this.fail(column, `"${v}" is not a date-time (expected ISO 8601, e.g. 2026-04-01T09:00:00Z)`);
    return t;
  }
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

function validDay(y: number, m: number, d: number): number | null {
  const t = Date.UTC(y, m - 1, d);
  const back = new Date(t);
  // Date.UTC rolls 2026-02-30 over to March; a real day survives the round trip.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== m - 1 || back.getUTCDate() !== d) return null;
  return t / 86_400_000;
}

export function parseDay(v: string): number | null {
  let m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (m) return validDay(Number(m[1]), Number(m[2]), Number(m[3]));
  // Slack's dashboard exports write days as "Apr 17, 2026".
  m = /^([A-Za-z]{3})[a-z]* (\d{1,2}), (\d{4})$/.exec(v);
  if (m) {
    const month = MONTHS.indexOf((m[1] ?? '').toLowerCase());
    return month < 0 ? null : validDay(Number(m[3]), month + 1, Number(m[2]));
  }
  return null;
}

function parseInstant(v: string): Date | null {
  // ISO 8601 with Z or an offset (Salesforce writes +0000 without the colon), or
  // "YYYY-MM-DD HH:MM:SS UTC" (Viva Engage network export); no offset means UTC.
  const m =
    /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?\s*(Z|UTC|[+-]\d{2}:?\d{2})?$/.exec(
      v,
    );
  if (!m) return null;
  const day = validDay(Number(m[1]), Number(m[2]), Number(m[3]));
  const [h, min, s] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (day === null || h > 23 || min > 59 || s > 59) return null;
  const ms = Math.round(Number(m[7] ?? 0) * 1000);
  let offsetMin = 0;
  const zone = m[8];
  if (zone && zone !== 'Z' && zone !== 'UTC') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
    offsetMin = (z?.[1] === '-' ? -1 : 1) * (Number(z?.[2]) * 60 + Number(z?.[3]));
  }
  return new Date(day * 86_400_000 + ((h * 60 + min - offsetMin) * 60 + s) * 1000 + ms);
}

/** A parsed CSV file: the header and the records, looked up by column name. */
export class CsvTable {
  readonly records: CsvRecord[] = [];
  readonly #index = new Map<string, number>();

  constructor(
    readonly file: string,
    readonly header: string[],
  ) {
    header.forEach((h, i) => {
      // The first of two same-named columns wins; later ones are vendor duplicates.
      if (!this.#index.has(norm(h))) this.#index.set(norm(h), i);
    });
  }

  index(column: string): number | undefined {
    return this.#index.get(norm(column));
  }

  /** Refuses the file unless every named column is there (extra columns are fine). */
  require(columns: readonly string[]): void {
    const missing = columns.filter((c) => this.index(c) === undefined);
    if (missing.length > 0)
      throw new ImportError(
        this.file,
        1,
        null,
        `missing column(s) ${missing.map((c) => `"${c}"`).join(', ')}`,
      );
  }
}

const CSV_OPTIONS = { bom: true, info: true, skip_empty_lines: true } as const;

function notCsv(file: ImportFile, err: unknown): unknown {
  const gzip = gzipError(file, err);
  if (gzip !== err) return gzip;
  const e = err as Error & { lines?: number };
  // A file that vanished or cannot be read is no bad line.
  if ('syscall' in e) return err;
  return new ImportError(file.name, e.lines ?? 1, null, `not a valid CSV file: ${e.message}`);
}

/**
 * The line each record starts on, from csv-parse's info (which says where it ends): the record
 * starts after the previous one and any blank lines skipped in between.
 */
function lineCounter(): (info: Info) => number {
  let prevEnd = 0;
  let prevEmpty = 0;
  return (info) => {
    const line = prevEnd + 1 + (info.empty_lines - prevEmpty);
    prevEnd = info.lines;
    prevEmpty = info.empty_lines;
    return line;
  };
}

/**
 * Reads a whole CSV (RFC 4180 via csv-parse: quoted fields with commas, quotes and newlines; a UTF-8
 * BOM is dropped). A record with a different number of fields than the header is refused with its
 * line, since shifted columns would silently put values in the wrong place.
 */
export function readCsv(file: BufferFile): CsvTable {
  let parsed: { record: string[]; info: Info }[];
  try {
    parsed = parse(file.content, CSV_OPTIONS) as unknown as typeof parsed;
  } catch (err) {
    throw notCsv(file, err);
  }
  const [head, ...body] = parsed;
  if (!head) throw new ImportError(file.name, 1, null, 'the file is empty; expected a header line');
  const lineOf = lineCounter();
  lineOf(head.info);
  const table = new CsvTable(file.name, head.record);
  for (const { record, info } of body) table.records.push(new CsvRecord(table, record, lineOf(info)));
  return table;
}

/**
 * The same CSV as readCsv, read as it is parsed, in tables of at most `size` records that share the
 * header (at least one, maybe empty, so a header-only file is still checked): a large export is
 * imported in bounded memory, its lines numbered as in the whole file.
 */
export async function* readCsvSlices(file: ImportFile, size: number): AsyncGenerator<CsvTable> {
  const source = await plainStream(file);
  const parser = parseStream(CSV_OPTIONS);
  // pipe() forwards no errors: a broken gzip or a vanished file ends the parse with its error.
  source.on('error', (err) => parser.destroy(err));
  source.pipe(parser);
  const lineOf = lineCounter();
  let header: string[] | undefined;
  let table: CsvTable | undefined;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: Info }>) {
      const line = lineOf(info);
      if (header === undefined) {
        header = record;
        table = new CsvTable(file.name, header);
        continue;
      }
      if (!table) table = new CsvTable(file.name, header);
      table.records.push(new CsvRecord(table, record, line));
      if (table.records.length === size) {
        yield table;
        table = undefined;
      }
    }
  } catch (err) {
    if (err instanceof ImportError) throw err;
    throw notCsv(file, err);
  } finally {
    source.destroy();
  }
  if (header === undefined)
    throw new ImportError(file.name, 1, null, 'the file is empty; expected a header line');
  if (table) yield table;
}
