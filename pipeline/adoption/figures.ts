import type { GroupKey, PrivacyPlan } from '../privacy/suppress.js';

/**
 * How a figure was measured. Grains are never mixed (DESIGN.md section 6): `daily` = per-user days
 * (activity_daily), `period` = vendor period totals (activity_period D7/D30/...), `event` = single
 * interactions or threads, `weekly` = per-employee weeks (comm_volume_weekly).
 */
export type Grain = 'daily' | 'period' | 'event' | 'weekly';
export type WithheldReason = 'small' | 'complementary';

/** One published number. `value` is null when there is nothing to measure (no questions, say). */
export interface Figure {
  value: number | null;
  grain: Grain;
  /** The table(s) it is computed from. */
  source: string;
  /** Set when the number is about too few people: then value is null and nothing else about it is given. */
  withheld?: WithheldReason;
}

export function figure(value: number | null, grain: Grain, source: string): Figure {
  return { value: value === null || !Number.isFinite(value) ? null : value, grain, source };
}

export function withheldFigure(reason: WithheldReason, grain: Grain, source: string): Figure {
  return { value: null, grain, source, withheld: reason };
}

/** value, or withheld when the group `key` is withheld by the plan. */
export function guarded(
  plan: PrivacyPlan,
  key: GroupKey,
  value: () => number | null,
  grain: Grain,
  source: string,
): Figure {
  const reason = plan.reason(key);
  return reason ? withheldFigure(reason, grain, source) : figure(value(), grain, source);
}

export const ratio = (num: number, den: number): number | null => (den > 0 ? num / den : null);
