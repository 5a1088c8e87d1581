/** Synthetic organisations for the privacy tests and benchmark: skewed, so many groups are tiny. */

/** mulberry32: a small seeded generator, so a failing organisation can be rebuilt from its seed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
