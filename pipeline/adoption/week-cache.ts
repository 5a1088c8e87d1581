import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DuckDBConnection } from '@duckdb/node-api';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Row, Store } from '../store.js';
import { prepareSpans, type Span, type SpanRows, spanRows } from './metrics.js';
import {
  type Db,
  type Dimension,
  latestDataDay,
  openPopulation,
  type Population,
  resolveWindow,
  sqlDay,
  sqlText,
} from './population.js';
import { spanPeople, trendWeeks } from './trend.js';

/**
 * Figures of complete weeks change only when the adoption data does (migration 014). Every write to
 * these tables bumps the data version in its own transaction (bumpAdoptionData); a test reads every
 * writer's SQL and checks.
 */
export const ADOPTION_TABLES = [
  'employees',
  'employee_history',
  'identity_map',
  'activity_daily',
  'activity_period',
  'interactions',
  'threads',
  'comm_volume_weekly',
] as const;

/**
 * The formula's version: a hash of this folder's code as it runs, so rows kept by another build
 * (whatever it changed in prepareSpans, spanRows, spanPeople or what they call here) are never
 * read as this one's. A version number raised by hand was one forgotten edit away from serving
 * old figures; an upgrade now costs one recomputation of the weeks asked for.
 */
const FORMULA = (() => {
  const dir = dirname(fileURLToPath(import.meta.url));
  const hash = createHash('sha256');
  for (const file of readdirSync(dir)
    .filter((f) => /\.(js|ts)$/.test(f))
    .sort()) {
    hash.update(file).update(readFileSync(join(dir, file)));
  }
  // The column is a 32-bit INTEGER.
  return Number.parseInt(hash.digest('hex').slice(0, 7), 16);
})();

/** Inside the writer's transaction: the data moved, so nothing computed from it before is kept. */
export async function bumpAdoptionData(conn: DuckDBConnection): Promise<void> {
  await conn.run('UPDATE adoption_data SET version = version + 1');
  // Dropped rather than left unread: an erased person leaves no aggregate behind either.
  await conn.run('DELETE FROM adoption_week_figures');
}

/**
 * The adoption data's version, read on `db` (the store, or a report's own connection, whose
 * transaction sees its own snapshot): two readings tell whether anything wrote in between.
 */
export async function adoptionDataVersion(db: Db): Promise<number> {
  const [row] = await db.query('SELECT version FROM adoption_data');
  return Number(row?.version);
}

/** Rows of every span before privacy: people per atom (spanPlans) and each breakdown's rows (spanMetrics). */
export interface SpansRows {
  people: Row[];
  /** One map per breakdown asked for, in the same order: span id -> its rows. */
  rows: Map<string, SpanRows>[];
}

const PEOPLE = 'people';
const partOf = (dims: readonly Dimension[]) => `by:${dims.join(',')}`;

/**
 * The rows of `fresh` spans (computed every time: the window) and of complete `weeks`, the weeks
 * read from the cache when it holds them for this data version, time zone and licensing day (the
 * window's last day: eligibility reads licences as of then), computed and kept otherwise. Privacy
 * is applied after, the same way whether the rows were kept or not.
 */
export async function spansRows(
  pop: Population,
  fresh: readonly Span[],
  weeks: readonly Span[],
  breakdowns: readonly (readonly Dimension[])[],
): Promise<SpansRows> {
  // Read before anything is computed: rows kept under it are then never newer than their version.
  const version = await adoptionDataVersion(pop.db);
  const parts = [PEOPLE, ...breakdowns.map(partOf)];
  const where = `data_version = ${version} AND formula = ${FORMULA}
    AND time_zone = ${sqlText(pop.window.timeZone)} AND licensed_as_of = ${sqlDay(pop.window.end)}`;
  // week -> part -> its kept rows (people: Row[]; a breakdown: SpanRows)
  const cached = new Map<string, Map<string, unknown>>();
  if (weeks.length) {
    const kept =
      await pop.db.query(`SELECT strftime(span_start, '%Y-%m-%d') AS week, strftime(span_end, '%Y-%m-%d') AS week_end, part, rows
      FROM adoption_week_figures WHERE ${where}
        AND span_start IN (${weeks.map((w) => sqlDay(w.start)).join(', ')})
        AND part IN (${parts.map(sqlText).join(', ')})`);
    for (const r of kept) {
      const week = weeks.find((w) => w.start === r.week && w.end === r.week_end);
      if (!week) continue;
      const byPart = cached.get(week.id) ?? new Map<string, unknown>();
      byPart.set(String(r.part), JSON.parse(String(r.rows)));
      cached.set(week.id, byPart);
    }
  }
  const missing = weeks.filter((w) => parts.some((p) => !cached.get(w.id)?.has(p)));
  // Parts a missing week has kept already are not written again (see keep).
  const keptParts = new Map(missing.map((w) => [w.id, cached.get(w.id) ?? new Map<string, unknown>()]));
  for (const w of missing) cached.delete(w.id);

  const spans = [...fresh, ...missing];
  const people: Row[] = [];
  const rows: Map<string, SpanRows>[] = [];
  if (spans.length) {
    await prepareSpans(pop, spans);
    people.push(...(await spanPeople(pop)));
    for (const dims of breakdowns) rows.push(await spanRows(pop, dims));
  } else for (const _ of breakdowns) rows.push(new Map());
  if (missing.length) {
    const entries = missing
      .flatMap((w) => [
        { week: w, part: PEOPLE, rows: people.filter((r) => r.span_id === w.id) },
        ...breakdowns.map((dims, i) => ({
          week: w,
          part: partOf(dims),
          rows: rows[i]?.get(w.id) ?? { participation: [], ties: [], responsiveness: [] },
        })),
      ])
      .filter((e) => !keptParts.get(e.week.id)?.has(e.part));
    if (entries.length) await keep(pop, version, entries);
  }
  for (const [week, byPart] of cached) {
    people.push(...((byPart.get(PEOPLE) as Row[] | undefined) ?? []));
    breakdowns.forEach((dims, i) => {
      const kept = byPart.get(partOf(dims)) as SpanRows | undefined;
      if (kept) rows[i]?.set(week, kept);
    });
  }
  return { people, rows };
}

