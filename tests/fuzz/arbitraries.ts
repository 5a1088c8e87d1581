/** Generators shared by the fuzz tests: the hostile strings and values collected data can carry. */
import fc from 'fast-check';

/**
 * Characters that regexes and parsers of dates, authors, URLs, CSV and markup treat specially;
 * a long run of one of these is how a backtracking regex is made to take forever.
 */
const RUN_PIECES = [
  ' ',
  '\t',
  '\n',
  '\r\n',
  '0',
  '1:',
  'a@',
  '<a@',
  '<',
  '>',
  '(',
  ')',
  '"',
  "'",
  ',',
  ';',
  '&',
  '&amp;',
  '&#x',
  '<!--',
  '-->',
  '<b>',
  'a',
  '가',
  '\u0000',
  '\\',
  '%',
  '.',
  '-',
  'T',
  '+09',
];

/** One piece repeated up to `max` times (default 20,000): long inputs with a regular shape. */
export const longRun = (max = 20_000) =>
  fc
    .tuple(
      fc.constantFrom(...RUN_PIECES),
      fc.integer({ min: 1, max }),
      fc.constantFrom('', 'x', '1', ' 1', '가'),
    )
    .map(([piece, n, end]) => piece.repeat(n) + end);

/** Any text a hostile or broken source could send in one field. */
export const weirdString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '\u0000',
      '\uD800',
      '\uFEFF',
      '삼성전자가 🙂',
      'Ｆｕｌｌ',
      '<script>alert(1)</script>',
      '&lt;b&gt;&amp;&#0;&#x110000;&#99999999;',
      'javascript:alert(1)',
      'http://',
      'https://[::1',
      '9'.repeat(40),
      '-0',
      'NaN',
      'Infinity',
      '1e400',
      '2026-02-30T25:61:61Z',
      '0000-00-00',
      '9999-12-31T23:59:59Z',
      'Mon, 32 Foo 2026 99:99:99 +9999',
      '__proto__',
      'constructor',
      '{{7*7}}',
      '%s%n',
      "'; DROP TABLE mentions; --",
    ),
  },
  { weight: 1, arbitrary: longRun() },
);

/** Any JSON value in a field's place: wrong types, huge numbers, nesting, nulls. */
export const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: weirdString },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      null,
      true,
      false,
      0,
      -1,
      0.5,
      1e308,
      -1e308,
      2 ** 53 + 1,
      9.3e18,
      Number.MAX_SAFE_INTEGER,
      [],
      {},
      [null],
      { id: null },
    ),
  },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);
