import { UserError } from '../errors.js';
import { type GroupKey, type PrivacyPlan, planSuppression } from '../privacy/suppress.js';
import { plainRows, type Row, type Store } from '../store.js';

/** What figures can be broken down by; `leader` (manager or executive) is planned but chosen by the report. */
export const GROUP_DIMENSIONS = ['department', 'location', 'level'] as const;
export type Dimension = (typeof GROUP_DIMENSIONS)[number];
/** Every dimension a figure is ever published by: privacy is planned over all of them at once. */
export const PLANNED_DIMENSIONS = [...GROUP_DIMENSIONS, 'leader'] as const;

/** A reporting window of whole days in the reporting time zone, both ends included. */
export interface Window {
  start: string;
  end: string;
  days: number;
  timeZone: string;
}

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

export function checkDay(day: string, field: string): string {
  if (!ISO_DAY.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`)) || addDays(day, 0) !== day)
    throw new UserError(`${field}: "${day}" is not a day; use YYYY-MM-DD, e.g. 2026-04-10`);
  return day;
}

/** A DATE literal for SQL; days are checked before they get here, so the literal is safe. */
export const sqlDay = (day: string) => `DATE '${checkDay(day, 'day')}'`;
export const sqlText = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** The local day of an instant column in the reporting time zone (the store runs in UTC). */
export const localDay = (column: string, timeZone: string) =>
  `CAST(timezone(${sqlText(timeZone)}, ${column}) AS DATE)`;

/**
 * Instants whose local day falls in the window: between the instants of its first local midnight
 * and the one after its last day, so no row is converted to local time just to be filtered.
 */
export function inWindowSql(column: string, window: Window): string {
  const midnight = (day: string) =>
    `timezone(${sqlText(window.timeZone)}, CAST(${sqlDay(day)} AS TIMESTAMP))`;
  return `${column} >= ${midnight(window.start)} AND ${column} < ${midnight(addDays(window.end, 1))}`;
}

/** The window's interactions between two different people. */
export function windowInteractionsSql(window: Window): string {
  return `(SELECT * FROM interactions
    WHERE from_employee_id IS NOT NULL AND to_employee_id IS NOT NULL AND from_employee_id <> to_employee_id
      AND ${inWindowSql('event_ts', window)})`;
}

/**
 * The latest day with any adoption data: daily activity days as the vendor reports them, and the
 * local day of interactions and threads.
 */
export async function latestDataDay(store: Store, timeZone: string): Promise<string | null> {
  const [row] = await store.query(`SELECT greatest(
      (SELECT max(activity_date) FROM activity_daily),
      ${localDay('(SELECT max(event_ts) FROM interactions)', timeZone)},
      ${localDay('(SELECT max(created_ts) FROM threads)', timeZone)}) AS d`);
  return row?.d instanceof Date ? row.d.toISOString().slice(0, 10) : null;
}

export async function resolveWindow(
  store: Store,
  args: { days: number; asOf?: string | undefined; timeZone: string },
): Promise<Window> {
  if (!Number.isInteger(args.days) || args.days < 7 || args.days > 366)
    throw new UserError(`window: ${args.days} days is not between 7 and 366; use e.g. 28d`);
  const end = args.asOf ? checkDay(args.asOf, 'as-of') : await latestDataDay(store, args.timeZone);
  if (!end) throw new UserError('no adoption data yet: import activity first (earshot import auto <files>)');
  return { start: addDays(end, -(args.days - 1)), end, days: args.days, timeZone: args.timeZone };
}

/** Employees reported unlicensed by every platform whose latest export up to `endExpr` says so. */
function unlicensedSql(endExpr: string): string {
  return `(SELECT employee_id FROM (
      SELECT employee_id, is_licensed, row_number() OVER (
        PARTITION BY employee_id, platform ORDER BY period_end DESC, period_days) AS rn
      FROM activity_period
      WHERE is_licensed IS NOT NULL AND employee_id IS NOT NULL AND period_end <= ${endExpr})
    WHERE rn = 1 GROUP BY employee_id HAVING NOT bool_or(is_licensed))`;
}

/**
 * Eligible employees of the spans in `spans` (a relation with columns span_start, span_end and any
 * others, which are kept), with their groups on each span's last day (DESIGN.md section 6): in the
 * directory during the whole span (history from its first day, hired by then, not left before its
 * last day) and not reported unlicensed (as of `licensedAsOf`) by every platform whose export says
 * so. A person who moved department during a span counts where they are on its last day.
 * Columns: the span's, employee_id, department, location, level, leader ('yes'/'no').
 */
export function eligibleSpansSql(spans: string, licensedAsOf: string): string {
  return `(SELECT sp.*, e.employee_id,
      coalesce(h.department, '(none)') AS department, coalesce(h.location, '(none)') AS location,
      coalesce(h.level, '(none)') AS level,
      CASE WHEN h.is_manager OR h.is_executive THEN 'yes' ELSE 'no' END AS leader
    FROM ${spans} sp
    JOIN employees e ON coalesce(e.hire_date, sp.span_start) <= sp.span_start
      AND coalesce(e.term_date, sp.span_end) >= sp.span_end
    JOIN (SELECT employee_id, min(valid_from) AS first_day FROM employee_history GROUP BY 1) fs
      ON fs.employee_id = e.employee_id AND fs.first_day <= sp.span_start
    JOIN employee_history h ON h.employee_id = e.employee_id AND h.valid_from <= sp.span_end
      AND ${openEnd('h')} > sp.span_end
    WHERE e.employee_id NOT IN ${unlicensedSql(licensedAsOf)})`;
}

/** The eligible employees of one span [start, end]: see eligibleSpansSql. */
export function eligibleSql(start: string, end: string): string {
  return eligibleSpansSql(`(SELECT ${sqlDay(start)} AS span_start, ${sqlDay(end)} AS span_end)`, sqlDay(end));
}

/**
 * valid_to with the open stretch as a far day. Written without OR so DuckDB keeps the join on
 * employee_id a hash join (an OR in the condition makes it a nested loop: seconds instead of ms).
 */
const openEnd = (alias: string) => `coalesce(${alias}.valid_to, DATE '9999-12-31')`;

/**
 * Group values of whoever an employee was at an instant (for interactions: departments at the
 * time). The history's days become instants of the reporting zone, so the few history rows are
 * converted instead of every interaction. `history` is employee_history or a relation with its
 * columns, joined on `key` (the employee column, or a number standing for the employee).
 */
export function historyAtSql(
  employeeColumn: string,
  instant: string,
  alias: string,
  timeZone: string,
  history: string,
  key: string,
): string {
  const at = (day: string) => `timezone(${sqlText(timeZone)}, CAST(${day} AS TIMESTAMP))`;
  return `LEFT JOIN (SELECT *, ${at('valid_from')} AS from_ts,
      coalesce(${at('valid_to')}, CAST('infinity' AS TIMESTAMPTZ)) AS to_ts FROM ${history}) ${alias}
    ON ${alias}.${key} = ${employeeColumn} AND ${alias}.from_ts <= ${instant} AND ${alias}.to_ts > ${instant}`;
}

/** Where the report's queries run: a Store, or the report's own connection with its temp tables. */
export interface Db {
  query(sql: string): Promise<Row[]>;
}

export interface Population {
  window: Window;
  audience: Audience;
  plan: PrivacyPlan;
  size: number;
  /** A private connection holding temp table w_people (the eligible employees of the window). */
  db: Db;
  close(): void;
}

/**
 * Who reads the report. Leadership gets aggregates with the privacy plan applied (DESIGN.md section
 * 6). Analysts already read every table with `earshot sql`, per person ("no per-person ranking leaves
 * the analyst role"), so their report withholds nothing: it must not be handed on to leadership.
 */
export const AUDIENCES = ['leadership', 'analyst'] as const;
export type Audience = (typeof AUDIENCES)[number];

/** The analyst's plan: every group is published, down to one person (the minimum is 1). */
export const PUBLISH_ALL: PrivacyPlan = Object.freeze({
  minGroupSize: 1,
  isWithheld: () => false,
  reason: () => null,
});

export function checkAudience(audience: string): Audience {
  if (!(AUDIENCES as readonly string[]).includes(audience))
    throw new UserError(`audience: "${audience}" is not one of ${AUDIENCES.join(', ')}`);
  return audience as Audience;
}

/**
 * The window's eligible population and its privacy plan: for leadership, planned over every
 * dimension ever published; for analysts, PUBLISH_ALL. The people are kept in a temp table of a
 * connection of the report's own (temp tables are private to a connection, so concurrent reports
 * never see each other's); `close` drops it all.
 */
export async function openPopulation(
  store: Store,
  window: Window,
  minGroupSize: number,
  audience: Audience = 'leadership',
): Promise<Population> {
  const conn = await store.connect();
  const db: Db = { query: async (sql) => plainRows(await conn.runAndReadAll(sql)) };
  try {
    await conn.run(`CREATE TEMP TABLE w_people AS SELECT * FROM ${eligibleSql(window.start, window.end)}`);
    // One entry per combination of groups with its head count (the plan does not depend on order).
    const rows = await db.query(
      'SELECT department, location, level, leader, count(*) AS n FROM w_people GROUP BY ALL',
    );
    const members = rows.map((r) => ({
      department: String(r.department),
      location: String(r.location),
      level: String(r.level),
      leader: String(r.leader),
      n: String(r.n),
    }));
    const plan =
      audience === 'analyst'
        ? PUBLISH_ALL
        : memoPlan(planSuppression(members, PLANNED_DIMENSIONS, minGroupSize, (m) => Number(m.n)));
    const size = members.reduce((sum, m) => sum + Number(m.n), 0);
    return { window, audience, plan, size, db, close: () => store.release(conn) };
  } catch (err) {
    store.release(conn);
    throw err;
  }
}

/** One answer per key: the report asks about the same groups from several sections. */
function memoPlan(plan: PrivacyPlan): PrivacyPlan {
  const cache = new Map<string, 'small' | 'complementary' | null>();
  const reason = (key: GroupKey) => {
    const id = JSON.stringify(Object.entries(key).sort());
    if (!cache.has(id)) cache.set(id, plan.reason(key));
    return cache.get(id) ?? null;
  };
  return { minGroupSize: plan.minGroupSize, reason, isWithheld: (key) => reason(key) !== null };
}

export function checkDimensions(by: readonly string[]): Dimension[] {
  const out: Dimension[] = [];
  for (const d of by) {
    if (!(GROUP_DIMENSIONS as readonly string[]).includes(d))
      throw new UserError(`by: "${d}" is not one of ${GROUP_DIMENSIONS.join(', ')}`);
    if (!out.includes(d as Dimension)) out.push(d as Dimension);
  }
  return out;
}

/**
 * The group key of a result row grouped by `dims`. A NULL dimension is the "all" of a grouping set
 * (real values are never NULL: unknown is '(none)'), so it is left out of the key.
 */
export function keyOf(row: Record<string, unknown>, dims: readonly string[]): GroupKey {
  return Object.fromEntries(
    dims.filter((d) => row[d] !== null && row[d] !== undefined).map((d) => [d, String(row[d])]),
  );
}

/** GROUP BY the company and, when there are dims, each group of them too (the company's dims are NULL). */
export function groupingSets(dims: readonly string[], always: readonly string[] = []): string {
  const set = (cols: readonly string[]) => `(${cols.join(', ')})`;
  return dims.length
    ? `GROUP BY GROUPING SETS (${set(always)}, ${set([...always, ...dims])})`
    : always.length
      ? `GROUP BY ${always.join(', ')}`
      : '';
}

export const keyId = (key: GroupKey) => JSON.stringify(Object.entries(key).sort());
