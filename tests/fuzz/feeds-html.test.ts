import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { decodeFeed, extractArticle, parseFeed, parseFeedDate } from '../../collectors/rss.js';
import { htmlToText } from '../../collectors/text.js';
import { projectRoot } from '../../pipeline/paths.js';
import { longRun, weirdString } from './arbitraries.js';
import { options, runs, settle, timeoutFor } from './runs.js';

const listening = (name: string) =>
  readFileSync(join(projectRoot, 'tests', 'fixtures', 'listening', name), 'utf8');
const FEEDS = [listening('google_news_rss_search.xml'), listening('generic_atom_feed.xml')];
const PAGES = [
  listening('rss_article_news.html'),
  listening('rss_article_blog.html'),
  listening('rss_article_korean.html'),
];

const MARKUP = [
  '<',
  '>',
  '</item>',
  '<item>',
  '<entry>',
  '</channel>',
  '<![CDATA[',
  ']]>',
  '<!--',
  '-->',
  '<?xml version="1.0" encoding="euc-kr"?>',
  '<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
  '&b;',
  '&amp;',
  '&#0;',
  '&#xD800;',
  '&nbsp;',
  '<br/>',
  '<script>x</script>',
  '<a href="javascript:alert(1)">',
  '<meta charset="euc-kr">',
  '<script type="application/ld+json">{"@type":"NewsArticle","articleBody":',
  '"}</script>',
  '<p>',
  '</p>',
  'xml:base="http://[::1"',
  ' xml:lang="ko" ',
];

const TAGS = [
  'title',
  'link',
  'guid',
  'pubDate',
  'description',
  'dc:creator',
  'author',
  'id',
  'updated',
  'published',
  'name',
  'content',
  'summary',
  'source',
  'language',
  'p',
  'meta',
  'script',
];

type Edit =
  | { kind: 'field'; tag: string; nth: number; value: string }
  | { kind: 'splice'; at: number; cut: number; insert: string }
  | { kind: 'nest'; at: number; depth: number; tag: string };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({
    kind: fc.constant('field' as const),
    tag: fc.constantFrom(...TAGS),
    nth: fc.nat(5),
    value: weirdString,
  }),
  fc.record({
    kind: fc.constant('splice' as const),
    at: fc.nat(),
    cut: fc.oneof(fc.constant(0), fc.nat(50), fc.nat(100_000)),
    insert: fc.oneof(
      fc.constantFrom(...MARKUP),
      weirdString,
      fc.array(fc.constantFrom(...MARKUP)).map((m) => m.join('')),
    ),
  }),
  fc.record({
    kind: fc.constant('nest' as const),
    at: fc.nat(),
    depth: fc.integer({ min: 1, max: 4000 }),
    tag: fc.constantFrom('div', 'item', 'a', 'b', 'x:y'),
  }),
);

/** Replaces the text of the nth <tag> (or splices, or nests elements) in `text`. */
function apply(text: string, e: Edit): string {
  if (e.kind === 'field') {
    const re = new RegExp(`(<${e.tag}\\b[^>]*>)([\\s\\S]*?)(</${e.tag}>)`, 'g');
    let i = 0;
    return text.replace(re, (whole, open: string, _inner, close: string) =>
      i++ === e.nth ? open + e.value + close : whole,
    );
  }
  const at = e.at % (text.length + 1);
  if (e.kind === 'splice') return text.slice(0, at) + e.insert + text.slice(at + e.cut);
  return text.slice(0, at) + `<${e.tag}>`.repeat(e.depth) + `</${e.tag}>`.repeat(e.depth) + text.slice(at);
}

const document = (bases: string[]) =>
  fc
    .tuple(fc.constantFrom(...bases), fc.array(edit, { minLength: 1, maxLength: 4 }))
    .map(([base, edits]) => edits.reduce(apply, base));

const CONTENT_TYPES = [
  null,
  'application/rss+xml',
  'application/atom+xml; charset=utf-8',
  'text/xml; charset=euc-kr',
  'text/html; charset=EUC-KR',
  'text/xml; charset=bogus-charset',
  'text/xml; charset=utf-16le',
  'text/html; charset="shift_jis"',
];

/** The document as bytes on the wire: UTF-8, EUC-KR, with a BOM, or with raw garbage spliced in. */
const wire = (bases: string[]) =>
  fc
    .tuple(
      document(bases),
      fc.constantFrom('utf8', 'euc-kr', 'bom', 'garbage'),
      fc.uint8Array({ maxLength: 64 }),
      fc.constantFrom(...CONTENT_TYPES),
    )
    .map(([text, encoding, junk, type]) => {
      let body: Buffer;
      if (encoding === 'euc-kr') body = iconv.encode(text, 'euc-kr');
      else if (encoding === 'bom') body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
      else if (encoding === 'garbage') {
        const b = Buffer.from(text);
        const at = junk.length % (b.length + 1);
        body = Buffer.concat([b.subarray(0, at), Buffer.from(junk), b.subarray(at)]);
      } else body = Buffer.from(text);
      return { body, headers: new Headers(type ? { 'content-type': type } : {}) };
    });

