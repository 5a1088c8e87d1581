import { type GroupKey, type PrivacyPlan, planSuppression } from '../privacy/suppress.js';
import { type Figure, figure, ratio, withheldFigure } from './figures.js';
import {
  addDays,
  type Dimension,
  eligibleSpansSql,
  GROUP_DIMENSIONS,
  groupingSets,
  keyId,
  keyOf,
  type Population,
  sqlDay,
} from './population.js';
import { fitLine, predict } from './stats.js';

export const FORECAST_WEEKS = 4;

export interface TrendWeek {
  /** Monday the week starts (weeks run Monday to Sunday). */
  week: string;
  active_rate: Figure;
  participation_rate: Figure;
}

export interface TrendForecast {
  week: string;
  participation_rate: number;
  low: number;
  high: number;
}

export interface GroupTrend {
  key: GroupKey;
  withheld: 'small' | 'complementary' | null;
  weeks?: TrendWeek[];
  /** Participation rate per week on a fitted straight line: change per week, and the next 4 weeks. */
  fit?: { slope_per_week: number; grain: 'daily'; source: 'activity_daily' } | null;
  forecast?: TrendForecast[];
}

/** Monday of the week holding `day`. */
function mondayOf(day: string): string {
  const weekday = (new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7;
  return addDays(day, -weekday);
}

/** People per atom (one value of each dimension a trend is broken down by), as JSON key -> count. */
function atoms(rows: readonly Record<string, unknown>[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) {
    const id = JSON.stringify(GROUP_DIMENSIONS.map((d) => String(r[d])));
    out.set(id, (out.get(id) ?? 0) + Number(r.n ?? 1));
  }
  return out;
}

/**
 * A privacy plan per week, over that week's own eligible people. Hires, leavers and moves make a
 * week's groups differ from the window's, so the window's plan alone could publish, in some week, a
 * department and all but one of its levels while that level has fewer than the minimum. A week's
 * figure is published only when both plans publish it: publishing less than a safe plan stays safe.
 * Weekly figures are only ever broken down by department, location and level (never leaders vs
 * others), so a week is planned over those three: it need not withhold anything to protect a split
 * it never publishes. Planning costs about as much as the rest of the report, so a week reuses the
 * window's plan when
 * that is provably safe (the same combinations of groups, none with fewer people than in the
 * window: every group one can work out is then at least as large as in the window), and weeks with
 * the same people per combination share one plan.
 */
async function weekPlans(pop: Population, people: string): Promise<Map<string, PrivacyPlan> | null> {
  if (pop.audience === 'analyst') return null;
  const dims = GROUP_DIMENSIONS.join(', ');
  const window = atoms(await pop.db.query(`SELECT ${dims}, count(*) AS n FROM w_people GROUP BY ALL`));
  // People per week and atom: a few thousand rows, not one per person and week. Sorted as the
  // people themselves were, so the plans (and their tie-breaks) are the same.
  const rows = await pop.db.query(
    `${people} SELECT strftime(span_start, '%Y-%m-%d') AS week, ${dims}, count(*) AS n FROM people GROUP BY ALL ORDER BY ALL`,
  );
  const byWeek = new Map<string, Record<string, unknown>[]>();
  for (const r of rows) {
    const week = String(r.week);
    const members = byWeek.get(week) ?? [];
    members.push(r);
    byWeek.set(week, members);
  }
  const shared = new Map<string, PrivacyPlan>();
  const plans = new Map<string, PrivacyPlan>();
  for (const [week, members] of byWeek) {
    const mine = atoms(members);
    const grown = mine.size === window.size && [...window].every(([id, n]) => (mine.get(id) ?? 0) >= n);
    if (grown) {
      plans.set(week, pop.plan);
      continue;
    }
    const signature = JSON.stringify([...mine].sort());
    let plan = shared.get(signature);
    if (!plan) {
      // planSuppression counts people one by one: an atom's entry stands in for each of its n people.
      const list = members.flatMap((r) => {
        const person = Object.fromEntries(GROUP_DIMENSIONS.map((d) => [d, String(r[d])]));
        return Array.from({ length: Number(r.n) }, () => person);
      });
      plan = planSuppression(list, GROUP_DIMENSIONS, pop.plan.minGroupSize);
      shared.set(signature, plan);
    }
    plans.set(week, plan);
  }
  return plans;
}

/**
 * Weekly active and participation rates (daily grain) over the last `weeks` complete weeks up to
 * the window's last day, each week with its own eligible employees and privacy plan; then a least-squares line
 * through the published weeks' participation rates and a 4-week forecast with a 95% prediction
 * interval.
 */
export async function weeklyTrend(
  pop: Population,
  dims: readonly Dimension[],
  weeks = 12,
): Promise<GroupTrend[]> {
  const { end } = pop.window;
  // The last complete week ends on the Sunday on or before the window's last day.
  const lastMonday = addDays(mondayOf(addDays(end, 1)), -7);
  const firstMonday = addDays(lastMonday, -7 * (weeks - 1));
  const select = dims.length ? `${dims.join(', ')},` : '';
  const people = `WITH spans AS (
      SELECT CAST(ws AS DATE) AS span_start, CAST(ws AS DATE) + 6 AS span_end
      FROM range(${sqlDay(firstMonday)}, ${sqlDay(lastMonday)} + 1, INTERVAL 7 DAY) t(ws)),
    people AS ${eligibleSpansSql('spans', sqlDay(end))}`;
  const plans = await weekPlans(pop, people);
  const rows = await pop.db.query(`${people},
    weekly AS (
      SELECT CAST(date_trunc('week', activity_date) AS DATE) AS span_start, employee_id,
        bool_or(coalesce(posts, 0) + coalesce(replies, 0) + coalesce(reactions, 0) + coalesce(reads, 0)
          + coalesce(chat_messages, 0) + coalesce(channel_messages, 0) + coalesce(meetings_attended, 0) > 0) AS active,
        sum(coalesce(posts, 0) + coalesce(replies, 0) + coalesce(reactions, 0)) > 0 AS participant
      FROM activity_daily
      WHERE employee_id IS NOT NULL AND activity_date BETWEEN ${sqlDay(firstMonday)} AND ${sqlDay(lastMonday)} + 6
      GROUP BY 1, 2)
    SELECT ${select} span_start, count(*) AS eligible,
      count(*) FILTER (WHERE w.active) AS active, count(*) FILTER (WHERE w.participant) AS participants
    FROM people p LEFT JOIN weekly w USING (span_start, employee_id)
    ${groupingSets(dims, ['span_start'])} ORDER BY span_start`);
  // A week where the group had no data at all yet is left out rather than shown as zero.
  const firstData = await pop.db.query(
    `SELECT CAST(date_trunc('week', min(activity_date)) AS DATE) AS d FROM activity_daily WHERE activity_date <= ${sqlDay(end)}`,
  );
  const dataFrom = firstData[0]?.d instanceof Date ? firstData[0].d.toISOString().slice(0, 10) : lastMonday;
  const groups = new Map<string, { key: GroupKey; rows: typeof rows }>();
  for (const r of rows) {
    const key = keyOf(r, dims);
    const id = keyId(key);
    if (!groups.has(id)) groups.set(id, { key, rows: [] });
    groups.get(id)?.rows.push(r);
  }
  return [...groups.values()]
    .map(({ key, rows: mine }): GroupTrend => {
      const reason = pop.plan.reason(key);
      if (reason) return { key, withheld: reason };
      const daily = (v: number | null) => figure(v, 'daily', 'activity_daily');
      const series: TrendWeek[] = mine
        .map((r) => ({ row: r, week: (r.span_start as Date).toISOString().slice(0, 10) }))
        .filter((r) => r.week >= dataFrom)
        .map(({ row: r, week }) => {
          const eligible = Number(r.eligible);
          const weekReason = plans?.get(week)?.reason(key) ?? null;
          if (weekReason)
            return {
              week,
              active_rate: withheldFigure(weekReason, 'daily', 'activity_daily'),
              participation_rate: withheldFigure(weekReason, 'daily', 'activity_daily'),
            };
          return {
            week,
            active_rate: daily(ratio(Number(r.active), eligible)),
            participation_rate: daily(ratio(Number(r.participants), eligible)),
          };
        });
      const points = series.flatMap((w, x) =>
        w.participation_rate.value === null ? [] : [{ x, y: w.participation_rate.value }],
      );
      const fit = fitLine(points);
      const last = series.at(-1)?.week ?? lastMonday;
      const forecast = fit
        ? Array.from({ length: FORECAST_WEEKS }, (_, i) => {
            const p = predict(fit, series.length + i);
            return {
              week: addDays(last, 7 * (i + 1)),
              participation_rate: p.value,
              low: p.low,
              high: p.high,
            };
          })
        : [];
      return {
        key,
        withheld: null,
        weeks: series,
        fit: fit ? { slope_per_week: fit.slope, grain: 'daily', source: 'activity_daily' } : null,
        forecast,
      };
    })
    .sort((a, b) => keyId(a.key).localeCompare(keyId(b.key)));
}
