/** How the fuzz tests damage a realistic payload: JSON edits, CSV and NDJSON edits, encodings and gzip. */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { weirdString, weirdValue } from './arbitraries.js';

type Step = string | number;
export type Mutation =
  | { op: 'set'; path: Step[]; value: unknown }
  | { op: 'delete'; path: Step[] }
  | { op: 'duplicate'; path: Step[] };

/** A JSON edit along a path of `keys` (the payload's own field names) and array indexes. */
export function jsonMutation(keys: readonly string[]): fc.Arbitrary<Mutation> {
  const path = fc.array(fc.oneof(fc.constantFrom(...keys), fc.nat(5)), { minLength: 1, maxLength: 7 });
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), path, value: weirdValue }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), path }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('duplicate' as const), path }) },
  );
}

/** Follows `path` through the payload (keys it lacks are taken as any key of the object) and changes the last step. */
export function mutate(root: unknown, m: Mutation): unknown {
  const copy = structuredClone(root);
  let node = copy as Record<Step, unknown>;
  for (let i = 0; i < m.path.length; i++) {
    const keys: Step[] = Array.isArray(node) ? node.map((_, j) => j) : Object.keys(node);
    if (keys.length === 0) break;
    const step = m.path[i] as Step;
    const key = keys.includes(step)
      ? step
      : (keys[(typeof step === 'number' ? step : step.length) % keys.length] as Step);
    const child = node[key];
    if (i < m.path.length - 1 && child !== null && typeof child === 'object') {
      node = child as Record<Step, unknown>;
      continue;
    }
    if (m.op === 'set') node[key] = m.value;
    else if (m.op === 'duplicate' && Array.isArray(node)) node.push(structuredClone(child));
    else if (Array.isArray(node)) node.splice(key as number, 1);
    else delete node[key];
    break;
  }
  return copy;
}

export type Edit =
  | { kind: 'cell'; line: number; column: number; value: string; quote: boolean }
  | { kind: 'line'; op: 'drop' | 'duplicate' | 'blank'; line: number }
  | { kind: 'splice'; at: number; cut: number; insert: string };

export const edit: fc.Arbitrary<Edit> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('cell' as const),
      line: fc.nat(30),
      column: fc.nat(30),
      value: weirdString,
      quote: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('line' as const),
      op: fc.constantFrom('drop' as const, 'duplicate' as const, 'blank' as const),
      line: fc.nat(30),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('splice' as const),
      at: fc.nat(),
      cut: fc.oneof(fc.constant(0), fc.nat(20), fc.nat(100_000)),
      insert: fc.oneof(weirdString, fc.constantFrom('"', '""', ',', '\n', '\r', '{', '}', '\t', ';')),
    }),
  },
);

/** Applies an edit to CSV or NDJSON text, line 0 being the header (or the first object). */
export function apply(text: string, e: Edit): string {
  if (e.kind === 'splice') {
    const at = e.at % (text.length + 1);
    return text.slice(0, at) + e.insert + text.slice(at + e.cut);
  }
  const lines = text.split('\n');
  const i = e.line % lines.length;
  if (e.kind === 'line') {
    if (e.op === 'drop') lines.splice(i, 1);
    else if (e.op === 'duplicate') lines.splice(i, 0, lines[i] ?? '');
    else lines[i] = '';
    return lines.join('\n');
  }
  const line = lines[i] ?? '';
  if (line.trimStart().startsWith('{')) {
    // NDJSON: replace one field's value.
    try {
      const obj = JSON.parse(line) as Record<string, unknown>;
      const keys = Object.keys(obj);
      const key = keys[e.column % Math.max(1, keys.length)];
      if (key !== undefined) obj[key] = e.quote ? e.value : Number(e.value);
      lines[i] = JSON.stringify(obj);
    } catch {
      lines[i] = e.value;
    }
    return lines.join('\n');
  }
  const cells = line.split(',');
  const value = e.quote ? `"${e.value.replaceAll('"', '""')}"` : e.value;
  cells[e.column % cells.length] = value;
  lines[i] = cells.join(',');
  return lines.join('\n');
}

export type Wrap = 'plain' | 'bom' | 'gzip' | 'broken-gzip' | 'euc-kr' | 'utf16le';
export function wrap(text: string, how: Wrap): Buffer {
  if (how === 'bom') return Buffer.from(`\uFEFF${text}`);
  if (how === 'gzip') return gzipSync(Buffer.from(text));
  if (how === 'broken-gzip') {
    const z = gzipSync(Buffer.from(text));
    return z.subarray(0, Math.max(2, Math.floor(z.length / 2)));
  }
  if (how === 'euc-kr') return iconv.encode(text, 'euc-kr');
  if (how === 'utf16le') return iconv.encode(text, 'utf16le');
  return Buffer.from(text);
}
