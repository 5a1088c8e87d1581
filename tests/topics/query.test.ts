import { describe, expect, it } from 'vitest';
import { parseQuery, type QueryNode, QuerySyntaxError, topicQuery } from '../../pipeline/topics/query.js';

const t = (value: string, prefix = false): QueryNode => ({ kind: 'term', value, prefix });
const p = (...tokens: string[]): QueryNode => ({ kind: 'phrase', tokens });

function syntaxError(query: string): QuerySyntaxError {
  try {
    parseQuery(query);
  } catch (err) {
    expect(err).toBeInstanceOf(QuerySyntaxError);
    return err as QuerySyntaxError;
  }
  throw new Error(`expected ${query} to fail`);
}

describe('query parser', () => {
  it('reads terms, folding case and width', () => {
    expect(parseQuery('Acme')).toEqual(t('acme'));
    expect(parseQuery('ＡＣＭＥ')).toEqual(t('acme'));
    expect(parseQuery('삼성전자')).toEqual(t('삼성전자'));
  });

  it('reads exact phrases, including curly and full-width quotes', () => {
    expect(parseQuery('"Big Acme Corp"')).toEqual(p('big', 'acme', 'corp'));
    expect(parseQuery('“갤럭시 S24”')).toEqual(p('갤럭시', 's24'));
    expect(parseQuery('＂acme corp＂')).toEqual(p('acme', 'corp'));
    // A one-word phrase is a term.
    expect(parseQuery('"acme"')).toEqual(t('acme'));
  });

  it('splits a word that fuses scripts or punctuation into a phrase', () => {
    expect(parseQuery('LG전자')).toEqual(p('lg', '전자'));
    expect(parseQuery('e-mail')).toEqual(p('e', 'mail'));
  });

  it('reads AND, OR, NOT and implicit AND', () => {
    expect(parseQuery('a AND b')).toEqual({ kind: 'and', children: [t('a'), t('b')] });
    expect(parseQuery('a b')).toEqual({ kind: 'and', children: [t('a'), t('b')] });
    expect(parseQuery('a OR b OR c')).toEqual({ kind: 'or', children: [t('a'), t('b'), t('c')] });
    expect(parseQuery('a NOT b')).toEqual({
      kind: 'and',
      children: [t('a'), { kind: 'not', child: t('b') }],
    });
  });

  it('keeps lower-case and/or/not as words', () => {
    expect(parseQuery('rock and roll')).toEqual({ kind: 'and', children: [t('rock'), t('and'), t('roll')] });
  });

  it('binds NOT tighter than AND, and AND tighter than OR', () => {
    expect(parseQuery('a OR b AND c')).toEqual({
      kind: 'or',
      children: [t('a'), { kind: 'and', children: [t('b'), t('c')] }],
    });
    expect(parseQuery('a AND b OR c')).toEqual({
      kind: 'or',
      children: [{ kind: 'and', children: [t('a'), t('b')] }, t('c')],
    });
    expect(parseQuery('NOT a AND b')).toEqual({
      kind: 'and',
      children: [{ kind: 'not', child: t('a') }, t('b')],
    });
    expect(parseQuery('x NOT a OR b')).toEqual({
      kind: 'or',
      children: [{ kind: 'and', children: [t('x'), { kind: 'not', child: t('a') }] }, t('b')],
    });
  });

  it('lets parentheses override precedence', () => {
    expect(parseQuery('(a OR b) AND c')).toEqual({
      kind: 'and',
      children: [{ kind: 'or', children: [t('a'), t('b')] }, t('c')],
    });
    expect(parseQuery('x NOT (a OR b)')).toEqual({
      kind: 'and',
      children: [t('x'), { kind: 'not', child: { kind: 'or', children: [t('a'), t('b')] } }],
    });
    expect(parseQuery('（a OR b） c')).toEqual({
      kind: 'and',
      children: [{ kind: 'or', children: [t('a'), t('b')] }, t('c')],
    });
  });

  it('reads NEAR/n between terms and phrases', () => {
    expect(parseQuery('acme NEAR/5 "data breach"')).toEqual({
      kind: 'near',
      distance: 5,
      left: t('acme'),
      right: p('data', 'breach'),
    });
    expect(parseQuery('a OR b NEAR/2 c')).toEqual({
      kind: 'or',
      children: [t('a'), { kind: 'near', distance: 2, left: t('b'), right: t('c') }],
    });
  });

  it('reads trailing wildcards', () => {
    expect(parseQuery('acme*')).toEqual(t('acme', true));
    expect(parseQuery('삼성*')).toEqual(t('삼성', true));
  });

  it('reads filters', () => {
    expect(parseQuery('acme lang:KO source:reddit author:@Bob')).toEqual({
      kind: 'and',
      children: [
        t('acme'),
        { kind: 'filter', field: 'lang', value: 'ko' },
        { kind: 'filter', field: 'source', value: 'reddit' },
        { kind: 'filter', field: 'author', value: 'bob' },
      ],
    });
    expect(parseQuery('acme author:"Some One"')).toEqual({
      kind: 'and',
      children: [t('acme'), { kind: 'filter', field: 'author', value: 'some one' }],
    });
  });

  it('names the problem and its position in malformed queries', () => {
    const cases: Array<[string, string]> = [
      ['acme AND (beta', 'unclosed parenthesis at 10'],
      ['acme NEAR/x b', 'NEAR needs a number, like NEAR/5, at 6'],
      ['acme NEAR b', 'NEAR needs a number, like NEAR/5, at 6'],
      ['acme NEAR/0 b', 'NEAR takes a number from 1 to 1000 at 6'],
      ['acme OR beta OR', 'nothing after OR at 14'],
      ['OR acme', 'nothing before OR at 1'],
      ['acme AND', 'nothing after AND at 6'],
      ['acme NOT', 'nothing after NOT at 6'],
      ['acme )', 'unexpected ) with no parenthesis open at 6'],
      ['acme "big co', 'unclosed quote at 6'],
      ['acme ""', 'empty phrase at 6'],
      ['ac*me', 'a wildcard * only works at the end of a word, like acme* at 3'],
      ['acme *', 'a wildcard needs letters before the *, like acme* at 6'],
      [
        'acme lnag:ko',
        'unknown filter "lnag:" (use lang:, source: or author:, or put the text in quotes) at 6',
      ],
      ['acme lang:', 'lang: needs a value, like lang:ko at 6'],
      ['acme ()', 'empty parentheses at 6'],
      ['(a OR b) NEAR/3 c', 'NEAR/3 works between two words or phrases, not groups at 10'],
      ['a NEAR/3 NOT b', 'NEAR/3 cannot be followed by NOT at 10'],
      ['', 'the query is empty at 1'],
      ['NOT acme', 'the query needs a word or phrase to look for, not only NOT or filters at 1'],
      ['lang:ko', 'the query needs a word or phrase to look for, not only NOT or filters at 1'],
      ['!!!', '"!!!" has no letters or digits at 1'],
      ['(a (b (c)', 'unclosed parenthesis at 4'],
    ];
    for (const [query, message] of cases) {
      const err = syntaxError(query);
      expect(err.message, query).toBe(message);
      expect(err.column).toBe(err.offset + 1);
      expect(err.offset).toBeGreaterThanOrEqual(0);
      expect(err.offset).toBeLessThanOrEqual(query.length);
    }
  });

  it('refuses nesting deep enough to exhaust the stack', () => {
    const err = syntaxError(`${'('.repeat(5000)}a${')'.repeat(5000)}`);
    expect(err.message).toMatch(/too many nested parentheses/);
  });
});

describe('topicQuery', () => {
  it('uses the query when there is one', () => {
    expect(topicQuery({ query: 'acme NOT beta', keywords: ['x'] })).toBe('acme NOT beta');
  });

  it('ORs the keywords and quotes the ones that are not a single plain word', () => {
    expect(
      topicQuery({ query: null, keywords: ['Acme', 'Acme Corp', '삼성전자', 'OR', 'say "hi"', ' '] }),
    ).toBe('Acme OR "Acme Corp" OR 삼성전자 OR "OR" OR "say  hi "');
    expect(topicQuery({ query: '  ', keywords: ['a'] })).toBe('a');
    expect(() =>
      parseQuery(topicQuery({ query: null, keywords: ['Acme', 'Acme Corp', 'NOT'] })),
    ).not.toThrow();
  });
});
