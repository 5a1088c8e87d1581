import { describe, expect, it } from 'vitest';
import { seededRandom as rng } from '../../pipeline/random.js';
import { compileQuery, MentionDoc } from '../../pipeline/topics/match.js';
import { parseQuery, QuerySyntaxError } from '../../pipeline/topics/query.js';

const PIECES = [
  'acme',
  '삼성전자',
  'LG전자',
  'ＡＣＭＥ',
  'acme*',
  '*',
  'a*b',
  '"',
  '"big co"',
  '“',
  '(',
  ')',
  '（',
  'AND',
  'OR',
  'NOT',
  'NEAR/3',
  'NEAR/',
  'NEAR/x',
  'NEAR/0',
  'lang:ko',
  'lang:',
  'source:x',
  'author:"',
  'foo:bar',
  '!!',
  '-',
  '\u0000',
  '\uD800',
  '가',
  '삼',
  ' ',
  '\t',
  '',
];

describe('query parser on random input', () => {
  it('either parses or fails with a position inside the input, never anything else', () => {
    const doc = new MentionDoc({ text: 'ACME가 big co와 삼성전자의 LG전자 소식', lang: 'ko', source: 'x' });
    for (let seed = 1; seed <= 3000; seed++) {
      const next = rng(seed);
      const n = Math.floor(next() * 12);
      const parts: string[] = [];
      for (let i = 0; i < n; i++) {
        // Mostly known pieces, sometimes random code points, to reach odd corners.
        parts.push(
          next() < 0.85
            ? (PIECES[Math.floor(next() * PIECES.length)] ?? '')
            : String.fromCodePoint(Math.floor(next() * 0xffff)),
        );
      }
      const query = parts.join(next() < 0.7 ? ' ' : '');
      try {
        const ast = parseQuery(query);
        // Anything that parses must also compile and run.
        expect(typeof compileQuery(ast)(doc), query).toBe('boolean');
      } catch (err) {
        if (!(err instanceof QuerySyntaxError))
          throw new Error(`seed ${seed}: ${JSON.stringify(query)} threw ${err}`);
        expect(err.offset, `seed ${seed}: ${JSON.stringify(query)}`).toBeGreaterThanOrEqual(0);
        expect(err.offset, `seed ${seed}: ${JSON.stringify(query)}`).toBeLessThanOrEqual(query.length);
        expect(err.message).toMatch(/ at \d+$/);
      }
    }
  });

  it('handles long inputs quickly', () => {
    const long = Array.from({ length: 2000 }, (_, i) => (i % 3 === 2 ? 'OR' : `w${i}`)).join(' ');
    const started = performance.now();
    expect(() => parseQuery(long)).not.toThrow();
    expect(() => parseQuery(`${long} (`)).toThrow(QuerySyntaxError);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
