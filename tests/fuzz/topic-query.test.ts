import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileQuery, MentionDoc } from '../../pipeline/topics/match.js';
import { parseQuery, QuerySyntaxError } from '../../pipeline/topics/query.js';
import { options, runs, settle, timeoutFor } from './runs.js';

const PIECES = [
  'acme',
  'acme*',
  '*',
  'a*b',
  '삼성전자',
  'LG전자',
  'ＡＣＭＥ',
  '"',
  '"big co"',
  '“',
  '”',
  '＂',
  '(',
  ')',
  '（',
  '）',
  'AND',
  'OR',
  'NOT',
  'and',
  'NEAR',
  'NEAR/',
  'NEAR/3',
  'NEAR/0',
  'NEAR/1001',
  'NEAR/99999999999999999999',
  'lang:',
  'lang:ko',
  'source:x',
  'author:@bob',
  'author:"',
  'foo:bar',
  ':',
  '\u0000',
  '\uD800',
  '\u0301',
  '🙂',
  ' ',
  '\t',
  '\n',
];

const piece = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...PIECES) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 4 }) },
);

/** Token soup: known pieces, random code points (lone surrogates too), glued or spaced. */
const soup = fc
  .tuple(fc.array(piece, { maxLength: 24 }), fc.constantFrom(' ', '', '  '))
  .map(([parts, sep]) => parts.join(sep));

/** Deep or unbalanced nesting around a small query. */
const nested = fc
  .tuple(fc.nat(400), fc.nat(400), fc.constantFrom('a', 'a OR b', 'NOT a b', '"x y"', 'a NEAR/2 b', ''))
  .map(([open, close, inner]) => `${'('.repeat(open)}${inner}${')'.repeat(close)}`);

/** NEAR with any digits, including numbers far past what a double holds. */
const near = fc
  .tuple(fc.stringMatching(/^[0-9]{0,40}$/), fc.constantFrom('a', '"a b"', '(a)', 'NOT a', ''))
  .map(([n, right]) => `acme NEAR/${n} ${right}`);

const anyQuery = fc.oneof(soup, nested, near, fc.string({ unit: 'binary', maxLength: 200 }));

const doc = new MentionDoc({ text: 'ACME가 big co와 삼성전자의 LG전자 소식 a x b', lang: 'ko', source: 'x' });

describe('topic query parser (fuzz)', () => {
  const n = runs(1000);
  it(
    'either compiles to a matcher or fails with a QuerySyntaxError at a position inside the query',
    () => {
      fc.assert(
        fc.property(anyQuery, (query) => {
          const outcome = settle('parseQuery', () => compileQuery(parseQuery(query))(doc));
          if (outcome.ok) {
            expect(typeof outcome.value).toBe('boolean');
            return;
          }
          const err = outcome.error;
          expect(err).toBeInstanceOf(QuerySyntaxError);
          const e = err as QuerySyntaxError;
          expect(e.offset).toBeGreaterThanOrEqual(0);
          expect(e.offset).toBeLessThanOrEqual(query.length);
          expect(e.message).toMatch(/\S.* at \d+$/);
        }),
        options(n, 5),
      );
    },
    timeoutFor(n, 5),
  );
});

// Valid queries over a small vocabulary, so matching has something to find.
const WORDS = ['acme', 'big', 'co', 'a', 'b', '삼성전자', 'lg'];
const operand = fc.oneof(
  fc.constantFrom(...WORDS),
  fc.constantFrom(...WORDS).map((w) => `${w}*`),
  fc.array(fc.constantFrom(...WORDS), { minLength: 2, maxLength: 3 }).map((ws) => `"${ws.join(' ')}"`),
);
const { query: validQuery } = fc.letrec<{ query: string }>((tie) => ({
  query: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    operand,
    fc
      .tuple(operand, fc.integer({ min: 1, max: 1000 }), operand)
      .map(([l, d, r]) => `${l.replace(/\*$/, '')} NEAR/${d} ${r}`),
    fc
      .tuple(tie('query'), fc.constantFrom('AND', 'OR', ''), tie('query'))
      .map(([l, op, r]) => `(${l}) ${op} (${r})`),
    tie('query').map((q) => `${q} NOT (${q}) lang:ko`),
  ),
}));

