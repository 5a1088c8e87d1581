/**
 * The topic query language: terms, "exact phrases", AND / OR / NOT (adjacent terms are AND-ed),
 * parentheses, a NEAR/n b, trailing wildcards (acme*) and lang: / source: / author: filters.
 * Precedence, tightest first: NEAR, NOT, AND, OR. Operators are upper case only, as in the
 * listening tools comms teams already know, so "and" or "not" in lower case stay search words.
 */
import { fold, tokenize } from './text.js';

export type FilterField = 'lang' | 'source' | 'author';

/** A single word; `prefix` when written with a trailing *, then any word starting with it matches. */
export interface TermNode {
  kind: 'term';
  value: string;
  prefix: boolean;
}
/** Consecutive words; the last may carry a Korean particle like a term. */
export interface PhraseNode {
  kind: 'phrase';
  tokens: string[];
}
export type NearOperand = TermNode | PhraseNode;
export type QueryNode =
  | TermNode
  | PhraseNode
  | { kind: 'and'; children: QueryNode[] }
  | { kind: 'or'; children: QueryNode[] }
  | { kind: 'not'; child: QueryNode }
  /** Both sides, in either order, with at most `distance` tokens between them. */
  | { kind: 'near'; distance: number; left: NearOperand; right: NearOperand }
  | { kind: 'filter'; field: FilterField; value: string };

/** A query that cannot be parsed: `offset` is 0-based into the query, `column` (1-based) is in the message. */
export class QuerySyntaxError extends Error {
  override name = 'QuerySyntaxError';
  readonly column: number;
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(`${reason} at ${offset + 1}`);
    this.column = offset + 1;
  }
}

type Token =
  | { type: 'lparen' | 'rparen' | 'and' | 'or' | 'not'; at: number }
  | { type: 'near'; at: number; distance: number; text: string }
  | { type: 'node'; at: number; node: QueryNode };

const OPEN = new Set(['(', '（']);
const CLOSE = new Set([')', '）']);
// Korean keyboards and word processors often produce full-width or curly quotes.
const QUOTES = new Set(['"', '＂', '“', '”']);
const FILTERS = new Set<string>(['lang', 'source', 'author']);
const MAX_NEAR = 1000;
const MAX_DEPTH = 64;

const isSpace = (ch: string) => /\s/u.test(ch);
const isSpecial = (ch: string) => OPEN.has(ch) || CLOSE.has(ch) || QUOTES.has(ch);

function phraseNode(words: string[]): QueryNode {
  if (words.length === 1) return { kind: 'term', value: words[0] ?? '', prefix: false };
  return { kind: 'phrase', tokens: words };
}

function readQuoted(query: string, open: number): { text: string; end: number } {
  let i = open + 1;
  while (i < query.length && !QUOTES.has(query[i] ?? '')) i++;
  if (i >= query.length) throw new QuerySyntaxError('unclosed quote', open);
  return { text: query.slice(open + 1, i), end: i + 1 };
}

function filterValue(field: string, raw: string): string {
  const v = fold(raw).trim();
  // Handles are shown with @ on most platforms; users type either.
  return field === 'author' ? v.replace(/^@/, '') : v;
}

function wordNode(word: string, at: number): QueryNode {
  const star = word.indexOf('*');
  if (star >= 0 && star !== word.length - 1) {
    throw new QuerySyntaxError('a wildcard * only works at the end of a word, like acme*', at + star);
  }
  const body = star >= 0 ? word.slice(0, -1) : word;
  const words = tokenize(fold(body));
  if (words.length === 0) {
    throw new QuerySyntaxError(
      star >= 0 ? 'a wildcard needs letters before the *, like acme*' : `"${word}" has no letters or digits`,
      at,
    );
  }
  if (star >= 0) {
    if (words.length > 1) {
      throw new QuerySyntaxError('a wildcard works on one word; use a phrase or AND for the rest', at);
    }
    return { kind: 'term', value: words[0] ?? '', prefix: true };
  }
  return phraseNode(words);
}

