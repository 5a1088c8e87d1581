/**
 * Local matching of parsed topic queries against mentions. A mention is folded and split once
 * (MentionDoc) and then checked against every topic's compiled matcher, because tagging runs
 * many topics over millions of mentions and splitting the text is the expensive part.
 */
import { type NearOperand, parseQuery, type QueryNode } from './query.js';
import { fold, stems, tokenIs, tokenize } from './text.js';

/** The parts of a mention a query can look at. */
export interface MentionFields {
  text: string;
  title?: string | null;
  lang?: string | null;
  source?: string | null;
  authorHandle?: string | null;
}

// Sits between title and text so a phrase never runs from one into the other; no term equals it.
const GAP = '\u0000';
const EMPTY: readonly number[] = [];

/** A mention folded and split into tokens, with a lazily built index of words and particle stems. */
export class MentionDoc {
  readonly tokens: readonly string[];
  readonly lang: string;
  readonly source: string;
  readonly author: string;
  #index: Map<string, number[]> | undefined;
  readonly #keys: ReadonlySet<string> | undefined;

  /**
   * `split` is the text and title already folded and split (tokenize(fold(...))), for a caller
   * that needs those tokens itself: scoring splits a mention once for its terms and its tags.
   * `keys`, when given, are the only words `positions` will be asked for (lookedUp() of the
   * queries to match), so the index holds just those: most words of a text are in no query.
   */
  constructor(
    m: MentionFields,
    split?: { text: readonly string[]; title: readonly string[] },
    keys?: ReadonlySet<string>,
  ) {
    this.#keys = keys;
    const text = split?.text ?? tokenize(fold(m.text));
    const title = split?.title ?? (m.title ? tokenize(fold(m.title)) : []);
    this.tokens = title.length > 0 ? [...title, GAP, ...text] : text;
    this.lang = m.lang ? fold(m.lang).replaceAll('_', '-') : '';
    this.source = m.source ? fold(m.source) : '';
    this.author = m.authorHandle ? fold(m.authorHandle).replace(/^@/, '') : '';
  }

  /** Where `term` occurs, as itself or followed by a Korean particle. */
  positions(term: string): readonly number[] {
    if (this.#keys !== undefined && !this.#keys.has(term)) throw new Error(`"${term}" is not among the keys`);
    if (this.#index === undefined) this.#index = this.#build();
    return this.#index.get(term) ?? EMPTY;
  }

  #build(): Map<string, number[]> {
    const index = new Map<string, number[]>();
    const add = (key: string, i: number) => {
      const list = index.get(key);
      if (list === undefined) index.set(key, [i]);
      else if (list[list.length - 1] !== i) list.push(i);
    };
    const tokens = this.tokens;
    const keys = this.#keys;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i] as string;
      if (keys === undefined || keys.has(t)) add(t, i);
      if (t.charCodeAt(t.length - 1) >= 0xac00) {
        for (const s of stems(t)) if (keys === undefined || keys.has(s)) add(s, i);
      }
    }
    return index;
  }
}

/** A compiled query: true when the mention belongs to the topic. */
export type Matcher = (doc: MentionDoc) => boolean;

type Span = readonly [start: number, end: number];
type Spans = (doc: MentionDoc) => Span[];

function operandSpans(node: NearOperand): Spans {
  if (node.kind === 'term') {
    const v = node.value;
    if (node.prefix) {
      return (doc) => {
        const out: Span[] = [];
        doc.tokens.forEach((t, i) => {
          if (t.startsWith(v)) out.push([i, i]);
        });
        return out;
      };
    }
    return (doc) => doc.positions(v).map((p) => [p, p] as const);
  }
  const words = node.tokens;
  const first = words[0] ?? '';
  const last = words[words.length - 1] ?? '';
  const n = words.length;
  return (doc) => {
    const out: Span[] = [];
    const tokens = doc.tokens;
    outer: for (const p of doc.positions(first)) {
      if (tokens[p] !== first || p + n > tokens.length) continue;
      for (let k = 1; k < n - 1; k++) if (tokens[p + k] !== words[k]) continue outer;
      if (tokenIs(tokens[p + n - 1] ?? '', last)) out.push([p, p + n - 1]);
    }
    return out;
  };
}

