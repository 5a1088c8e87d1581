import type { GroupKey } from '../privacy/suppress.js';
import type { Grain, WithheldReason } from './figures.js';
import {
  type Db,
  type Dimension,
  groupingSets,
  keyId,
  keyOf,
  type Population,
  sqlDay,
} from './population.js';
import { welchDifference } from './stats.js';

const SOURCE = 'comm_volume_weekly+activity_daily';

/** Change after rollout for adopters minus the same change for non-adopters, per employee-week. */
export interface DidFigure {
  grain: Grain;
  source: string;
  withheld?: WithheldReason;
  /** Difference in differences of the mean per week; with its Welch 95% confidence interval. */
  value?: number | null;
  low?: number | null;
  high?: number | null;
  /** The same as a share of the adopters' mean before rollout. */
  relative?: number | null;
  adopters_change?: number | null;
  non_adopters_change?: number | null;
}

export interface GroupEmailMeetings {
  key: GroupKey;
  withheld: WithheldReason | null;
  /** First day the network was in use: weeks ending before it are "before". */
  rollout: string;
  emails_sent?: DidFigure;
  meetings_attended?: DidFigure;
}

/** The first day with daily activity, taken as the rollout when none is given. */
export async function defaultRollout(db: Db): Promise<string | null> {
  const [r] = await db.query('SELECT min(activity_date) AS d FROM activity_daily');
  return r?.d instanceof Date ? r.d.toISOString().slice(0, 10) : null;
}

/**
 * Difference in differences (DESIGN.md section 6). Adopters: eligible employees who posted,
 * replied or reacted between rollout and the window's last day; everyone else eligible is a
 * non-adopter. Each person's change is the mean of their complete weeks after rollout minus the
 * mean of their weeks before it; people without weeks on both sides are left out. Both sides must
 * have at least the minimum group size, or the figure is withheld.
 */
export async function emailMeetingChange(
  pop: Population,
  dims: readonly Dimension[],
  rollout: string,
): Promise<GroupEmailMeetings[]> {
  const r = sqlDay(rollout);
  const e = sqlDay(pop.window.end);
  const select = dims.length ? `${dims.map((d) => `p.${d}`).join(', ')},` : '';
  const rows = await pop.db.query(`WITH adopters AS (
      SELECT DISTINCT employee_id FROM activity_daily
      WHERE employee_id IS NOT NULL AND activity_date BETWEEN ${r} AND ${e}
        AND coalesce(posts, 0) + coalesce(replies, 0) + coalesce(reactions, 0) > 0),
    per AS (
      SELECT employee_id,
        avg(emails_sent) FILTER (WHERE week_start + 6 < ${r}) AS pre_e,
        avg(emails_sent) FILTER (WHERE week_start >= ${r} AND week_start + 6 <= ${e}) AS post_e,
        avg(meetings_attended) FILTER (WHERE week_start + 6 < ${r}) AS pre_m,
        avg(meetings_attended) FILTER (WHERE week_start >= ${r} AND week_start + 6 <= ${e}) AS post_m
      FROM comm_volume_weekly GROUP BY 1)
    -- Each aggregate reads its people in one order: floating-point sums merged from parallel
    -- threads in whatever order they finish differ in the last digits from run to run.
    SELECT ${select} adopter, count(*) AS n,
      avg(post_e - pre_e ORDER BY employee_id) AS de, var_samp(post_e - pre_e ORDER BY employee_id) AS ve,
      avg(pre_e ORDER BY employee_id) AS pre_e,
      avg(post_m - pre_m ORDER BY employee_id) AS dm, var_samp(post_m - pre_m ORDER BY employee_id) AS vm,
      avg(pre_m ORDER BY employee_id) AS pre_m
    FROM (SELECT p.*, a.employee_id IS NOT NULL AS adopter FROM w_people p LEFT JOIN adopters a USING (employee_id)) p
      JOIN per USING (employee_id)
    WHERE pre_e IS NOT NULL AND post_e IS NOT NULL AND pre_m IS NOT NULL AND post_m IS NOT NULL
    ${groupingSets(dims, ['adopter'])}`);
  const groups = new Map<
    string,
    { key: GroupKey; yes?: (typeof rows)[number]; no?: (typeof rows)[number] }
  >();
  for (const row of rows) {
    const key = keyOf(row, dims);
    const g = groups.get(keyId(key)) ?? { key };
    if (row.adopter) g.yes = row;
    else g.no = row;
    groups.set(keyId(key), g);
  }
  const min = pop.plan.minGroupSize;
  return [...groups.values()]
    .map(({ key, yes, no }): GroupEmailMeetings => {
      const reason = pop.plan.reason(key);
      if (reason) return { key, withheld: reason, rollout };
      const did = (change: string, variance: string, pre: string): DidFigure => {
        // No one on one side: nothing to compare. Leadership still sees it withheld, as it says
        // something about every member (all adopted, or none did); the analyst sees no value.
        if ((!yes || !no) && pop.audience === 'analyst')
          return { grain: 'weekly', source: SOURCE, value: null, low: null, high: null, relative: null };
        if (!yes || !no || Number(yes.n) < min || Number(no.n) < min)
          return { grain: 'weekly', source: SOURCE, withheld: 'small' };
        const side = (row: typeof yes) => ({
          n: Number(row.n),
          mean: Number(row[change]),
          variance: Number(row[variance] ?? 0),
        });
        const d = welchDifference(side(yes), side(no));
        const before = Number(yes[pre]);
        return {
          grain: 'weekly',
          source: SOURCE,
          value: d?.value ?? null,
          low: d?.low ?? null,
          high: d?.high ?? null,
          relative: d && before > 0 ? d.value / before : null,
          adopters_change: Number(yes[change]),
          non_adopters_change: Number(no[change]),
        };
      };
      return {
        key,
        withheld: null,
        rollout,
        emails_sent: did('de', 've', 'pre_e'),
        meetings_attended: did('dm', 'vm', 'pre_m'),
      };
    })
    .sort((a, b) => keyId(a.key).localeCompare(keyId(b.key)));
}
