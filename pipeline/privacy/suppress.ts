// interim: primary suppression only, replaced at merge
/** The dimensions a figure is about: dimension -> value; a dimension absent from the key means "all". */
export type GroupKey = Readonly<Record<string, string>>;

export interface PrivacyPlan {
  readonly minGroupSize: number;
  isWithheld(key: GroupKey): boolean;
  reason(key: GroupKey): 'small' | 'complementary' | null;
}

/**
 * members: one entry per person in the population, with a value for every dimension (use '(none)'
 * for unknown). Plans over the full lattice of the dimensions so separate requests stay consistent.
 */
export function planSuppression(
  members: readonly Readonly<Record<string, string>>[],
  dimensions: readonly string[],
  minGroupSize: number,
): PrivacyPlan {
  const size = (key: GroupKey): number => {
    for (const d of Object.keys(key))
      if (!dimensions.includes(d))
        throw new Error(`"${d}" is not a planned dimension (${dimensions.join(', ')})`);
    return members.filter((m) => Object.entries(key).every(([d, v]) => m[d] === v)).length;
  };
  const reason = (key: GroupKey) => (size(key) < minGroupSize ? ('small' as const) : null);
  return { minGroupSize, reason, isWithheld: (key) => reason(key) !== null };
}
