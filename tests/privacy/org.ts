/** Synthetic organisations for the privacy tests and benchmark: skewed, so many groups are tiny. */
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