// Texts from the same words, some with one word repeated many times: the inputs where a matcher
// that compares every pair of positions becomes quadratic.
const TEXT_WORDS = [
  ...WORDS,
  '삼성전자가',
  '삼성전자에서는',
  'ＡＣＭＥ',
  'acmes',
  'LG전자',
  'x',
  '🙂',
  '\u0000',
];
const text = fc.oneof(
  fc.array(fc.constantFrom(...TEXT_WORDS), { maxLength: 300 }).map((ws) => ws.join(' ')),
  fc
    .tuple(
      fc.constantFrom(...TEXT_WORDS),
      fc.integer({ min: 1, max: 30_000 }),
      fc.constantFrom(...TEXT_WORDS),
    )
    .map(([a, k, b]) => `${`${a} `.repeat(k)} x x x ${`${b} `.repeat(k)}`),
);

describe('topic matching (fuzz)', () => {
  const n = runs(150);
  it(
    'never throws and ends in bounded time on any text, however repetitive',
    () => {
      fc.assert(
        fc.property(validQuery, text, (query, body) => {
          const outcome = settle('match', () =>
            compileQuery(query)(new MentionDoc({ text: body, lang: 'ko' })),
          );
          if (!outcome.ok) throw outcome.error;
          expect(typeof outcome.value).toBe('boolean');
        }),
        options(n, 100),
      );
    },
    timeoutFor(n, 100),
  );

  it(
    'NEAR between two words each repeated thousands of times ends in bounded time',
    () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...TEXT_WORDS),
          fc.constantFrom(...WORDS),
          fc.constantFrom(...WORDS),
          fc.integer({ min: 1, max: 40_000 }),
          fc.integer({ min: 1, max: 1000 }),
          (filler, a, b, k, d) => {
            const body = `${`${a} `.repeat(k)} ${`${filler} `.repeat(3)} ${`${b} `.repeat(k)}`;
            const outcome = settle('near', () =>
              compileQuery(`${a} NEAR/${d} ${b}`)(new MentionDoc({ text: body })),
            );
            if (!outcome.ok) throw outcome.error;
          },
        ),
        options(runs(40), 300),
      );
    },
    timeoutFor(runs(40), 300),
  );

  // NEAR is checked with a binary search over sorted spans; this is the definition it must agree
  // with: some left and some right occurrence, in either order, not overlapping, with at most
  // `distance` tokens strictly between them.
  it(
    'NEAR agrees with its definition on short texts',
    () => {
      fc.assert(
        fc.property(
          fc.constantFrom('a', 'b', '"a b"', '"b a"', 'a*'),
          fc.integer({ min: 1, max: 4 }),
          fc.constantFrom('a', 'b', '"a b"', 'c', 'b*'),
          fc.array(fc.constantFrom('a', 'b', 'c', 'ab', 'ba'), { maxLength: 14 }),
          (left, d, right, words) => {
            const spans = (q: string): [number, number][] => {
              if (q.endsWith('*'))
                return words.flatMap((w, i) =>
                  w.startsWith(q.slice(0, -1)) ? [[i, i] as [number, number]] : [],
                );
              const parts = q.replaceAll('"', '').split(' ');
              return words.flatMap((_, i) =>
                parts.every((p, k) => words[i + k] === p)
                  ? [[i, i + parts.length - 1] as [number, number]]
                  : [],
              );
            };
            const expected = spans(left).some(([l0, l1]) =>
              spans(right).some(([r0, r1]) => (r0 > l1 && r0 - l1 - 1 <= d) || (l0 > r1 && l0 - r1 - 1 <= d)),
            );
            const got = compileQuery(`${left} NEAR/${d} ${right}`)(new MentionDoc({ text: words.join(' ') }));
            expect(got).toBe(expected);
          },
        ),
        options(runs(500), 5),
      );
    },
    timeoutFor(runs(500), 5),
  );

  // Found by the properties above: NEAR compared every left occurrence with every right one, so a
  // 200 KB text of "a a a ... b b b" took 14 s against `a NEAR/1 b` (tagging runs every topic over
  // every mention, and collected text is attacker-controlled).
  it('NEAR on a long repetitive text ends quickly (regression)', () => {
    const body = `${'a '.repeat(50_000)} x x x ${'b '.repeat(50_000)}`;
    const far = settle('near', () => compileQuery('a NEAR/1 b')(new MentionDoc({ text: body })));
    expect(far).toEqual({ ok: true, value: false });
    const close = settle('near', () => compileQuery('a NEAR/3 b')(new MentionDoc({ text: body })));
    expect(close).toEqual({ ok: true, value: true });
  });
});
