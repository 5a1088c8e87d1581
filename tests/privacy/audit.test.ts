/**
 * The audit's elimination against an exact one: on random sparse systems (withheld atoms as columns,
 * published cells as rows of the atoms under them, as the planner builds them), isDerivable must agree
 * with fraction-free elimination over the rationals (tests/privacy/verify.ts), every leak must be
 * derivable and lighter than the minimum, and every derivable light set must contain a reported leak
 * (brute force over every set of light atoms, so the systems are small).
 */
import { describe, expect, it } from 'vitest';
import { auditWithheld } from '../../pipeline/privacy/audit.js';
import { seededRandom as random } from '../../pipeline/random.js';
import { Echelon } from './verify.js';

const SYSTEMS = 300;

function system(seed: number) {
  const next = random(seed);
  const width = 2 + Math.floor(next() * 11);
  const weights = Array.from({ length: width }, () => 1 + Math.floor(next() * (next() < 0.6 ? 4 : 30)));
  const rows = Array.from({ length: Math.floor(next() * (width + 3)) }, () => {
    // Mostly two or three atoms, now and then a long one (a department, the company).
    const size = next() < 0.8 ? 1 + Math.floor(next() * 3) : Math.floor(next() * width) + 1;
    return [...new Set(Array.from({ length: size }, () => Math.floor(next() * width)))];
  });
  return { width, weights, rows, min: 5 + Math.floor(next() * 3) };
}

const indicator = (width: number, columns: readonly number[]) => {
  const v = new Array<bigint>(width).fill(0n);
  for (const c of columns) v[c] = 1n;
  return v;
};

describe('auditWithheld', () => {
  it('agrees with exact elimination, and finds a leak inside every derivable light set', () => {
    let lightDerivable = 0;
    for (let seed = 0; seed < SYSTEMS; seed++) {
      const { width, weights, rows, min } = system(seed);
      const audit = auditWithheld(weights, rows, min);
      const exact = new Echelon(width);
      for (const row of rows) exact.add(indicator(width, row));
      const derivable = (columns: readonly number[]) =>
        exact.reduce(indicator(width, columns)).every((x) => x === 0n);
      const weight = (columns: readonly number[]) => columns.reduce((s, c) => s + (weights[c] ?? 0), 0);

      for (const leak of audit.leaks) {
        expect(derivable(leak), `seed ${seed}: leak ${leak}`).toBe(true);
        expect(weight(leak)).toBeLessThan(min);
      }
      const light = weights.map((_, c) => c).filter((c) => (weights[c] ?? 0) < min);
      for (let mask = 1; mask < 1 << light.length; mask++) {
        const set = light.filter((_, i) => mask & (1 << i));
        const isDerivable = derivable(set);
        expect(audit.isDerivable(set), `seed ${seed}: set ${set}`).toBe(isDerivable);
        if (!isDerivable || weight(set) >= min) continue;
        lightDerivable++;
        const covered = audit.leaks.some((leak) => leak.every((c) => set.includes(c)));
        expect(covered, `seed ${seed}: derivable light set ${set} holds no reported leak`).toBe(true);
      }
      for (const row of rows) expect(audit.isDerivable(row)).toBe(true);
    }
    // The systems do hold leaks to find (about a thousand), so the last check is not vacuous.
    expect(lightDerivable).toBeGreaterThan(200);
  });
});
