/**
 * An independent check of a privacy plan, for the tests only. It sees the members and the plan's
 * public answers, nothing of how the plan was made, and redoes the attack exactly over the rationals
 * (BigInt, fraction-free Gaussian elimination):
 *   - the attacker knows the population of every cell the plan publishes, and that every combination
 *     absent from the members is empty;
 *   - a "group" is any union of atoms (cells fixing every dimension); it is derivable when its atom
 *     indicator is a rational combination of the published cells' indicators;
 *   - a leak is a derivable group of 1 .. min-1 people, or a withheld cell whose population is derivable.
 * Published atoms are known outright, so a group is derivable iff its withheld atoms are: the search runs
 * over withheld atoms only. Derivable means orthogonal to every kernel vector of the published rows; the
 * depth-first search below adds, while some kernel vector is unbalanced, each atom that vector touches,
 * so it finds every derivable set lighter than the minimum (a lighter set has fewer than min atoms).
 */
import type { GroupKey, PrivacyPlan } from '../../pipeline/privacy/suppress.js';

export interface Leak {
  readonly kind: 'small-group' | 'withheld-derivable';
  readonly people: number;
  /** The atoms (or the cell) concerned, as JSON keys. */
  readonly cells: readonly string[];
}

type Members = readonly Readonly<Record<string, string>>[];

const abs = (x: bigint) => (x < 0n ? -x : x);
const gcd = (a: bigint, b: bigint): bigint => {
  let [x, y] = [abs(a), abs(b)];
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
};

function normalise(row: bigint[]): bigint[] {
  const g = row.reduce((acc, x) => gcd(acc, x), 0n);
  return g > 1n ? row.map((x) => x / g) : row;
}

/** Reduced row echelon form over the integers: each pivot column is non-zero only in its own row. */
export class Echelon {
  readonly rows: bigint[][] = [];
  readonly pivots: number[] = [];
  constructor(readonly width: number) {}

  reduce(input: readonly bigint[]): bigint[] {
    let v = [...input];
    this.rows.forEach((row, i) => {
      const p = this.pivots[i] as number;
      const f = v[p] ?? 0n;
      if (f === 0n) return;
      const pv = row[p] as bigint;
      v = normalise(v.map((x, j) => x * pv - f * (row[j] as bigint)));
    });
    return v;
  }

  add(input: readonly bigint[]): void {
    const v = this.reduce(input);
    const lead = v.findIndex((x) => x !== 0n);
    if (lead < 0) return;
    const lv = v[lead] as bigint;
    for (let i = 0; i < this.rows.length; i++) {
      const row = this.rows[i] as bigint[];
      const f = row[lead] as bigint;
      if (f !== 0n) this.rows[i] = normalise(row.map((x, j) => x * lv - f * (v[j] as bigint)));
    }
    this.rows.push(v);
    this.pivots.push(lead);
  }

  /** One integer kernel vector per free column. */
  kernel(): bigint[][] {
    const pivotSet = new Set(this.pivots);
    const out: bigint[][] = [];
    for (let f = 0; f < this.width; f++) {
      if (pivotSet.has(f)) continue;
      // Scale by every pivot value so the entries stay whole: x_p = -row[f] / row[p] * x_f.
      const scale = this.rows.reduce((acc, row, i) => acc * (row[this.pivots[i] as number] as bigint), 1n);
      const z = new Array<bigint>(this.width).fill(0n);
      z[f] = scale;
      this.rows.forEach((row, i) => {
        const p = this.pivots[i] as number;
        z[p] = (-(row[f] as bigint) * scale) / (row[p] as bigint);
      });
      out.push(normalise(z));
    }
    return out;
  }
}

