import { DuckDBDateValue } from '@duckdb/node-api';
import { ImportError, type ImportFile, parseDay } from './csv.js';

// Slack's dashboard downloads hold no report date: the period is in the name Slack gives them,
// "<Workspace> Member Analytics Prior 30 Days - Apr 17, 2026.csv".
const PERIOD = /Prior (\d+) Days - ([A-Za-z]{3} \d{1,2}, \d{4})\.csv$/i;

/** The period (length in days, last day) of a Slack dashboard export, read from its file name. */
export function slackExportPeriod(
  file: ImportFile,
  example: string,
): { period_days: number; period_end: DuckDBDateValue } {
  const period = PERIOD.exec(file.name);
  const end = period ? parseDay(period[2] ?? '') : null;
  if (!period || end === null) {
    throw new ImportError(
      file.name,
      1,
      null,
      `cannot tell the period from the file name: keep the name Slack gives the download, e.g. "${example}"`,
    );
  }
  return { period_days: Number(period[1]), period_end: new DuckDBDateValue(end) };
}
