import { type GroupKey, type PrivacyPlan, planSuppression } from '../privacy/suppress.js';
import type { Row } from '../store.js';
import type { Figure, WithheldReason } from './figures.js';
import { type GroupMetrics, type Span, WINDOW_SPAN } from './metrics.js';
import { addDays, keyId, PLANNED_DIMENSIONS, type Population, sqlDay, type Window } from './population.js';
import { fitLine, predict } from './stats.js';

export const FORECAST_WEEKS = 4;

/** One week of a group's series: every window figure, over that week's own eligible people and plan. */
export interface TrendWeek {
  /** Monday the week starts (weeks run Monday to Sunday). */
  week: string;
  /** The week's plan withholds the group: then the week has no figure, not even its size. */
  withheld: WithheldReason | null;
  eligible?: number;
  figures?: Record<string, Figure>;
}

/** The rates with a fitted line and forecast. */
type ForecastMetric = 'participation_rate' | 'active_rate';

export interface TrendForecast {
  week: string;
  participation_rate: number;
  low: number;
  high: number;
}

export interface TrendFit {
  slope_per_week: number;
  grain: 'daily';
  source: 'activity_daily';
}

export interface GroupTrend {
  key: GroupKey;
  withheld: 'small' | 'complementary' | null;
  weeks?: TrendWeek[];
  /** Participation rate per week on a fitted straight line: change per week, and the next 4 weeks. */
  fit?: TrendFit | null;
  forecast?: TrendForecast[];
  /** The same for the active rate. */
  active_rate_fit?: TrendFit | null;
  active_rate_forecast?: { week: string; active_rate: number; low: number; high: number }[];
}