/**
 * Index of the first span whose start (`end` 0) or end (`end` 1) is at least `at`, spans.length
 * when none is. operandSpans lists spans in text order and all of one operand have the same
 * length, so both starts and ends are ascending.
 */
function firstAtOrAfter(spans: readonly Span[], end: 0 | 1, at: number): number {
  let lo = 0;
  let hi = spans.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((spans[mid] as Span)[end] < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function compileNode(node: QueryNode): Matcher {
  switch (node.kind) {
    case 'term': {
      if (node.prefix) {
        const v = node.value;
        return (doc) => doc.tokens.some((t) => t.startsWith(v));
      }
      const v = node.value;
      return (doc) => doc.positions(v).length > 0;
    }
    case 'phrase': {
      const spans = operandSpans(node);
      return (doc) => spans(doc).length > 0;
    }
    case 'near': {
      const left = operandSpans(node.left);
      const right = operandSpans(node.right);
      const d = node.distance;
      // At most `d` tokens strictly between the two spans, in either order; overlapping spans do
      // not count. Only the nearest right span on each side of a left one can qualify, and it is
      // found by binary search: comparing every pair took seconds on a long text repeating both
      // words (found by tests/fuzz/topic-query.test.ts).
      return (doc) => {
        const ls = left(doc);
        if (ls.length === 0) return false;
        const rs = right(doc);
        if (rs.length === 0) return false;
        for (const [l0, l1] of ls) {
          const after = rs[firstAtOrAfter(rs, 0, l1 + 1)];
          if (after && after[0] - l1 - 1 <= d) return true;
          const before = rs[firstAtOrAfter(rs, 1, l0) - 1];
          if (before && l0 - before[1] - 1 <= d) return true;
        }
        return false;
      };
    }
    case 'filter': {
      const v = node.value;
      if (node.field === 'lang') return (doc) => doc.lang === v || doc.lang.startsWith(`${v}-`);
      if (node.field === 'source') return (doc) => doc.source === v;
      // Fediverse handles carry the instance (user@example.social); author:user matches them too.
      const bare = !v.includes('@');
      return (doc) => doc.author === v || (bare && doc.author.startsWith(`${v}@`));
    }
    case 'not': {
      const child = compileNode(node.child);
      return (doc) => !child(doc);
    }
    case 'and': {
      // Filters first: they are a string compare and rule most mentions out before any word lookup.
      const ordered = [...node.children].sort((a, b) => cost(a) - cost(b)).map(compileNode);
      return (doc) => {
        for (const m of ordered) if (!m(doc)) return false;
        return true;
      };
    }
    case 'or': {
      const ordered = [...node.children].sort((a, b) => cost(a) - cost(b)).map(compileNode);
      return (doc) => {
        for (const m of ordered) if (m(doc)) return true;
        return false;
      };
    }
  }
}

function cost(node: QueryNode): number {
  switch (node.kind) {
    case 'filter':
      return 0;
    case 'term':
      return node.prefix ? 3 : 1;
    case 'not':
      return cost(node.child);
    case 'phrase':
      return 2;
    default:
      return 4;
  }
}

/** The words a query looks up in a MentionDoc's index (its `keys` when only such queries run). */
export function lookedUp(query: string | QueryNode, into = new Set<string>()): Set<string> {
  const node = typeof query === 'string' ? parseQuery(query) : query;
  switch (node.kind) {
    case 'term':
      if (!node.prefix) into.add(node.value);
      break;
    case 'phrase':
      into.add(node.tokens[0] ?? '');
      break;
    case 'near':
      lookedUp(node.left, into);
      lookedUp(node.right, into);
      break;
    case 'not':
      lookedUp(node.child, into);
      break;
    case 'and':
    case 'or':
      for (const child of node.children) lookedUp(child, into);
      break;
    case 'filter':
      break;
  }
  return into;
}

/** Compiles a query (text or parsed) once, for matching against many mentions. */
export function compileQuery(query: string | QueryNode): Matcher {
  return compileNode(typeof query === 'string' ? parseQuery(query) : query);
}

/** One-off check of a mention against a query; use compileQuery and MentionDoc for many. */
export function matches(query: string | QueryNode | Matcher, mention: MentionFields | MentionDoc): boolean {
  const matcher = typeof query === 'function' ? query : compileQuery(query);
  return matcher(mention instanceof MentionDoc ? mention : new MentionDoc(mention));
}
