/**
 * Exact-disclosure audit of a suppression pattern, over the withheld atoms only: what the published
 * cells say about them is, for each published cell, the total of the withheld atoms under it (its
 * published atoms are known and subtracted). A set of withheld atoms is derivable exactly when its
 * indicator lies in the row space of those totals.
 *
 * Arithmetic is modulo the prime P (< 2^26, so every product stays an exact double). It can disagree
 * with the rationals only where P divides every maximal minor of the 0/1 constraint matrix, which a
 * 26-bit prime is very unlikely to do; the tests' verifier redoes the attack over the rationals.
 */
const P = 67_108_859;
/**
 * Search nodes before the audit gives up and reports every light atom as unproven (so more is
 * withheld: safe). 200,000 plans every golden organisation the same as 2,000,000 did, and bounds the
 * rare sparse organisations (4 dimensions, a minimum of 8, a few hundred people over hundreds of
 * combinations) that took 7-200 s to plan at 2,000,000 to a few seconds.
 */
const BUDGET = 200_000;
/** Light atoms up to which every pair of them is tabled by hash (about 80,000 pairs). */
const PAIR_TABLE_LIMIT = 400;
/** Derivable sets reported per starting atom; the caller protects them and audits again. */
const LEAKS_PER_START = 20;

/** A fixed pseudo-random weight per column (integer mixing), so the hash below has no structure to collide on. */
function scramble(column: number): number {
  let h = Math.imul(column + 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) % P;
}

export interface Audit {
  /** Sets of withheld atoms (column numbers) whose total is derivable and below the minimum, or that could not be proven safe. */
  readonly leaks: readonly (readonly number[])[];
  /** Whether the total of these withheld atoms follows from the published cells. */
  isDerivable(columns: readonly number[]): boolean;
}

function mod(x: number): number {
  const r = x % P;
  return r < 0 ? r + P : r;
}

function inverse(a: number): number {
  // Extended Euclid: P is prime, so every non-zero residue has an inverse.
  let [r0, r1, s0, s1] = [P, a, 0, 1];
  while (r1 !== 0) {
    const q = Math.floor(r0 / r1);
    [r0, r1, s0, s1] = [r1, r0 - q * r1, s1, s0 - q * s1];
  }
  return mod(s0);
}

/**
 * weights: people in each withheld atom (column); rows: for each published cell, the columns under it.
 * A leak is found by a depth-first search that is complete for sets lighter than the minimum: while the
 * chosen atoms do not sum to a row-space vector, some column of the kernel stays unbalanced, and any
 * derivable superset must contain an atom touching that column, so branching over those atoms misses none.
 */
