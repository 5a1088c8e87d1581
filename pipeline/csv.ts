/** One CSV cell (RFC 4180 quoting) of a value read from DuckDB or computed for a report. */
export function csvCell(v: unknown): string {
  const s =
    v === null || v === undefined
      ? ''
      : v instanceof Date
        ? v.toISOString()
        : typeof v === 'object'
          ? JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))
          : String(v);
  // A leading = + - @ (or tab, CR) makes a spreadsheet run the cell as a formula; collected text and
  // directory names are attacker-controlled. Plain numbers like -0.5 stay numbers.
  const safe = /^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** One CSV line, CRLF-terminated as RFC 4180 has it (spreadsheets read either). */
export function csvLine(values: readonly unknown[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}
