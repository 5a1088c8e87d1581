import type { GroupKey } from '../privacy/suppress.js';
import { type Figure, figure, ratio } from './figures.js';
import {
  addDays,
  type Dimension,
  eligibleSql,
  groupingSets,
  keyOf,
  type Population,
  sqlDay,
  sqlText,
} from './population.js';

/**
 * Rates from vendor period totals (activity_period), for platforms that give no daily rows: the
 * latest period ending by the window's last day, of the length nearest the window's. Never added
 * to the daily figures: each carries its platform, period and grain.
 */
export interface PeriodRates {
  platform: string;
  period_days: number;
  period_end: string;
  groups: {
    key: GroupKey;
    withheld: 'small' | 'complementary' | null;
    active_rate?: Figure;
    participation_rate?: Figure;
  }[];
}

export async function periodRates(pop: Population, dims: readonly Dimension[]): Promise<PeriodRates[]> {
  const { end, days } = pop.window;
  const periods = await pop.db.query(`SELECT platform, period_days, period_end FROM (
      SELECT DISTINCT platform, period_days, period_end FROM activity_period WHERE period_end <= ${sqlDay(end)})
    QUALIFY row_number() OVER (PARTITION BY platform ORDER BY period_end DESC, abs(period_days - ${days}), period_days) = 1
    ORDER BY platform`);
  const out: PeriodRates[] = [];
  for (const p of periods) {
    const platform = String(p.platform);
    const periodDays = Number(p.period_days);
    const periodEnd = (p.period_end as Date).toISOString().slice(0, 10);
    const select = dims.length ? `${dims.map((d) => `e.${d}`).join(', ')},` : '';
    const rows = await pop.db.query(`SELECT ${select} count(*) AS eligible,
        count(*) FILTER (WHERE coalesce(a.active_days, 0) > 0 OR a.last_activity_date > ${sqlDay(periodEnd)} - ${periodDays}
          OR coalesce(a.posts, 0) + coalesce(a.replies, 0) + coalesce(a.reactions, 0) + coalesce(a.reads, 0)
            + coalesce(a.chat_messages, 0) + coalesce(a.channel_messages, 0) + coalesce(a.calls, 0)
            + coalesce(a.meetings, 0) + coalesce(a.meetings_attended, 0) > 0) AS active,
        count(*) FILTER (WHERE coalesce(a.posts, 0) + coalesce(a.replies, 0) + coalesce(a.reactions, 0) > 0) AS participants
      FROM ${eligibleSql(addDays(periodEnd, -(periodDays - 1)), periodEnd)} e
      LEFT JOIN (SELECT employee_id, max(active_days) AS active_days, max(last_activity_date) AS last_activity_date,
          sum(posts) AS posts, sum(replies) AS replies, sum(reactions) AS reactions, sum(reads) AS reads,
          sum(chat_messages) AS chat_messages, sum(channel_messages) AS channel_messages, sum(calls) AS calls,
          sum(meetings) AS meetings, sum(meetings_attended) AS meetings_attended
        FROM activity_period
        WHERE platform = ${sqlText(platform)} AND period_days = ${periodDays} AND period_end = ${sqlDay(periodEnd)}
          AND employee_id IS NOT NULL GROUP BY 1) a USING (employee_id)
      ${groupingSets(dims)}`);
    const source = `activity_period ${platform} D${periodDays} to ${periodEnd}`;
    out.push({
      platform,
      period_days: periodDays,
      period_end: periodEnd,
      groups: rows.map((r) => {
        const key = keyOf(r, dims);
        const eligible = Number(r.eligible);
        const reason = pop.plan.reason(key) ?? (eligible < pop.plan.minGroupSize ? 'small' : null);
        if (reason) return { key, withheld: reason };
        return {
          key,
          withheld: null,
          active_rate: figure(ratio(Number(r.active), eligible), 'period', source),
          participation_rate: figure(ratio(Number(r.participants), eligible), 'period', source),
        };
      }),
    });
  }
  return out;
}
