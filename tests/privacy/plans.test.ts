/**
 * Pins the plans themselves: on a fixed set of organisations planSuppression must keep withholding
 * exactly the same cells for the same reasons as the plan the golden file was made with (the
 * people-by-people planner of b3f6d71, before its speed-up). The property tests prove every plan safe;
 * this proves a faster planner publishes exactly what the slower one did. UPDATE_GOLDEN=1 rewrites
 * tests/fixtures/golden/privacy-plans.json: only for an intended change of plans, with the withheld
 * counts reviewed in the diff.
 */
import { createHash } from 'node:crypto';
import { describe, it } from 'vitest';
import { planSuppression } from '../../pipeline/privacy/suppress.js';
import { seededRandom as random } from '../../pipeline/random.js';
import { golden } from '../metrics/golden.js';
import { cellsOf, dimensionsOf, makeOrg, type OrgShape } from './org.js';

type Case = OrgShape & { min: number };

/** Small organisations like the property tests', then a few the size of a real company's lattice. */
function cases(): Case[] {
  const next = random(20261123);
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const small = Array.from({ length: 120 }, (_, i) => ({
    sizes: Array.from({ length: int(1, 4) }, () => int(1, 8)),
    people: int(0, 500),
    seed: i,
    skew: int(1, 4),
    min: int(5, 8),
  }));
  const large: Case[] = [
    { sizes: [20, 10, 6, 2], people: 3_000, seed: 1, skew: 2, min: 5 },
    { sizes: [20, 10, 6, 2], people: 6_000, seed: 2, skew: 3, min: 7 },
    { sizes: [40, 8, 5, 2], people: 20_000, seed: 3, skew: 2, min: 5 },
    { sizes: [40, 8, 5], people: 20_000, seed: 4, skew: 2, min: 5 },
    { sizes: [12, 12, 12], people: 4_000, seed: 5, skew: 3, min: 6 },
  ];
  return [...small, ...large];
}

describe('privacy plans', () => {
  it('withhold exactly the cells the golden file lists, for the same reasons', () => {
    const plans = cases().map((shape) => {
      const members = makeOrg(shape);
      const dims = dimensionsOf(shape);
      const plan = planSuppression(members, dims, shape.min);
      const withheld = { small: 0, complementary: 0 };
      const digest = createHash('sha256');
      const cells = cellsOf(members, dims).map(
        (c) => [JSON.stringify(dims.map((d) => c.key[d] ?? null)), c] as const,
      );
      cells.sort(([a], [b]) => (a < b ? -1 : 1));
      for (const [id, cell] of cells) {
        const reason = plan.reason(cell.key);
        if (!reason) continue;
        withheld[reason]++;
        digest.update(`${id} ${reason}\n`);
      }
      // One line per organisation, so a change reads plainly in the diff.
      const org = `sizes ${shape.sizes.join('x')}, ${shape.people} people, seed ${shape.seed}, skew ${shape.skew}, min ${shape.min}`;
      return `${org}: ${cells.length} cells, withheld ${withheld.small} small + ${withheld.complementary} complementary, ${digest.digest('hex').slice(0, 16)}`;
    });
    golden('privacy-plans', plans);
  }, 120_000);
});