/** Monday of the week holding `day`. */
function mondayOf(day: string): string {
  const weekday = (new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7;
  return addDays(day, -weekday);
}

/**
 * The trend's spans: the last `weeks` complete Monday-Sunday weeks (reporting time zone) up to the
 * window's last day, each named by its Monday.
 */
export function trendWeeks(window: Window, weeks = 12): Span[] {
  // The last complete week ends on the Sunday on or before the window's last day.
  const lastMonday = addDays(mondayOf(addDays(window.end, 1)), -7);
  return Array.from({ length: weeks }, (_, i) => {
    const start = addDays(lastMonday, -7 * (weeks - 1 - i));
    return { id: start, start, end: addDays(start, 6) };
  });
}

/** People per span and atom (spanPlans' input): a few thousand rows, not one per person and week. */
export async function spanPeople(pop: Population): Promise<Row[]> {
  return pop.db.query(
    `SELECT span_id, ${PLANNED_DIMENSIONS.join(', ')}, count(*) AS n FROM s_people GROUP BY ALL`,
  );
}

/** People per atom (one value of each planned dimension), as JSON key -> count. */
function atoms(rows: readonly Record<string, unknown>[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) {
    const id = JSON.stringify(PLANNED_DIMENSIONS.map((d) => String(r[d])));
    out.set(id, (out.get(id) ?? 0) + Number(r.n ?? 1));
  }
  return out;
}

/** Publishes what both plans publish: publishing less than a safe plan stays safe. */
function bothPlans(a: PrivacyPlan, b: PrivacyPlan): PrivacyPlan {
  const reason = (key: GroupKey) => a.reason(key) ?? b.reason(key);
  return { minGroupSize: a.minGroupSize, reason, isWithheld: (key) => reason(key) !== null };
}

/**
 * A week's shape for privacy: which combinations have people, and which groups (every combination
 * of planned dimensions, "all" included) have fewer than `min`. Groups are numbered once per
 * planning (`cellsOf`): a week adds its atoms' head counts to 16 numbers each, no strings built.
 */
function shape(mine: Map<string, number>, min: number, cellsOf: (atom: string) => Int32Array): string {
  const counts = new Map<number, number>();
  for (const [id, n] of mine) for (const cell of cellsOf(id)) counts.set(cell, (counts.get(cell) ?? 0) + n);
  const small = [...counts].filter(([, n]) => n < min).map(([cell]) => cell);
  return JSON.stringify([[...mine.keys()].sort(), small.sort((a, b) => a - b)]);
}

/** Numbers every group (an atom's values, each kept or "all") the atoms given to it belong to. */
function groupNumbering(): (atom: string) => Int32Array {
  const groups = new Map<string, number>();
  const byAtom = new Map<string, Int32Array>();
  return (atom) => {
    let cells = byAtom.get(atom);
    if (!cells) {
      const values = JSON.parse(atom) as string[];
      cells = new Int32Array(1 << values.length);
      for (let mask = 0; mask < cells.length; mask++) {
        const group = values.map((v, d) => (mask & (1 << d) ? v : '*')).join('\u0000');
        if (!groups.has(group)) groups.set(group, groups.size);
        cells[mask] = groups.get(group) ?? 0;
      }
      byAtom.set(atom, cells);
    }
    return cells;
  };
}

/** Every atom of `a` has at least as many people in `b`, and they have the same atoms. */
const grownFrom = (a: Map<string, number>, b: Map<string, number>) =>
  a.size === b.size && [...a].every(([id, n]) => (b.get(id) ?? 0) >= n);

/**
 * The privacy plan of every span (prepareSpans' s_people): the window's own, and for each week a
 * plan over that week's eligible people. Hires, leavers and moves make a week's groups differ from
 * the window's, so the window's plan alone could publish, in some week, a department and all but
 * one of its levels while that level has fewer than the minimum. A week's figure is published only
 * when both plans publish it. Weekly figures split by leaders vs others too, so a week is planned
 * over every planned dimension, leader included.
 *
 * A plan made over some people stays safe for any people with the same combinations of groups and
 * at least as many in each (every group one can work out is then at least as large). Planning
 * costs about as much as the rest of the report, so weeks of the same shape (the same combinations,
 * the same groups below the minimum) share one plan, made over the fewest people each combination
 * had in those weeks; and it is the window's own plan when the window is no larger anywhere.
 * `rows` are spanPeople's: people per span and atom.
 */
export function spanPlans(pop: Population, rows: readonly Row[]): (span: string) => PrivacyPlan {
  if (pop.audience === 'analyst') return () => pop.plan;
  const min = pop.plan.minGroupSize;
  const bySpan = new Map<string, Record<string, unknown>[]>();
  for (const r of rows) {
    const members = bySpan.get(String(r.span_id)) ?? [];
    members.push(r);
    bySpan.set(String(r.span_id), members);
  }
  const window = atoms(bySpan.get(WINDOW_SPAN) ?? []);
  // shape -> the weeks of that shape, and the fewest people per atom among them
  const shapes = new Map<string, { weeks: string[]; fewest: Map<string, number> }>();
  const cellsOf = groupNumbering();
  for (const [span, members] of bySpan) {
    if (span === WINDOW_SPAN) continue;
    const mine = atoms(members);
    const id = shape(mine, min, cellsOf);
    const entry = shapes.get(id);
    if (!entry) shapes.set(id, { weeks: [span], fewest: mine });
    else {
      entry.weeks.push(span);
      for (const [atom, n] of mine) entry.fewest.set(atom, Math.min(n, entry.fewest.get(atom) ?? n));
    }
  }
  const plans = new Map<string, PrivacyPlan>();
  for (const { weeks, fewest } of shapes.values()) {
    if (grownFrom(window, fewest)) continue;
    // One entry per atom with its head count.
    const list = [...fewest].map(([atom, n]) => {
      const values = JSON.parse(atom) as string[];
      return {
        ...Object.fromEntries(PLANNED_DIMENSIONS.map((d, i) => [d, String(values[i])])),
        n: String(n),
      };
    });
    const plan = bothPlans(
      pop.plan,
      planSuppression(list, PLANNED_DIMENSIONS, min, (m) => Number(m.n)),
    );
    for (const week of weeks) plans.set(week, plan);
  }
  return (span) => plans.get(span) ?? pop.plan;
}

/** A least-squares line through the published weeks' values of `metric`, and the next 4 weeks. */
function forecastOf(series: readonly TrendWeek[], metric: ForecastMetric) {
  const points = series.flatMap((w, x) => {
    const f = w.figures?.[metric];
    return f && !f.withheld && f.value !== null ? [{ x, y: f.value }] : [];
  });
  const fit = fitLine(points);
  const last = series.at(-1)?.week;
  const forecast =
    fit && last
      ? Array.from({ length: FORECAST_WEEKS }, (_, i) => ({
          week: addDays(last, 7 * (i + 1)),
          ...predict(fit, series.length + i),
        }))
      : [];
  const line: TrendFit | null = fit
    ? { slope_per_week: fit.slope, grain: 'daily', source: 'activity_daily' }
    : null;
  return { fit: line, forecast };
}

/**
 * Every figure, per group, over the trend's weeks (spanMetrics of trendWeeks' spans, each week with
 * its own eligible employees and plan); then a least-squares line through the published weeks'
 * participation and active rates and a 4-week forecast with a 95% prediction interval.
 */
export async function weeklyTrend(
  pop: Population,
  weeks: readonly Span[],
  metrics: readonly Map<string, GroupMetrics[]>[],
): Promise<GroupTrend[]> {
  // A week where the group had no data at all yet is left out rather than shown as zero.
  const firstData = await pop.db.query(
    `SELECT CAST(date_trunc('week', min(activity_date)) AS DATE) AS d FROM activity_daily WHERE activity_date <= ${sqlDay(pop.window.end)}`,
  );
  const dataFrom =
    firstData[0]?.d instanceof Date ? firstData[0].d.toISOString().slice(0, 10) : (weeks.at(-1)?.id ?? '');
  const groups = new Map<string, { key: GroupKey; weeks: TrendWeek[] }>();
  for (const week of weeks) {
    if (week.id < dataFrom) continue;
    for (const g of metrics.flatMap((m) => m.get(week.id) ?? [])) {
      const id = keyId(g.key);
      if (!groups.has(id)) groups.set(id, { key: g.key, weeks: [] });
      const { key: _, ...rest } = g;
      groups.get(id)?.weeks.push({ week: week.id, ...rest });
    }
  }
  return [...groups.values()]
    .map(({ key, weeks: series }): GroupTrend => {
      const reason = pop.plan.reason(key);
      if (reason) return { key, withheld: reason };
      const participation = forecastOf(series, 'participation_rate');
      const active = forecastOf(series, 'active_rate');
      return {
        key,
        withheld: null,
        weeks: series,
        fit: participation.fit,
        forecast: participation.forecast.map(({ week, value, low, high }) => ({
          week,
          participation_rate: value,
          low,
          high,
        })),
        active_rate_fit: active.fit,
        active_rate_forecast: active.forecast.map(({ week, value, low, high }) => ({
          week,
          active_rate: value,
          low,
          high,
        })),
      };
    })
    .sort((a, b) => keyId(a.key).localeCompare(keyId(b.key)));
}