/** Keeps run one at a time in this process (the only one that opens the file): see keep. */
let keeping: Promise<void> = Promise.resolve();

/**
 * Keeps computed weeks on the report's own connection, not through store.write: a report must not
 * queue behind a running import, nor count as a write (the dashboard recomputes after one). It only
 * inserts, never replaces, so a write's bumpAdoptionData (which deletes) never conflicts with it.
 * Reports computed at once (a page asks for several sections) would: DuckDB refuses the second
 * COMMIT of the same key with "duplicate key" even under INSERT OR IGNORE. So keeps queue behind each
 * other, and the later one ignores the rows the earlier one kept.
 */
function keep(
  pop: Population,
  version: number,
  entries: readonly { week: Span; part: string; rows: unknown }[],
): Promise<void> {
  const mine = keeping.then(() => insertKept(pop, version, entries));
  keeping = mine.catch(() => undefined);
  return mine;
}

async function insertKept(
  pop: Population,
  version: number,
  entries: readonly { week: Span; part: string; rows: unknown }[],
): Promise<void> {
  const values = entries
    .map(
      (e) =>
        `(${version}, ${FORMULA}, ${sqlText(pop.window.timeZone)}, ${sqlDay(pop.window.end)}, ${sqlDay(e.week.start)}, ${sqlDay(e.week.end)}, ${sqlText(e.part)}, ${sqlText(JSON.stringify(e.rows))})`,
    )
    .join(',\n');
  await pop.db.query('BEGIN TRANSACTION');
  try {
    // Only while the data is still that version: rows of data that has moved on are never read.
    if ((await adoptionDataVersion(pop.db)) === version) {
      // A write that began before this transaction and committed since deleted only the rows it
      // saw: rows an earlier keep left under an older version go here.
      await pop.db.query(`DELETE FROM adoption_week_figures WHERE data_version <> ${version}`);
      await pop.db.query(`INSERT OR IGNORE INTO adoption_week_figures VALUES ${values}`);
    }
    await pop.db.query('COMMIT');
  } catch (err) {
    await pop.db.query('ROLLBACK').catch(() => undefined);
    // A write committed meanwhile (conflict); the report's rows are computed all the same.
    if (!/conflict|duplicate key/i.test((err as Error).message)) throw err;
  }
}

/** The breakdowns warmed after an import: the company and by department (the leadership report). */
const WARMED: readonly (readonly Dimension[])[] = [[], ['department']];

/**
 * After a write to the adoption data has committed (an import, a collection that brought some, an
 * erasure) and when the server starts (a new build's formula reads none of the kept rows): computes
 * and keeps the trend weeks of the default report (28 days to the latest data), so the first report
 * after it is as quick as a repeat. Weeks kept already are only read. A failure is logged, never the
 * writer's: the report computes what is missing itself.
 */
export async function warmWeekFigures(store: Store, timeZone: string, logger?: Logger): Promise<void> {
  try {
    // A directory alone has no weeks to warm.
    if (!(await latestDataDay(store, timeZone))) return;
    const window = await resolveWindow(store, { days: 28, timeZone });
    // Rows are the same for every audience; the analyst's skips planning the window.
    const pop = await openPopulation(store, window, 1, 'analyst');
    try {
      await spansRows(pop, [], trendWeeks(window), WARMED);
    } finally {
      pop.close();
    }
  } catch (err) {
    logger?.warn(
      { err: errorMessage(err) },
      'could not keep the adoption report weeks ahead of the next report',
    );
  }
}