export function findLeaks(members: Members, dimensions: readonly string[], plan: PrivacyPlan): Leak[] {
  const min = plan.minGroupSize;
  const atomKey = (m: Readonly<Record<string, string>>) => JSON.stringify(dimensions.map((d) => m[d]));
  const atomSize = new Map<string, number>();
  const cells = new Map<string, { key: GroupKey; atoms: Set<string> }>();
  for (const m of members) {
    const a = atomKey(m);
    atomSize.set(a, (atomSize.get(a) ?? 0) + 1);
    for (let mask = 0; mask < 1 << dimensions.length; mask++) {
      const key: Record<string, string> = {};
      dimensions.forEach((d, i) => {
        if (mask & (1 << i)) key[d] = m[d] as string;
      });
      const id = JSON.stringify(dimensions.map((d) => key[d] ?? null));
      const cell = cells.get(id) ?? { key, atoms: new Set<string>() };
      cell.atoms.add(a);
      cells.set(id, cell);
    }
  }

  const isAtom = (key: GroupKey) => Object.keys(key).length === dimensions.length;
  const hidden = [...cells.values()]
    .filter((c) => isAtom(c.key) && plan.isWithheld(c.key))
    .map((c) => atomKey(c.key));
  hidden.sort();
  const column = new Map(hidden.map((a, i) => [a, i]));
  const weight = hidden.map((a) => atomSize.get(a) ?? 0);
  const indicator = (atoms: Iterable<string>) => {
    const v = new Array<bigint>(hidden.length).fill(0n);
    for (const a of atoms) {
      const c = column.get(a);
      if (c !== undefined) v[c] = 1n;
    }
    return v;
  };

  const published = new Echelon(hidden.length);
  for (const cell of cells.values()) if (!plan.isWithheld(cell.key)) published.add(indicator(cell.atoms));

  const leaks: Leak[] = [];
  for (const [id, cell] of cells) {
    if (!plan.isWithheld(cell.key)) continue;
    if (published.reduce(indicator(cell.atoms)).every((x) => x === 0n)) {
      const people = [...cell.atoms].reduce((s, a) => s + (atomSize.get(a) ?? 0), 0);
      leaks.push({ kind: 'withheld-derivable', people, cells: [id] });
    }
  }

  // Each light atom's entries in the kernel vectors, and each kernel vector's light atoms.
  const kernel = published.kernel();
  const light = hidden.map((_, c) => c).filter((c) => (weight[c] as number) < min);
  const entries = new Map(
    light.map((c) => [c, kernel.flatMap((z, i) => (z[c] === 0n ? [] : [[i, z[c] as bigint] as const]))]),
  );
  const atomsOf = kernel.map((z) => light.filter((c) => z[c] !== 0n));
  // An exact integer hash of each atom's kernel entries (fixed odd weights): a set is derivable iff all its
  // sums are 0, so the last one or two atoms of a set are found by looking up the hash that cancels the
  // sums so far, and checked exactly; the search itself stops that many levels short.
  const rho = kernel.map((_, i) => BigInt(2 * ((i * 7919 + 104_729) % 1_000_003) + 1));
  const hashOf = (c: number) => (entries.get(c) ?? []).reduce((h, [i, x]) => h + x * (rho[i] as bigint), 0n);
  const pairs = light.length <= 300;
  const endings = new Map<bigint, number[][]>();
  const addEnding = (atoms: number[]) => {
    const h = atoms.reduce((sum, c) => sum + hashOf(c), 0n);
    endings.set(h, [...(endings.get(h) ?? []), atoms]);
  };
  light.forEach((c, i) => {
    addEnding([c]);
    if (pairs) for (const d of light.slice(i + 1)) addEnding([c, d]);
  });
  const lookedUp = pairs ? 2 : 1;
  for (const start of light) {
    const chosen = new Set([start]);
    const sums = new Map<number, bigint>();
    let hash = 0n;
    const shift = (c: number, sign: bigint) => {
      hash += sign * hashOf(c);
      for (const [i, x] of entries.get(c) ?? []) {
        const s = (sums.get(i) ?? 0n) + sign * x;
        if (s === 0n) sums.delete(i);
        else sums.set(i, s);
      }
    };
    const dfs = (people: number): boolean => {
      if (sums.size === 0) return true;
      const allowed = (c: number) => c > start && !chosen.has(c);
      for (const end of endings.get(-hash) ?? []) {
        if (!end.every(allowed) || people + end.reduce((w, c) => w + (weight[c] as number), 0) >= min)
          continue;
        for (const c of end) shift(c, 1n);
        if (sums.size === 0) {
          for (const c of end) chosen.add(c);
          return true;
        }
        for (const c of end) shift(c, -1n);
      }
      if (people + lookedUp + 1 >= min) return false;
      // Every unbalanced kernel vector needs one more atom it touches; branch on the one with fewest.
      let options: number[] | undefined;
      for (const i of sums.keys()) {
        const here = (atomsOf[i] ?? []).filter(
          (c) => allowed(c) && people + (weight[c] as number) + lookedUp < min,
        );
        if (here.length === 0) return false;
        if (options === undefined || here.length < options.length) options = here;
      }
      for (const c of options ?? []) {
        chosen.add(c);
        shift(c, 1n);
        if (dfs(people + (weight[c] as number))) return true;
        shift(c, -1n);
        chosen.delete(c);
      }
      return false;
    };
    shift(start, 1n);
    if (dfs(weight[start] as number)) {
      const atoms = [...chosen];
      const people = atoms.reduce((s, c) => s + (weight[c] as number), 0);
      leaks.push({ kind: 'small-group', people, cells: atoms.map((c) => hidden[c] as string) });
    }
  }
  return leaks;
}
