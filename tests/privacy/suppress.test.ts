import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type GroupKey, planSuppression } from '../../pipeline/privacy/suppress.js';
import { seededRandom as random } from '../../pipeline/random.js';
import { cellsOf, dimensionsOf, makeOrg, type OrgShape } from './org.js';
import { findLeaks } from './verify.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);

/** People with these values, `n` times. */
function people(n: number, values: Record<string, string>): Record<string, string>[] {
  return Array.from({ length: n }, () => ({ ...values }));
}

const shapes: fc.Arbitrary<OrgShape & { min: number }> = fc.record({
  sizes: fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 4 }),
  people: fc.integer({ min: 0, max: 500 }),
  seed: fc.integer(),
  skew: fc.constantFrom(1, 2, 3, 4),
  min: fc.integer({ min: 5, max: 8 }),
});

describe('planSuppression', () => {
  it('refuses a minimum group size below 5 or not a whole number', () => {
    const members = people(10, { dept: 'a' });
    expect(() => planSuppression(members, ['dept'], 4)).toThrow(
      /minGroupSize must be a whole number of at least 5, got 4/,
    );
    expect(() => planSuppression(members, ['dept'], 5.5)).toThrow(/got 5.5/);
    expect(() => planSuppression(members, ['dept'], Number.NaN)).toThrow(/minGroupSize/);
  });

  it('names the member and dimension when a value is missing, and refuses unknown dimensions in keys', () => {
    expect(() => planSuppression([{ dept: 'a' }, { level: 'x' }], ['dept'], 5)).toThrow(
      /member 1 has no value for dimension "dept"/,
    );
    const plan = planSuppression(people(10, { dept: 'a' }), ['dept'], 5);
    expect(() => plan.isWithheld({ team: 'a' })).toThrow(/unknown dimension "team"/);
  });

  it('withholds a group of 4, and a sibling so the total cannot give it away', () => {
    const members = [...people(4, { dept: 'a' }), ...people(10, { dept: 'b' }), ...people(12, { dept: 'c' })];
    const plan = planSuppression(members, ['dept'], 5);
    expect(plan.reason({ dept: 'a' })).toBe('small');
    expect(plan.reason({ dept: 'b' })).toBe('complementary'); // the smaller of the two others
    expect(plan.reason({ dept: 'c' })).toBeNull();
    expect(plan.reason({})).toBeNull();
    expect(plan.reason({ dept: 'nobody' })).toBe('small'); // a group of 0 people
    expect(findLeaks(members, ['dept'], plan)).toEqual([]);
  });

  it('blocks "department total minus all but one of its teams"', () => {
    const members = [
      ...people(3, { dept: 'sales', team: 'east' }),
      ...people(20, { dept: 'sales', team: 'west' }),
      ...people(30, { dept: 'sales', team: 'north' }),
      ...people(40, { dept: 'ops', team: 'north' }),
    ];
    const dims = ['dept', 'team'];
    const plan = planSuppression(members, dims, 5);
    expect(plan.isWithheld({ dept: 'sales' })).toBe(false);
    expect(plan.reason({ dept: 'sales', team: 'east' })).toBe('small');
    // sales (53) is published, so its withheld teams are derivable together: they must be at least two
    // (else sales minus the others is one team) and hold at least 5 people (west 20 + north 30 = 50 would
    // leave east's 3).
    const teams = { east: 3, west: 20, north: 30 };
    const hidden = Object.entries(teams).filter(([team]) => plan.isWithheld({ dept: 'sales', team }));
    expect(hidden.length).toBeGreaterThanOrEqual(2);
    expect(hidden.reduce((s, [, n]) => s + n, 0)).toBeGreaterThanOrEqual(5);
    expect(findLeaks(members, dims, plan)).toEqual([]);
  });

  it('does not let two withheld siblings of 2 and 2 be summed from their published parent', () => {
    const members = [
      ...people(2, { dept: 'rd', level: 'L1' }),
      ...people(2, { dept: 'rd', level: 'L2' }),
      ...people(30, { dept: 'rd', level: 'L3' }),
      ...people(25, { dept: 'hr', level: 'L3' }),
    ];
    const dims = ['dept', 'level'];
    const plan = planSuppression(members, dims, 5);
    expect(plan.reason({ dept: 'rd', level: 'L1' })).toBe('small');
    expect(plan.reason({ dept: 'rd', level: 'L2' })).toBe('small');
    // rd (34) - L3 (30) would be the 4 people of L1 + L2: either rd or rd x L3 is withheld.
    expect(plan.isWithheld({ dept: 'rd' }) || plan.isWithheld({ dept: 'rd', level: 'L3' })).toBe(true);
    expect(findLeaks(members, dims, plan)).toEqual([]);
  });

  it('settles an organisation the property test once failed on (one dimension with a single value)', () => {
    const members = makeOrg({ sizes: [1, 2, 3], people: 22, seed: -83108332, skew: 3 });
    const dims = dimensionsOf({ sizes: [1, 2, 3] });
    const plan = planSuppression(members, dims, 7);
    expect(findLeaks(members, dims, plan)).toEqual([]);
  });

  it('the verifier catches a plan that publishes a parent and all but one child', () => {
    const members = [...people(3, { dept: 'a' }), ...people(10, { dept: 'b' })];
    const naive = {
      minGroupSize: 5,
      isWithheld: (key: GroupKey) => key.dept === 'a',
      reason: (key: GroupKey) => (key.dept === 'a' ? ('small' as const) : null),
    };
    const leaks = findLeaks(members, ['dept'], naive);
    expect(leaks).toContainEqual({ kind: 'small-group', people: 3, cells: ['["a"]'] });
    expect(leaks).toContainEqual({ kind: 'withheld-derivable', people: 3, cells: ['["a"]'] });
  });

  it('no published set of figures lets anyone derive a group smaller than the minimum', () => {
    fc.assert(
      fc.property(shapes, (shape) => {
        const members = makeOrg(shape);
        const dims = dimensionsOf(shape);
        const plan = planSuppression(members, dims, shape.min);
        expect(findLeaks(members, dims, plan)).toEqual([]);
        for (const cell of cellsOf(members, dims)) {
          if (cell.size < shape.min) expect(plan.reason(cell.key)).toBe('small');
          else expect(plan.reason(cell.key)).not.toBe('small');
        }
      }),
      { numRuns: RUNS },
    );
  }, 600_000);

  it('withholds nothing when no group is small', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 5, max: 8 }),
        fc.integer(),
        (sizes, min, seed) => {
          // Every present combination gets at least `min` people, so every cell has at least `min`.
          const next = random(seed);
          const dims = dimensionsOf({ sizes });
          const members: Record<string, string>[] = [];
          const combos = sizes.reduce<string[][]>(
            (acc, n) => acc.flatMap((c) => Array.from({ length: n }, (_, v) => [...c, `v${v}`])),
            [[]],
          );
          for (const combo of combos) {
            if (next() < 0.3) continue;
            const n = min + Math.floor(next() * 10);
            members.push(...people(n, Object.fromEntries(dims.map((d, i) => [d, combo[i] as string]))));
          }
          const plan = planSuppression(members, dims, min);
          for (const cell of cellsOf(members, dims)) expect(plan.isWithheld(cell.key)).toBe(false);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('plans the same whatever the order of the members', () => {
    fc.assert(
      fc.property(shapes, fc.integer(), (shape, shuffleSeed) => {
        const members = makeOrg(shape);
        const dims = dimensionsOf(shape);
        const next = random(shuffleSeed);
        const shuffled = members
          .map((m) => [next(), m] as const)
          .sort((a, b) => a[0] - b[0])
          .map(([, m]) => m);
        const a = planSuppression(members, dims, shape.min);
        const b = planSuppression(shuffled, dims, shape.min);
        for (const cell of cellsOf(members, dims)) expect(b.reason(cell.key)).toBe(a.reason(cell.key));
      }),
      { numRuns: Math.max(20, Math.floor(RUNS / 4)) },
    );
  }, 600_000);
});