export function auditWithheld(
  atomWeights: readonly number[],
  atomRows: readonly (readonly number[])[],
  minGroupSize: number,
): Audit {
  // Heavy atoms first, so elimination makes them the pivots: light atoms are then mostly free columns,
  // whose kernel rows are a single entry, which keeps the search narrow.
  const order = atomWeights
    .map((_, c) => c)
    .sort((a, b) => (atomWeights[b] ?? 0) - (atomWeights[a] ?? 0) || a - b);
  const position = new Int32Array(order.length);
  order.forEach((c, i) => {
    position[c] = i;
  });
  const weights = order.map((c) => atomWeights[c] ?? 0);
  // Short rows first: the echelon form then fills in far less on the way (the result is the same).
  const rows = atomRows.map((row) => row.map((c) => position[c] ?? 0)).sort((a, b) => a.length - b.length);
  const width = weights.length;
  // The reduced row echelon form of the published rows, which is unique: any order of elimination gives
  // the same rows, so the same kernel and the same search below. Rows are dense (a few hundred columns)
  // but sparse in fact (most published cells hold two or three withheld atoms, and so do the reduced
  // rows), so each keeps the list of columns where it may be non-zero and the work follows those.
  const pivotRow = new Int32Array(width).fill(-1);
  // Row r of the basis is basis[r * width ...]; at most one per column.
  const basis = new Float64Array(Math.min(rows.length, width) * width);
  const listed = new Uint8Array(basis.length); // whether the column is in the row's support
  const support: number[][] = [];
  // The rows with each column in their support: a new pivot is cleared from those still non-zero there.
  const holders: number[][] = Array.from({ length: width }, () => []);
  const scratch = new Float64Array(width);

  /**
   * The 0/1 row of these columns less the basis rows of its pivot columns (each 0 in every other pivot
   * column, so only the row's own columns can be pivots): what is left is on free columns, returned as
   * columns and values; empty when the row is in the row space.
   */
  const reduce = (columns: readonly number[]): [number[], number[]] => {
    const touched: number[] = [];
    for (const c of columns) {
      if (scratch[c] === 0) touched.push(c);
      scratch[c] = 1;
    }
    for (const c of columns) {
      const r = pivotRow[c] ?? -1;
      const f = scratch[c] ?? 0;
      if (r < 0 || f === 0) continue;
      for (const j of support[r] as number[]) {
        const x = basis[r * width + j] ?? 0;
        if (x === 0) continue;
        const y = scratch[j] ?? 0;
        if (y === 0) touched.push(j);
        scratch[j] = mod(y - f * x);
      }
    }
    const cols: number[] = [];
    const vals: number[] = [];
    for (const j of touched) {
      const y = scratch[j] ?? 0;
      if (y === 0) continue;
      cols.push(j);
      vals.push(y);
      scratch[j] = 0;
    }
    return [cols, vals];
  };

  for (const row of rows) {
    const [cols, vals] = reduce(row);
    if (cols.length === 0) continue;
    const lead = Math.min(...cols);
    const inv = inverse(vals[cols.indexOf(lead)] ?? 1);
    const index = support.length;
    const at = index * width;
    cols.forEach((j, i) => {
      basis[at + j] = mod((vals[i] ?? 0) * inv);
      listed[at + j] = 1;
      (holders[j] as number[]).push(index);
    });
    // Keep the basis fully reduced, so a pivot column is non-zero in its own row only.
    for (const r of holders[lead] as number[]) {
      const base = r * width;
      const f = basis[base + lead] ?? 0;
      if (r === index || f === 0) continue;
      for (const j of cols) {
        basis[base + j] = mod((basis[base + j] ?? 0) - f * (basis[at + j] ?? 0));
        if (!listed[base + j]) {
          listed[base + j] = 1;
          (support[r] as number[]).push(j);
          (holders[j] as number[]).push(r);
        }
      }
    }
    pivotRow[lead] = index;
    support.push(cols);
  }

  // Kernel coordinates are the free columns: a set is derivable iff its atoms' kernel rows sum to zero.
  const kernelRow = new Map<number, [number, number][]>();
  const touching = new Map<number, number[]>();
  for (let c = 0; c < width; c++) {
    if ((weights[c] ?? 0) >= minGroupSize) continue;
    const r = pivotRow[c] ?? -1;
    const k: [number, number][] = [];
    if (r < 0) k.push([c, 1]);
    else {
      // A reduced row is zero before its pivot and at every other pivot: its other entries are free columns after c.
      for (const j of support[r] as number[]) {
        const x = basis[r * width + j] ?? 0;
        if (j !== c && x !== 0) k.push([j, mod(-x)]);
      }
      k.sort((x, y) => x[0] - y[0]);
    }
    kernelRow.set(c, k);
    for (const [free] of k) {
      const list = touching.get(free);
      if (list) list.push(c);
      else touching.set(free, [c]);
    }
  }

  // A fixed pseudo-random linear hash of each kernel row: a derivable set's hashes sum to 0. A sum of 0
  // otherwise is a 1-in-P coincidence, and every hit is checked exactly, so the hash only finds the last
  // atom or two of a set by lookup and the search stops that many levels short. Pairs are tabled only
  // while the table stays small.
  const light = [...kernelRow.keys()];
  const pairs = light.length <= PAIR_TABLE_LIMIT;
  const hash = new Map<number, number>();
  for (const [c, k] of kernelRow)
    hash.set(
      c,
      k.reduce((h, [free, x]) => mod(h + x * scramble(free)), 0),
    );
  const ending = new Map<number, number[][]>();
  const addEnding = (atoms: number[]) => {
    const h = mod(atoms.reduce((sum, c) => sum + (hash.get(c) ?? 0), 0));
    const list = ending.get(h);
    if (list) list.push(atoms);
    else ending.set(h, [atoms]);
  };
  // Only atoms light enough to leave room for another can be in a pair (in the same order as `light`).
  const pairable = light.filter((x) => (weights[x] ?? 0) <= minGroupSize - 3);
  let next = 0;
  for (const x of light) {
    addEnding([x]);
    if (!pairs || pairable[next] !== x) continue;
    next++;
    for (let i = next; i < pairable.length; i++) {
      const y = pairable[i] as number;
      if ((weights[x] ?? 0) + (weights[y] ?? 0) <= minGroupSize - 2) addEnding([x, y]);
    }
  }
  const lookedUp = pairs ? 2 : 1;

  const leaks: number[][] = [];
  let nodes = 0;
  for (const start of light) {
    const chosen = new Set<number>();
    const residual = new Map<number, number>();
    let sum = 0;
    let found = 0;
    const shift = (atom: number, sign: 1 | -1) => {
      if (sign === 1) chosen.add(atom);
      else chosen.delete(atom);
      sum = mod(sum + sign * (hash.get(atom) ?? 0));
      for (const [free, x] of kernelRow.get(atom) ?? []) {
        const y = mod((residual.get(free) ?? 0) + sign * x);
        if (y === 0) residual.delete(free);
        else residual.set(free, y);
      }
    };
    const record = () => {
      leaks.push([...chosen].map((c) => order[c] ?? 0));
      found++;
    };
    // The smallest atom of a set starts it, so only later atoms join. Every set found is recorded (up to
    // a cap), so one round of the caller can protect them all.
    const search = (weight: number): void => {
      if (residual.size === 0) {
        record();
        return;
      }
      if (++nodes > BUDGET || found >= LEAKS_PER_START) return;
      const admissible = (atom: number) => atom > start && !chosen.has(atom);
      for (const end of ending.get(mod(-sum)) ?? []) {
        const extra = end.reduce((w, c) => w + (weights[c] ?? 0), 0);
        if (weight + extra >= minGroupSize || !end.every(admissible)) continue;
        for (const c of end) shift(c, 1);
        if (residual.size === 0) record();
        for (const c of end) shift(c, -1);
      }
      // Endings looked up need no branch: branch only when one atom more than those could still fit.
      if (weight + lookedUp + 1 >= minGroupSize) return;
      // Every open column needs one more atom touching it: branch on the one with the fewest choices.
      // Touching lists are ascending, so they are read from the end down to the start atom.
      const fits = (atom: number) =>
        !chosen.has(atom) && weight + (weights[atom] ?? 0) + lookedUp < minGroupSize;
      let column = -1;
      let fewest = Number.POSITIVE_INFINITY;
      for (const free of residual.keys()) {
        const list = touching.get(free) ?? [];
        let n = 0;
        for (let i = list.length - 1; i >= 0 && n < fewest; i--) {
          const atom = list[i] ?? 0;
          if (atom <= start) break;
          if (fits(atom)) n++;
        }
        if (n === 0) return;
        if (n < fewest) [column, fewest] = [free, n];
      }
      const options = (touching.get(column) ?? []).filter((atom) => atom > start && fits(atom));
      for (const atom of options ?? []) {
        shift(atom, 1);
        search(weight + (weights[atom] ?? 0));
        shift(atom, -1);
      }
    };
    shift(start, 1);
    search(weights[start] ?? 0);
  }
  // Out of budget the search proved nothing: every light atom counts as a leak, so more is withheld.
  if (nodes > BUDGET) for (const c of kernelRow.keys()) leaks.push([order[c] ?? 0]);

  return {
    leaks,
    isDerivable(columns) {
      return reduce(columns.map((c) => position[c] ?? 0))[0].length === 0;
    },
  };
}
