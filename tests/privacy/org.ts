/** Synthetic organisations for the privacy tests and benchmark: skewed, so many groups are tiny. */
import type { GroupKey } from '../../pipeline/privacy/suppress.js';
import { seededRandom as random } from '../../pipeline/random.js';

export interface OrgShape {
  /** Number of values of each dimension; dimension i is named d{i}, its values v0, v1, ... */
  readonly sizes: readonly number[];
  readonly people: number;
  readonly seed: number;
  /** 1 is uniform; higher piles people onto the first values and leaves the last ones tiny. */
  readonly skew: number;
}

export function dimensionsOf(shape: Pick<OrgShape, 'sizes'>): string[] {
  return shape.sizes.map((_, i) => `d${i}`);
}

export function makeOrg(shape: OrgShape): Record<string, string>[] {
  const next = random(shape.seed);
  return Array.from({ length: shape.people }, () =>
    Object.fromEntries(shape.sizes.map((n, i) => [`d${i}`, `v${Math.floor(n * next() ** shape.skew)}`])),
  );
}

/** Every cell present in the members (every combination of values over every subset of dimensions), with its size. */
export function cellsOf(members: readonly Readonly<Record<string, string>>[], dimensions: readonly string[]) {
  const cells = new Map<string, { key: GroupKey; size: number }>();
  for (const m of members) {
    for (let mask = 0; mask < 1 << dimensions.length; mask++) {
      const key = Object.fromEntries(
        dimensions.filter((_, i) => mask & (1 << i)).map((d) => [d, m[d] as string]),
      );
      const id = JSON.stringify(dimensions.map((d) => key[d] ?? null));
      const cell = cells.get(id) ?? { key, size: 0 };
      cell.size++;
      cells.set(id, cell);
    }
  }
  return [...cells.values()];
}