function lex(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    const ch = query[i] ?? '';
    if (isSpace(ch)) {
      i++;
    } else if (OPEN.has(ch)) {
      tokens.push({ type: 'lparen', at: i++ });
    } else if (CLOSE.has(ch)) {
      tokens.push({ type: 'rparen', at: i++ });
    } else if (QUOTES.has(ch)) {
      const { text, end } = readQuoted(query, i);
      const words = tokenize(fold(text));
      if (words.length === 0) throw new QuerySyntaxError('empty phrase', i);
      tokens.push({ type: 'node', at: i, node: phraseNode(words) });
      i = end;
    } else {
      const at = i;
      while (i < query.length && !isSpace(query[i] ?? '') && !isSpecial(query[i] ?? '')) i++;
      const word = query.slice(at, i);
      if (word === 'AND') tokens.push({ type: 'and', at });
      else if (word === 'OR') tokens.push({ type: 'or', at });
      else if (word === 'NOT') tokens.push({ type: 'not', at });
      else if (word === 'NEAR' || word.startsWith('NEAR/')) {
        const m = /^NEAR\/(\d{1,6})$/.exec(word);
        if (!m) throw new QuerySyntaxError('NEAR needs a number, like NEAR/5,', at);
        const distance = Number(m[1]);
        if (distance < 1 || distance > MAX_NEAR) {
          throw new QuerySyntaxError(`NEAR takes a number from 1 to ${MAX_NEAR}`, at);
        }
        tokens.push({ type: 'near', at, distance, text: word });
      } else {
        const colon = /^([A-Za-z]+):(.*)$/s.exec(word);
        if (colon) {
          const field = (colon[1] ?? '').toLowerCase();
          let raw = colon[2] ?? '';
          if (!FILTERS.has(field)) {
            throw new QuerySyntaxError(
              `unknown filter "${colon[1]}:" (use lang:, source: or author:, or put the text in quotes)`,
              at,
            );
          }
          if (raw === '' && QUOTES.has(query[i] ?? '')) {
            const quoted = readQuoted(query, i);
            raw = quoted.text;
            i = quoted.end;
          }
          const value = filterValue(field, raw);
          if (value === '') throw new QuerySyntaxError(`${field}: needs a value, like ${field}:ko`, at);
          tokens.push({ type: 'node', at, node: { kind: 'filter', field: field as FilterField, value } });
        } else {
          tokens.push({ type: 'node', at, node: wordNode(word, at) });
        }
      }
    }
  }
  return tokens;
}

const startsOperand = (t: Token | undefined) =>
  t !== undefined && (t.type === 'node' || t.type === 'lparen' || t.type === 'not');

const opName = (t: Token) => (t.type === 'near' ? t.text : t.type.toUpperCase());

