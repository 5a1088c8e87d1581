/**
 * mulberry32: a small seeded pseudo-random generator (uniform in [0, 1)). Everything earshot
 * generates from a seed (training shuffles, synthetic benchmark data, test organisations) uses it, so
 * a run can be repeated exactly and a failing case rebuilt from its seed. Not for anything secret.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
