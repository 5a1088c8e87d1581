/**
 * Which figures about groups of people may be published (DESIGN.md section 6, "Privacy").
 *
 * The model. The dimensions (department, location, level, ...) span a lattice of cells: a cell fixes a
 * value for some dimensions and means "all" for the others; the empty key is everyone. Atoms are the
 * cells that fix every dimension. A cell's population is the sum of its atoms' populations, and so is
 * every additive figure about it (active people, posts, ...): whatever can be derived about populations
 * can be derived, the same way, about every such figure, so the plan is made on populations alone.
 * The attacker knows every published (not withheld) cell, knows which combinations are empty (zeros
 * are treated as public), and combines them with exact linear algebra.
 *
 * What "deriving a group" means. A group is any set of people that is a union of atoms; it is derived
 * when its population is a linear combination of published cells' populations (its atom indicator lies
 * in their row space). The plan guarantees:
 *   1. no derivable group has between 1 and minGroupSize - 1 people: this covers every small cell, every
 *      difference of published cells ("department minus all but one of its teams") and every sum of
 *      withheld siblings (2 + 2 under a published parent);
 *   2. no withheld cell is derivable: one whose population follows from the published cells is published
 *      instead, since withholding it would protect nobody.
 * Not covered: ranges implied by non-negativity (a published total bounds each part), and non-additive
 * figures such as medians, which subtraction does not reach.
 *
 * The algorithm. Primary suppression withholds every cell below the minimum. Complementary suppression
 * then runs to a fixpoint over every additive constraint (a published cell and one dimension it leaves
 * open, whose values' cells sum to it): the withheld cells of a constraint must be none, or at least two
 * totalling at least the minimum; otherwise the smallest published sibling is withheld too (or, with no
 * sibling left, the parent). Local rules miss derivations that chain several constraints, so an exact
 * audit (audit.ts) then searches every derivable set of withheld atoms lighter than the minimum. Each one
 * found is protected by withholding the atoms of a box around one of its atoms (see cheapestBox: margins
 * stay published), or where no box fits, the smallest published cell over it; the fixpoint resumes and
 * the audit runs again, until it is clean. Last, withheld cells the audit shows derivable are published.
 * Everything is ordered by cell number, itself from sorted values, so the plan does not depend on the
 * order of the members.
 *
 * Cost. A report plans about ten times (the window, then weeks), so the work follows the lattice, not the
 * people: people are counted once per atom, the audit leaves out rows that are sums of published rows
 * (same row space) and eliminates the rest sparsely, and the box search prunes whole branches it can
 * prove no better. None of this changes a plan: tests/privacy/plans.test.ts pins the withheld cells of
 * 125 organisations to those of the slower planner (b3f6d71).
 */
import { ConfigError } from '../errors.js';
import { auditWithheld } from './audit.js';

export type GroupKey = Readonly<Record<string, string>>; // dimension -> value; a dimension absent from the key means "all"

export interface PrivacyPlan {
  readonly minGroupSize: number;
  isWithheld(key: GroupKey): boolean;
  reason(key: GroupKey): 'small' | 'complementary' | null;
}

type Reason = 'small' | 'complementary';
interface Box {
  /** The cells to withhold: the corners, and above them the cells that keep the box's dimensions fixed. */
  readonly cells: readonly number[];
  /** People in those cells not withheld yet. */
  readonly cost: number;
  /** Every other corner has at least the minimum, so it protects every small group holding the atom. */
  readonly universal: boolean;
}
/** Boxes examined per atom: every full box for 8 values in each of 4 dimensions, then smaller ones. */
const BOX_TRIES = 4_096;

function bits(mask: number): number {
  let n = 0;
  for (let m = mask; m; m &= m - 1) n++;
  return n;
}

/** The smallest group size anyone may configure: a lower one would publish figures about 4 people or fewer. */
export const MIN_GROUP_SIZE_FLOOR = 5;

/**
 * members: one entry per person in the population, with a value for every dimension ('(none)' for
 * unknown), or, with `peopleOf`, one entry per combination standing for that many people (the plan is
 * the same either way: it only ever counts people per combination). Plans over the full lattice of the
 * dimensions (every subset of dimensions, every combination of values present) so separate requests
 * (by department; by department x level) stay consistent with each other.
 */