const FEED_URL = 'https://news.example.kr/rss.xml';

function validDate(d: Date | null): boolean {
  return (
    d === null || (!Number.isNaN(d.getTime()) && d.getUTCFullYear() >= 1970 && d.getUTCFullYear() <= 2200)
  );
}

describe('feed parsing (fuzz)', () => {
  const n = runs(300);
  it(
    'decodes any bytes and parses to items (each with an id, or a bad item with its reason) or a clear error',
    () => {
      fc.assert(
        fc.property(wire(FEEDS), ({ body, headers }) => {
          const outcome = settle('decodeFeed + parseFeed', () => {
            const parsed = parseFeed(decodeFeed(headers, body), FEED_URL);
            // What toRecord does with each item's markup.
            if (parsed.ok)
              for (const item of parsed.feed.items) if ('body' in item) htmlToText(item.body ?? '');
            return parsed;
          });
          if (!outcome.ok) throw outcome.error;
          const parsed = outcome.value;
          if (!parsed.ok) {
            expect(parsed.error).toMatch(/\S/);
            return;
          }
          for (const item of parsed.feed.items) {
            if ('marker' in item) {
              expect(item.error).toMatch(/\S/);
              continue;
            }
            expect(typeof item.nativeId).toBe('string');
            expect(item.nativeId).not.toBe('');
            expect(validDate(item.date)).toBe(true);
            if (item.link !== null) expect(item.link).toMatch(/^https?:\/\//);
          }
        }),
        options(n, 50),
      );
    },
    timeoutFor(n, 50),
  );

  it(
    'reads any date string to a valid instant or null in bounded time',
    () => {
      fc.assert(
        fc.property(fc.oneof(weirdString, longRun(100_000)), (value) => {
          const outcome = settle('parseFeedDate', () => parseFeedDate(value));
          if (!outcome.ok) throw outcome.error;
          expect(validDate(outcome.value)).toBe(true);
        }),
        options(runs(300), 50),
      );
    },
    timeoutFor(runs(300), 50),
  );
});

describe('HTML parsing (fuzz)', () => {
  const n = runs(300);
  const pages = runs(150);
  it(
    'extracts an article from any page without throwing',
    () => {
      fc.assert(
        fc.property(wire(PAGES), ({ body, headers }) => {
          const outcome = settle('extractArticle', () =>
            extractArticle(decodeFeed(headers, body), 'https://news.example.kr/a/1'),
          );
          if (!outcome.ok) throw outcome.error;
          const article = outcome.value;
          expect(validDate(article.publishedAt)).toBe(true);
          if (article.text !== null) expect(article.text).toMatch(/\S/);
        }),
        options(pages, 50),
      );
    },
    timeoutFor(pages, 50),
  );

  it(
    'turns any fragment into text without throwing',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            document(PAGES),
            fc
              .array(fc.oneof(fc.constantFrom(...MARKUP), weirdString), { maxLength: 20 })
              .map((p) => p.join('')),
          ),
          (html) => {
            const outcome = settle('htmlToText', () => htmlToText(html));
            if (!outcome.ok) throw outcome.error;
            expect(typeof outcome.value).toBe('string');
          },
        ),
        options(n, 50),
      );
    },
    timeoutFor(n, 50),
  );
});

// Found by the properties above: cheerio's text() recurses once per level, so a few thousand
// nested tags threw "Maximum call stack size exceeded" out of every parser here. (HTML pages are
// kept to 4,000 levels: parse5, cheerio's HTML parser, is quadratic in the depth, about 20 s at
// 20,000 levels; not fixed here.)
describe('deeply nested markup (regression)', () => {
  const deep = (depth: number, tag: string, inner: string) =>
    `<${tag}>`.repeat(depth) + inner + `</${tag}>`.repeat(depth);

  it('htmlToText keeps the text of markup nested 4,000 deep', () => {
    const outcome = settle('htmlToText', () => htmlToText(`<p>before</p>${deep(4000, 'div', 'deep text')}`));
    expect(outcome).toEqual({ ok: true, value: 'before\ndeep text' });
  });

  it('parseFeed reads an item whose description nests 20,000 deep', () => {
    const feed = `<rss><channel><title>t</title><item><guid>g1</guid><title>${deep(20_000, 'b', 'x')}</title></item></channel></rss>`;
    const outcome = settle('parseFeed', () => parseFeed(feed, FEED_URL));
    expect(
      outcome.ok &&
        outcome.value.ok &&
        outcome.value.feed.items.map((i) => 'nativeId' in i && [i.nativeId, i.title]),
    ).toEqual([['news.example.kr/g1', 'x']]);
  });

  it('extractArticle reads an article nested 4,000 deep', () => {
    const page = `<html><head><title>Deep</title></head><body><article>${deep(4000, 'div', 'deep text')}</article></body></html>`;
    const outcome = settle('extractArticle', () => extractArticle(page, 'https://news.example.kr/a/1'));
    expect(outcome.ok && [outcome.value.title, outcome.value.text]).toEqual(['Deep', 'deep text']);
  });
});
