/**
 * Corrupted and forged manifests (backups, Parquet exports): a real manifest with fields changed,
 * dropped or added (wrong types, plausible lies, path tricks), or its text cut and spliced.
 */
import fc from 'fast-check';
import { weirdValue } from './arbitraries.js';

type Path = (string | number)[];

/** Every path to a value of `node`, objects and arrays included (the root excluded). */
function paths(node: unknown, prefix: Path = []): Path[] {
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([k, v]) => {
    const p = [...prefix, Array.isArray(node) ? Number(k) : k];
    return [p, ...paths(v, p)];
  });
}

/** A copy of `root` with the value at `path` replaced, or removed when `value` is undefined. */
function edited(root: unknown, path: Path, value: unknown): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const step of path.slice(0, -1)) node = node[step] as Record<string | number, unknown>;
  const last = path.at(-1) as string | number;
  if (value !== undefined) node[last] = value;
  else if (Array.isArray(node)) node.splice(last as number, 1);
  else delete node[last];
  return copy;
}

/** Values a forger would try: names that walk out of a folder, near-miss numbers and hashes. */
const forged = fc.oneof(
  fc.constantFrom(
    '',
    '.',
    '..',
    '../manifest.json',
    '../../etc/passwd',
    '/etc/passwd',
    'part_0.parquet',
    'part_1.parquet',
    'part_0.parquet.enc',
    'earshot.duckdb',
    'earshot.duckdb.enc',
    'earshot.duckdb/..',
    '0'.repeat(64),
    'f'.repeat(64),
    '__proto__',
    'mentions',
  ),
  fc.integer({ min: -2, max: 2 }).map((d) => ({ delta: d })),
);

export interface ManifestEdit {
  /** The manifest's text after the edits. */
  text: string;
  /** What was done, for the counterexample. */
  edits: string[];
}

/** Up to three edits of `reference` (parsed JSON), or its text cut and spliced. */
export function manifestEdits(reference: unknown): fc.Arbitrary<ManifestEdit> {
  const all = paths(reference);
  const leafEdit = fc.tuple(
    fc.nat(all.length - 1),
    fc.oneof(
      { weight: 3, arbitrary: weirdValue },
      { weight: 3, arbitrary: forged },
      { weight: 1, arbitrary: fc.constant(undefined) },
    ),
  );
  const structural = fc.array(leafEdit, { minLength: 1, maxLength: 3 }).map((steps) => {
    let m = reference;
    const edits: string[] = [];
    for (const [i, v] of steps) {
      const path = all[i] as Path;
      const current = path.reduce<unknown>(
        // Through objects only: an earlier edit may have put a string where an object was.
        (node, step) =>
          node !== null && typeof node === 'object'
            ? (node as Record<string | number, unknown>)[step]
            : undefined,
        m,
      );
      if (current === undefined) continue;
      // {delta}: the number there moved a little (a count or size that almost matches).
      const value =
        v !== null && typeof v === 'object' && 'delta' in v
          ? typeof current === 'number'
            ? current + (v.delta as number)
            : v.delta
          : v;
      m = edited(m, path, value);
      edits.push(`${path.join('.')} = ${value === undefined ? '(removed)' : JSON.stringify(value)}`);
    }
    return { text: JSON.stringify(m, null, 2), edits };
  });
  const textual = fc.tuple(fc.nat(), fc.nat(40), fc.string({ maxLength: 6 })).map(([at, cut, insert]) => {
    const text = JSON.stringify(reference, null, 2);
    const i = at % text.length;
    return {
      text: text.slice(0, i) + insert + text.slice(i + cut),
      edits: [`text at ${i}: -${cut} +${JSON.stringify(insert)}`],
    };
  });
  return fc.oneof({ weight: 4, arbitrary: structural }, { weight: 1, arbitrary: textual });
}