export function planSuppression<M extends Readonly<Record<string, string>>>(
  members: readonly M[],
  dimensions: readonly string[],
  minGroupSize: number,
  peopleOf: (member: M) => number = () => 1,
): PrivacyPlan {
  if (!Number.isInteger(minGroupSize) || minGroupSize < MIN_GROUP_SIZE_FLOOR) {
    throw new ConfigError(
      `minGroupSize must be a whole number of at least ${MIN_GROUP_SIZE_FLOOR}, got ${minGroupSize}`,
      'minGroupSize',
    );
  }
  if (new Set(dimensions).size !== dimensions.length)
    throw new Error('planSuppression: a dimension is listed twice');
  const k = dimensions.length;

  // Each member's values as codes in order of first sight, then renumbered in sorted order below. A
  // member repeated by reference (one entry per person of a combination) is looked up once.
  const seen = dimensions.map(() => new Map<string, number>());
  const firstSight = new Int32Array(members.length * k);
  members.forEach((m, i) => {
    if (i > 0 && m === members[i - 1]) {
      firstSight.copyWithin(i * k, (i - 1) * k, i * k);
      return;
    }
    for (let d = 0; d < k; d++) {
      const v = m[dimensions[d] as string];
      if (typeof v !== 'string')
        throw new Error(`planSuppression: member ${i} has no value for dimension "${dimensions[d]}"`);
      const codes = seen[d] as Map<string, number>;
      let code = codes.get(v);
      if (code === undefined) {
        code = codes.size;
        codes.set(v, code);
      }
      firstSight[i * k + d] = code;
    }
  });
  // Cell number: a mixed-radix number with one digit per dimension, 0 for "all", 1.. for a value.
  const values = seen.map((codes) => [...codes.keys()].sort());
  const valueCode = values.map((vs) => new Map(vs.map((v, i) => [v, i + 1])));
  const renumber = seen.map((codes, d) => [...codes.keys()].map((v) => valueCode[d]?.get(v) ?? 0));
  const stride: number[] = [];
  let span = 1;
  for (const vs of values) {
    stride.push(span);
    span *= vs.length + 1;
  }
  if (!Number.isSafeInteger(span)) throw new Error('planSuppression: too many dimension values to plan over');
  const full = (1 << k) - 1;
  const digit = (id: number, d: number) => Math.floor(id / (stride[d] ?? 1)) % ((values[d]?.length ?? 0) + 1);

  // People per atom, then per cell: every cell is the sum of the atoms under it, so the lattice is
  // counted once per atom (a few thousand), not once per person.
  const atomPeople = new Map<number, number>();
  let atomId = 0;
  members.forEach((m, i) => {
    const n = peopleOf(m);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(
        `planSuppression: member ${i} stands for ${n} people, not a whole number of at least 1`,
      );
    if (i === 0 || m !== members[i - 1]) {
      atomId = 0;
      for (let d = 0; d < k; d++)
        atomId += (renumber[d]?.[firstSight[i * k + d] ?? 0] ?? 0) * (stride[d] ?? 0);
    }
    atomPeople.set(atomId, (atomPeople.get(atomId) ?? 0) + n);
  });
  const count = new Map<number, number>();
  const offsets = new Array<number>(k);
  for (const [atom, n] of atomPeople) {
    for (let d = 0; d < k; d++) offsets[d] = digit(atom, d) * (stride[d] ?? 0);
    for (let mask = 0; mask <= full; mask++) {
      let cell = 0;
      for (let d = 0; d < k; d++) if (mask & (1 << d)) cell += offsets[d] ?? 0;
      count.set(cell, (count.get(cell) ?? 0) + n);
    }
  }
  const size = (id: number) => count.get(id) ?? 0;
  /** Every cell strictly above this one: it with one or more of its fixed dimensions opened to "all". */
  const ancestors = (id: number): number[] => {
    // Numbered like bit masks over its fixed dimensions, mask 0 (the cell itself) dropped at the end.
    let out = [id];
    for (let d = 0; d < k; d++) {
      const up = digit(id, d) * (stride[d] ?? 0);
      if (up !== 0) out = out.concat(out.map((o) => o - up));
    }
    return out.slice(1);
  };

  const withheld = new Map<number, Reason>();
  // Per cell, for each dimension it leaves open: how many of its children along it are withheld, and
  // their people (cells are only ever added to `withheld` until the plan is final).
  const hiddenBelow = new Map<number, { count: number[]; people: number[] }>();
  const queue: [number, number][] = [];
  const withhold = (id: number, reason: Reason) => {
    withheld.set(id, reason);
    for (let d = 0; d < k; d++) {
      const v = digit(id, d);
      if (v === 0) continue;
      const parent = id - v * (stride[d] ?? 0);
      let hidden = hiddenBelow.get(parent);
      if (!hidden) {
        hidden = { count: new Array<number>(k).fill(0), people: new Array<number>(k).fill(0) };
        hiddenBelow.set(parent, hidden);
      }
      hidden.count[d] = (hidden.count[d] ?? 0) + 1;
      hidden.people[d] = (hidden.people[d] ?? 0) + size(id);
      // The constraints this cell is a child of may now need another withheld sibling.
      queue.push([parent, d]);
    }
  };
  const ids = Array.from(Float64Array.from(count.keys()).sort());
  for (const id of ids) if (size(id) < minGroupSize) withhold(id, 'small');

  let done = 0;
  const settle = () => {
    for (; done < queue.length; done++) {
      const [parent, d] = queue[done] as [number, number];
      if (withheld.has(parent)) continue;
      const hidden = hiddenBelow.get(parent);
      const n = hidden?.count[d] ?? 0;
      if (n === 0 || (n >= 2 && (hidden?.people[d] ?? 0) >= minGroupSize)) continue;
      let cheapest: number | undefined; // the first smallest published sibling
      for (let v = 1; v <= (values[d]?.length ?? 0); v++) {
        const c = parent + v * (stride[d] ?? 0);
        if (count.has(c) && !withheld.has(c) && (cheapest === undefined || size(c) < size(cheapest)))
          cheapest = c;
      }
      withhold(cheapest ?? parent, 'complementary');
    }
  };
  settle();

  /**
   * The cheapest box through an atom: for a set T of dimensions, one other value for each, all 2^|T|
   * corners present atoms and none in `avoid`. +1/-1 alternating over the corners leaves every cell that
   * opens a dimension of T unchanged; the cells that fix all of T (each holds one corner: the corners and
   * the cells above them opening only dimensions outside T) are withheld, so no published cell can tell
   * the perturbation apart and a group holding exactly one corner stays underivable for good (withholding
   * more later only removes equations). Boxes over every dimension withhold atoms alone, so come first.
   */
  const cheapestBox = (atom: number, avoid: ReadonlySet<number>): Box | undefined => {
    const alternatives = dimensions.map((_, d) =>
      Array.from({ length: values[d]?.length ?? 0 }, (_, i) => i + 1).filter((v) => v !== digit(atom, d)),
    );
    const subsets = Array.from({ length: full }, (_, i) => i + 1).sort((x, y) => bits(y) - bits(x) || x - y);
    let best: Box | undefined;
    let tried = 0;
    for (const box of subsets) {
      const inBox = dimensions.map((_, d) => d).filter((d) => box & (1 << d));
      // The cells above a corner that open dimensions outside the box, as offsets from the corner.
      let opened = [0];
      for (let d = 0; d < k; d++) {
        if (box & (1 << d)) continue;
        const up = digit(atom, d) * (stride[d] ?? 0);
        opened = opened.concat(opened.map((o) => o - up));
      }
      // Boxes below a choice of values for inBox[i..]: tried counts every box, even one passed over.
      const below = inBox.map((_, i) =>
        inBox.slice(i).reduce((n, d) => n * (alternatives[d]?.length ?? 0), 1),
      );
      /** People not withheld yet in a corner's cells (it and the cells above it opening dimensions outside the box). */
      const costOf = (corner: number) => {
        let n = 0;
        for (const o of opened) if (!withheld.has(corner + o)) n += size(corner + o);
        return n;
      };
      /** No better than the best so far, whatever is added: a box is weighed corner by corner, and cost only grows. */
      const beaten = (cost: number, universal: boolean) =>
        best !== undefined && (best.universal || !universal) && cost >= best.cost;
      // corners[0 .. 2^i - 1]: the box's corners over inBox[0..i-1] (numbered by bits as those dimensions
      // move off the atom's value), with their cost and whether every corner but the atom has the minimum.
      // They are the first corners of every box below, so a choice that puts one on an absent or avoided
      // atom, or that is beaten already, rules out every box below it (still counted as tried): the best
      // box is the same as weighing each box in full, in the same order. A choice writes its corners just
      // after its parent's, so one array serves the whole walk.
      const corners = new Array<number>(1 << inBox.length).fill(atom);
      const walk = (i: number, cost: number, universal: boolean): void => {
        if (tried > BOX_TRIES) return;
        const n = 1 << i;
        if (i === inBox.length) {
          tried++;
          if (!best || (universal && !best.universal) || (universal === best.universal && cost < best.cost))
            best = { cells: corners.flatMap((id) => opened.map((o) => id + o)), cost, universal };
          return;
        }
        const d = inBox[i] as number;
        for (const v of alternatives[d] ?? []) {
          const shift = (v - digit(atom, d)) * (stride[d] ?? 0);
          let more = cost;
          let all = universal;
          let fits = true;
          for (let c = 0; c < n && fits; c++) {
            const id = (corners[c] ?? 0) + shift;
            fits = count.has(id) && !avoid.has(id);
            corners[n + c] = id;
            if (size(id) < minGroupSize) all = false;
            if (fits) more += costOf(id);
          }
          if (fits && !beaten(more, all)) walk(i + 1, more, all);
          else if (tried <= BOX_TRIES) tried += below[i + 1] ?? 1;
        }
      };
      walk(0, costOf(atom), true);
    }
    return best;
  };

  let audit: ReturnType<typeof auditWithheld>;
  let columnsUnder: Map<number, number[]>;
  for (;;) {
    const atoms = ids.filter((id) => withheld.has(id) && atomPeople.has(id));
    columnsUnder = new Map(atoms.map((a, c) => [a, [c]]));
    atoms.forEach((atom, c) => {
      for (const up of ancestors(atom)) {
        const list = columnsUnder.get(up);
        if (list) list.push(c);
        else columnsUnder.set(up, [c]);
      }
    });
    // A published cell whose children along some dimension are all published adds nothing: its row is
    // the sum of theirs (each withheld atom under it is under exactly one of them), and so on down, each
    // step fixing one more dimension, to rows that are kept. The row space, so the audit, is the same;
    // the sums, most of them long (the company, each department), are the costly rows to eliminate.
    const isSum = (id: number) =>
      dimensions.some((_, d) => digit(id, d) === 0 && !hiddenBelow.get(id)?.count[d]);
    const rows = ids
      .filter((id) => !withheld.has(id) && columnsUnder.has(id) && !isSum(id))
      .map((id) => columnsUnder.get(id) ?? []);
    audit = auditWithheld(
      atoms.map((a) => size(a)),
      rows,
      minGroupSize,
    );
    if (audit.leaks.length === 0) break;
    for (const leak of audit.leaks) {
      const group = leak.map((c) => atoms[c] as number);
      const box = group
        .map((atom) => cheapestBox(atom, new Set(group)))
        .reduce<Box | undefined>(
          (best, b) =>
            b &&
            (!best ||
              (b.universal && !best.universal) ||
              (b.universal === best.universal && b.cost < best.cost))
              ? b
              : best,
          undefined,
        );
      if (box && box.cost > 0) {
        for (const cell of box.cells) if (!withheld.has(cell)) withhold(cell, 'complementary');
        continue;
      }
      // No box adds anything: withhold the smallest published cell over the group, removing one equation.
      const cut = group
        .flatMap(ancestors)
        .filter((up) => !withheld.has(up))
        .reduce<number | undefined>(
          (best, up) =>
            best === undefined || size(up) < size(best) || (size(up) === size(best) && up < best) ? up : best,
          undefined,
        );
      // Nothing published above the group any more (an earlier cut this round): nothing can derive it.
      if (cut === undefined) continue;
      withhold(cut, 'complementary');
    }
    settle();
  }
  for (const [id, reason] of [...withheld]) {
    if (reason === 'complementary' && audit.isDerivable(columnsUnder.get(id) ?? [])) withheld.delete(id);
  }

  const cellOf = (key: GroupKey): number | undefined => {
    let id = 0;
    for (const [dimension, value] of Object.entries(key)) {
      const d = dimensions.indexOf(dimension);
      if (d < 0)
        throw new Error(`privacy plan: unknown dimension "${dimension}" (known: ${dimensions.join(', ')})`);
      const code = valueCode[d]?.get(value);
      if (code === undefined) return undefined;
      id += code * (stride[d] ?? 0);
    }
    return count.has(id) ? id : undefined;
  };
  const reason = (key: GroupKey): Reason | null => {
    const id = cellOf(key);
    return id === undefined ? 'small' : (withheld.get(id) ?? null);
  };
  return Object.freeze({ minGroupSize, isWithheld: (key: GroupKey) => reason(key) !== null, reason });
}