class Parser {
  #i = 0;
  #depth = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly length: number,
  ) {}

  #peek(): Token | undefined {
    return this.tokens[this.#i];
  }

  parse(): QueryNode {
    if (this.tokens.length === 0) throw new QuerySyntaxError('the query is empty', 0);
    const node = this.#or();
    const extra = this.#peek();
    if (extra) {
      // Only a stray ) can stop the top-level OR loop early.
      throw new QuerySyntaxError('unexpected ) with no parenthesis open', extra.at);
    }
    return node;
  }

  #or(): QueryNode {
    const children = [this.#and()];
    for (let t = this.#peek(); t?.type === 'or'; t = this.#peek()) {
      this.#i++;
      if (!startsOperand(this.#peek())) this.#missing(t);
      children.push(this.#and());
    }
    return children.length === 1 ? (children[0] as QueryNode) : flatten('or', children);
  }

  #and(): QueryNode {
    const children = [this.#unary()];
    for (;;) {
      const t = this.#peek();
      if (t?.type === 'and') {
        this.#i++;
        if (!startsOperand(this.#peek())) this.#missing(t);
      } else if (!startsOperand(t)) {
        break;
      }
      children.push(this.#unary());
    }
    return children.length === 1 ? (children[0] as QueryNode) : flatten('and', children);
  }

  #unary(): QueryNode {
    const t = this.#peek();
    if (t?.type === 'not') {
      this.#i++;
      if (!startsOperand(this.#peek())) this.#missing(t);
      return { kind: 'not', child: this.#unary() };
    }
    return this.#near();
  }

  #near(): QueryNode {
    let left = this.#primary();
    for (let t = this.#peek(); t?.type === 'near'; t = this.#peek()) {
      if (left.kind !== 'term' && left.kind !== 'phrase') {
        throw new QuerySyntaxError(`${t.text} works between two words or phrases, not groups`, t.at);
      }
      this.#i++;
      const next = this.#peek();
      if (next?.type === 'not') throw new QuerySyntaxError(`${t.text} cannot be followed by NOT`, next.at);
      if (!startsOperand(next)) this.#missing(t);
      const right = this.#primary();
      if (right.kind !== 'term' && right.kind !== 'phrase') {
        throw new QuerySyntaxError(`${t.text} works between two words or phrases, not groups`, t.at);
      }
      left = { kind: 'near', distance: t.distance, left, right };
    }
    return left;
  }

  #primary(): QueryNode {
    const t = this.#peek();
    if (t === undefined) throw new QuerySyntaxError('the query ends too early', this.length);
    if (t.type === 'node') {
      this.#i++;
      return t.node;
    }
    if (t.type === 'lparen') {
      this.#i++;
      if (++this.#depth > MAX_DEPTH) throw new QuerySyntaxError('too many nested parentheses', t.at);
      const inner = this.#peek();
      if (inner === undefined) throw new QuerySyntaxError('unclosed parenthesis', t.at);
      if (inner.type === 'rparen') throw new QuerySyntaxError('empty parentheses', t.at);
      const node = this.#or();
      const close = this.#peek();
      if (close?.type !== 'rparen') {
        if (close === undefined) throw new QuerySyntaxError('unclosed parenthesis', t.at);
        throw new QuerySyntaxError(`unexpected ${opName(close)}`, close.at);
      }
      this.#i++;
      this.#depth--;
      return node;
    }
    if (t.type === 'rparen') throw new QuerySyntaxError('unexpected ) with no parenthesis open', t.at);
    throw new QuerySyntaxError(`nothing before ${opName(t)}`, t.at);
  }

  #missing(op: Token): never {
    throw new QuerySyntaxError(`nothing after ${opName(op)}`, op.at);
  }
}

function flatten(kind: 'and' | 'or', children: QueryNode[]): QueryNode {
  const out: QueryNode[] = [];
  for (const c of children) {
    if (c.kind === kind) out.push(...c.children);
    else out.push(c);
  }
  return { kind, children: out };
}

/** Whether every way the query can match needs some word of the text (not only filters or NOT). */
function findsSomething(node: QueryNode): boolean {
  switch (node.kind) {
    case 'term':
    case 'phrase':
    case 'near':
      return true;
    case 'filter':
    case 'not':
      return false;
    case 'and':
      return node.children.some(findsSomething);
    case 'or':
      return node.children.every(findsSomething);
  }
}

/** Parses a topic query; throws QuerySyntaxError naming the position of the first problem. */
export function parseQuery(query: string): QueryNode {
  const node = new Parser(lex(query), query.length).parse();
  if (!findsSomething(node)) {
    // A topic of only NOT or filters would tag nearly every stored mention.
    throw new QuerySyntaxError('the query needs a word or phrase to look for, not only NOT or filters', 0);
  }
  return node;
}

/** The query a topic stands for: its own, or its keywords OR-ed (multi-word ones as phrases). */
export function topicQuery(topic: { query: string | null; keywords: readonly string[] }): string {
  if (topic.query !== null && topic.query.trim() !== '') return topic.query;
  return topic.keywords
    .map((k) => k.trim())
    .filter((k) => k !== '')
    .map((k) =>
      /^[\p{L}\p{N}]+$/u.test(k) && !/^(AND|OR|NOT|NEAR)$/.test(k) ? k : `"${k.replace(/["＂“”]/g, ' ')}"`,
    )
    .join(' OR ');
}
