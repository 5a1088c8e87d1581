import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import iconv from 'iconv-lite';
import { afterEach, describe, expect, it } from 'vitest';
import type { CollectorContext } from '../../collectors/contract.js';
import {
  addressClass,
  decodeFeed,
  extractArticle,
  type FeedOrigin,
  feedProblem,
  finalSeen,
  guardedContext,
  hostClass,
  linkAllowed,
  linkRefusal,
  literalHostClass,
  parseFeed,
  parseFeedDate,
  rss,
} from '../../collectors/rss.js';
import { collectSource, type RunnerDeps } from '../../collectors/runner.js';
import { htmlToText } from '../../collectors/text.js';
import type { Row, Store } from '../../pipeline/store.js';
import { FakeClock } from '../helpers/clock.js';
import { type Handler, type Loopback, type Reply, type Request, startLoopback } from '../helpers/loopback.js';
import { sourceConfig, testContext, testDeps } from '../helpers/runner.js';
import { openTestStore } from '../helpers/store.js';
import { describeSource } from './suite.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/listening/${name}`, import.meta.url), 'utf8');
const NEWS_XML = fixture('google_news_rss_search.xml');
const ATOM_XML = fixture('generic_atom_feed.xml');
const NEWS_HTML = fixture('rss_article_news.html');
const KOREAN_HTML = fixture('rss_article_korean.html');
const BLOG_HTML = fixture('rss_article_blog.html');

const FIRST = 'CBMinwFBVV95cUxObDNTMW1VT3pC';
const SECOND = 'CBMiogFBVV95cUxQZ3MtNXd1';
const GENERATED = Array.from({ length: 19 }, (_, i) => `CBMiGEN${String(i + 1).padStart(3, '0')}`);
const ATOM_FIRST = 'tag:github.com,2008:Repository/27193779/v22.23.3';
const ATOM_MORE = ['v22.23.2', 'v22.23.1'];

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v));
const originOf = (req: Request) => `http://${req.headers.host}`;

/** The Google News fixture with its links on the loopback server and 19 more items (3 batches). */
function newsFeed(origin: string): string {
  const extra = GENERATED.map((id, i) => {
    const pubDate = new Date(Date.UTC(2026, 8, 24, 0, (i + 1) * 10)).toUTCString();
    return `<item><title>Generated story ${i + 1} - example.com</title><link>${origin}/articles/${id}?oc=5</link><guid isPermaLink="false">${id}</guid><pubDate>${pubDate}</pubDate><description>&lt;a href="${origin}/articles/${id}?oc=5" target="_blank"&gt;Generated story ${i + 1}&lt;/a&gt;&amp;nbsp;&amp;nbsp;&lt;font color="#6f6f6f"&gt;example.com&lt;/font&gt;</description><source url="https://www.example.com">example.com</source></item>`;
  });
  return NEWS_XML.replaceAll('https://news.google.com/rss/articles/', `${origin}/articles/`).replace(
    '</channel>',
    `${extra.join('')}</channel>`,
  );
}

/** The GitHub releases Atom fixture on the loopback server, with two older releases. */
function atomFeed(origin: string): string {
  const extra = ATOM_MORE.map(
    (tag, i) => `
  <entry>
    <id>tag:github.com,2008:Repository/27193779/${tag}</id>
    <updated>2026-09-${String(20 - i * 5).padStart(2, '0')}T10:00:00Z</updated>
    <link rel="alternate" type="text/html" href="https://github.com/nodejs/node/releases/tag/${tag}"/>
    <title>Version ${tag.slice(1)} &#39;Jod&#39; (LTS)</title>
    <content type="html">&lt;p&gt;Bug fixes.&lt;/p&gt;</content>
    <author><name>aduh95</name></author>
  </entry>`,
  );
  return ATOM_XML.replaceAll(
    'https://github.com/nodejs/node/releases/tag/',
    `${origin}/releases/tag/`,
  ).replace('</feed>', `${extra.join('')}\n</feed>`);
}

/** A feed answer with an ETag over its body; If-None-Match with it gets a 304 like real servers. */
function feedReply(req: Request, body: string | Buffer, contentType: string): Reply {
  const etag = `"${createHash('sha1').update(body).digest('hex').slice(0, 16)}"`;
  const lastModified = 'Fri, 25 Sep 2026 18:10:28 GMT';
  if (req.headers['if-none-match'] === etag)
    return { status: 304, headers: { etag, 'last-modified': lastModified } };
  return { headers: { 'content-type': contentType, etag, 'last-modified': lastModified }, body };
}

const html = (body: string | Buffer, contentType = 'text/html; charset=utf-8'): Reply => ({
  headers: { 'content-type': contentType },
  body,
});

/** The article pages the suite's feeds link to. */
function articlePage(req: Request): Reply {
  const path = req.url.pathname;
  if (path === `/articles/${FIRST}`) return html(NEWS_HTML);
  // Google News links often do not lead to an article a crawler can read.
  if (path === `/articles/${SECOND}`) return { status: 404, body: 'Not Found' };
  const gen = /^\/articles\/(CBMiGEN\d+)$/.exec(path);
  if (gen)
    return html(
      `<html><body><main><article><h1>${gen[1]}</h1><p>Body of ${gen[1]}.</p></article></main></body></html>`,
    );
  if (path.startsWith('/releases/tag/')) return html(BLOG_HTML);
  return { status: 404, body: 'Not Found' };
}

describeSource({
  source: 'rss',
  settings: { feeds: ['/feeds/news.xml', { url: '/feeds/releases.atom', articles: true }] },
  keywords: ['emergency'],
  start: new Date('2026-09-26T00:00:00Z'),
  api: () => ({
    isData: (req) => req.url.pathname.startsWith('/feeds/'),
    handler: (req) => {
      if (req.url.pathname === '/feeds/news.xml') {
        return feedReply(req, newsFeed(originOf(req)), 'application/rss+xml; charset=UTF-8');
      }
      if (req.url.pathname === '/feeds/releases.atom') {
        return feedReply(req, atomFeed(originOf(req)), 'application/atom+xml; charset=utf-8');
      }
      return articlePage(req);
    },
  }),
  expectedIds: [
    `127.0.0.1/${FIRST}`,
    `127.0.0.1/${SECOND}`,
    ...GENERATED.map((id) => `127.0.0.1/${id}`),
    ATOM_FIRST,
    ...ATOM_MORE.map((tag) => `tag:github.com,2008:Repository/27193779/${tag}`),
  ],
  checkRows(rows) {
    const byId = new Map(rows.map((r) => [String(r.native_id), r]));
    const first = byId.get(`127.0.0.1/${FIRST}`);
    expect(first).toMatchObject({
      title: 'Fall Related Emergency Visits for Older Adults Continue to Climb - countynewscenter.com',
      channel: '"breaking OR crisis OR emergency" - Google News',
      lang: 'en-US',
      author_name: 'Tom Christensen',
      author_id: 'countynewscenter.com/Tom Christensen',
      created_at_estimated: false,
      likes: null,
      is_repost: false,
    });
    expect(String(first?.url)).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/articles/${FIRST}\\?oc=5$`));
    // The article body from JSON-LD, not the feed's one-line description.
    expect(first?.text).toBe(
      'Emergency department visits for falls among adults 65 and older rose again last year, county health officials said Thursday. Falls remain the leading cause of injury-related emergency visits for older adults in the region.\nThe county’s Aging and Independence Services recommends strength and balance exercises, regular vision checks and a review of medications that can cause dizziness.',
    );
    // The feed's pubDate wins over the page's datePublished.
    expect(iso(first?.created_at)).toBe('2026-09-25T13:53:48.000Z');
    const raw = JSON.parse(String(first?.raw));
    expect(raw.item).toContain(`<guid isPermaLink="false">${FIRST}</guid>`);
    expect(raw.article).toMatchObject({ from: 'json-ld', publisher: 'County News Center' });

    // Article 404: the item stays, with the feed's own text; the publisher stands in for a byline.
    const second = byId.get(`127.0.0.1/${SECOND}`);
    expect(second).toMatchObject({
      text: 'Ketanji Brown Jackson criticizes supreme court’s handling of emergency docket The Guardian',
      author_name: 'The Guardian',
      author_id: 'theguardian.com/The Guardian',
    });
    expect(JSON.parse(String(second?.raw)).articleError).toMatch(/HTTP 404/);

    const gen = byId.get(`127.0.0.1/${GENERATED[0]}`);
    expect(gen).toMatchObject({
      title: 'Generated story 1 - example.com',
      text: `${GENERATED[0]}\nBody of ${GENERATED[0]}.`,
    });
    expect(iso(gen?.created_at)).toBe('2026-09-24T00:10:00.000Z');

    const atom = byId.get(ATOM_FIRST);
    expect(atom).toMatchObject({
      title: "2026-09-23, Version 22.23.3 'Jod' (LTS)",
      channel: 'Release notes from node',
      lang: 'en-US',
      author_name: 'aduh95',
      author_id: '127.0.0.1/aduh95',
    });
    expect(atom?.text).toContain('Version 22.23.3 is a small security and bug-fix release');
    expect(atom?.text).not.toContain('analytics');
    expect(iso(atom?.created_at)).toBe('2026-09-23T18:21:37.000Z');
  },
  farFutureBookmark: () => ({ seen: [], floor: '2100-01-01T00:00:00.000Z' }),
  rateLimited: (now) => ({
    status: 429,
    headers: { 'retry-after': '120', 'content-type': 'text/html' },
    body: `<html><body>Too Many Requests (${now.toISOString()})</body></html>`,
  }),
});

// ---------------------------------------------------------------------------------------------
// Source-specific tests on their own loopback server

interface Harness {
  server: Loopback;
  store: Store;
  clock: FakeClock;
  logLines: () => string[];
  run(signal?: AbortSignal, onProgress?: RunnerDeps['onProgress']): ReturnType<typeof collectSource>;
  rows(): Promise<Row[]>;
  bookmark(partition: string): Promise<Record<string, unknown> | null>;
  /** Requests whose path starts with `prefix`. */
  hits(prefix: string): Request[];
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function harness(
  handler: Handler,
  settings: (origin: string) => Record<string, unknown>,
): Promise<Harness> {
  const { store, cleanup } = await openTestStore();
  const server = await startLoopback(handler);
  cleanups.push(cleanup, () => server.close());
  const clock = new FakeClock(Date.parse('2026-09-26T00:00:00Z'));
  let lines: string[] = [];
  const source = sourceConfig('rss', '', rss.configSchema.parse(settings(server.url)));
  return {
    server,
    store,
    clock,
    logLines: () => lines,
    run(signal = new AbortController().signal, onProgress) {
      const test = testDeps(store, clock, { signal, ...(onProgress ? { onProgress } : {}) });
      lines = test.lines;
      return collectSource(source, test.deps);
    },
    rows: () => store.query("SELECT * FROM mentions WHERE source = 'rss' ORDER BY native_id"),
    async bookmark(partition) {
      const r = await store.query("SELECT state FROM bookmarks WHERE source = 'rss' AND partition = $1", [
        partition,
      ]);
      return r[0] ? JSON.parse(String(r[0].state)) : null;
    },
    hits: (prefix) => server.requests.filter((r) => r.url.pathname.startsWith(prefix)),
  };
}

/** A small RSS 2.0 feed whose items link to `links` (paths on the same server). */
function smallFeed(
  origin: string,
  items: Array<{ id: string; path: string; title?: string; date?: string | null; description?: string }>,
  extra = '<language>en</language>',
): string {
  const body = items
    .map(
      (it) =>
        `<item><title>${it.title ?? `Item ${it.id}`}</title><link>${origin}${it.path}</link><guid isPermaLink="false">${it.id}</guid>${
          it.date === null ? '' : `<pubDate>${it.date ?? 'Fri, 25 Sep 2026 10:00:00 GMT'}</pubDate>`
        }<description>${it.description ?? `Feed text of ${it.id}`}</description></item>`,
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Small feed</title><link>${origin}/</link>${extra}${body}</channel></rss>`;
}

describe('rss conditional GET', () => {
  it('sends the validators on the next run, stores nothing on 304 and fetches no article', async () => {
    const h = await harness(
      (req) =>
        req.url.pathname === '/feeds/news.xml'
          ? feedReply(req, newsFeed(originOf(req)), 'application/rss+xml; charset=UTF-8')
          : articlePage(req),
      (origin) => ({ feeds: [`${origin}/feeds/news.xml`] }),
    );
    const first = await h.run();
    expect(first[0]).toMatchObject({ status: 'ok', newRows: 21 });
    const key = `${h.server.url}/feeds/news.xml`;
    const saved = await h.bookmark(key);
    expect(saved).toMatchObject({ lastModified: 'Fri, 25 Sep 2026 18:10:28 GMT' });
    expect(String(saved?.etag)).toMatch(/^"[0-9a-f]{16}"$/);
    expect(saved?.seen).toHaveLength(21);
    const articlesBefore = h.hits('/articles/').length;
    expect(articlesBefore).toBe(21);

    const second = await h.run();
    expect(second[0]).toMatchObject({ status: 'ok', rows: 0, newRows: 0 });
    const feedCalls = h.hits('/feeds/');
    expect(feedCalls).toHaveLength(2);
    expect(feedCalls[1]?.headers['if-none-match']).toBe(saved?.etag);
    expect(feedCalls[1]?.headers['if-modified-since']).toBe('Fri, 25 Sep 2026 18:10:28 GMT');
    expect(h.hits('/articles/').length).toBe(articlesBefore);
    expect(await h.bookmark(key)).toEqual(saved);
  });

  it('keeps the validators out of the bookmark until the last batch, so a crash cannot turn into a 304', async () => {
    const h = await harness(
      (req) =>
        req.url.pathname === '/feeds/news.xml'
          ? feedReply(req, newsFeed(originOf(req)), 'application/rss+xml; charset=UTF-8')
          : articlePage(req),
      (origin) => ({ feeds: [`${origin}/feeds/news.xml`] }),
    );
    const controller = new AbortController();
    const first = await h.run(controller.signal, (e) => {
      if (e.status === 'running' && e.rows > 0) controller.abort(new Error('simulated crash'));
    });
    expect(first[0]?.status).toBe('aborted');
    const key = `${h.server.url}/feeds/news.xml`;
    const mid = await h.bookmark(key);
    expect(mid).not.toHaveProperty('etag');
    expect(mid).not.toHaveProperty('lastModified');
    const storedIds = (await h.rows()).map((r) => String(r.native_id));
    expect(storedIds).toHaveLength(10);
    expect([...((mid?.seen ?? []) as string[])].sort()).toEqual(storedIds);
    // Oldest first: the ten oldest generated items went in the first batch.
    expect(storedIds).toEqual(GENERATED.slice(0, 10).map((id) => `127.0.0.1/${id}`));

    const before = h.server.requests.length;
    await h.run();
    const later = h.server.requests.slice(before);
    expect(later[0]?.headers['if-none-match']).toBeUndefined();
    const refetched = later.filter((r) => r.url.pathname.startsWith('/articles/')).map((r) => r.url.pathname);
    for (const id of storedIds) expect(refetched).not.toContain(`/articles/${id.slice('127.0.0.1/'.length)}`);
    expect(refetched).toHaveLength(11);
    expect(await h.rows()).toHaveLength(21);
    expect(await h.bookmark(key)).toHaveProperty('etag');
  });
});

describe('rss article pages', () => {
  it('decodes EUC-KR pages by Content-Type charset and by <meta charset>, and EUC-KR feeds by the XML declaration', async () => {
    const eucKr = iconv.encode(KOREAN_HTML, 'euc-kr');
    const withoutMeta = iconv.encode(KOREAN_HTML.replace('<meta charset="euc-kr">', ''), 'euc-kr');
    const feedXml = (origin: string) =>
      smallFeed(
        origin,
        [
          {
            id: 'ko-header',
            path: '/news/header',
            title: '한빛전자, 신형 배터리 공장 착공',
            date: null,
            description: '한빛전자 요약',
          },
          {
            id: 'ko-meta',
            path: '/news/meta',
            title: '한빛전자 공장 (meta)',
            date: 'Fri, 25 Sep 2026 09:30:00 KST',
          },
        ],
        '',
      ).replace('encoding="UTF-8"', 'encoding="EUC-KR"');
    const h = await harness(
      (req) => {
        if (req.url.pathname === '/feeds/ko.xml')
          return feedReply(req, iconv.encode(feedXml(originOf(req)), 'euc-kr'), 'application/rss+xml');
        if (req.url.pathname === '/news/header') return html(withoutMeta, 'text/html; charset=EUC-KR');
        if (req.url.pathname === '/news/meta') return html(eucKr, 'text/html');
        return { status: 404 };
      },
      (origin) => ({ feeds: [`${origin}/feeds/ko.xml`] }),
    );
    const [result] = await h.run();
    expect(result).toMatchObject({ status: 'ok', newRows: 2 });
    const rows = await h.rows();
    const header = rows.find((r) => r.native_id === '127.0.0.1/ko-header');
    const meta = rows.find((r) => r.native_id === '127.0.0.1/ko-meta');
    const body =
      '한빛전자가 충남 아산에 신형 배터리 공장을 착공했다고 25일 밝혔다. 총 투자 규모는 2조 원이며 2028년 가동을 목표로 한다.\n회사 측은 새 공장이 완공되면 연간 생산 능력이 지금보다 두 배 이상 늘어날 것으로 내다봤다. 지역 일자리도 천여 개 생길 것으로 보인다.';
    for (const row of [header, meta]) {
      expect(row?.text).toBe(body);
      expect(row).toMatchObject({ lang: 'ko', author_name: '김민준 기자', channel: 'Small feed' });
      expect(String(row?.text)).not.toContain('\uFFFD');
    }
    // The feed's own (EUC-KR) title decoded; no pubDate: the page's article:published_time.
    expect(header).toMatchObject({ title: '한빛전자, 신형 배터리 공장 착공', created_at_estimated: false });
    expect(iso(header?.created_at)).toBe('2026-09-25T00:30:00.000Z');
    expect(iso(meta?.created_at)).toBe('2026-09-25T00:30:00.000Z');
  });

  it('keeps an item whose article answers 404, 500 or is too large or not HTML, with the feed text', async () => {
    const big = `<html><body><article>${'<p>padding paragraph for a very large page</p>'.repeat(1000)}</article></body></html>`;
    const h = await harness(
      (req) => {
        const p = req.url.pathname;
        if (p === '/feed.xml')
          return feedReply(
            req,
            smallFeed(originOf(req), [
              { id: 'gone', path: '/a/gone' },
              { id: 'broken', path: '/a/broken' },
              { id: 'huge', path: '/a/huge' },
              { id: 'pdf', path: '/a/report.pdf', date: null },
              { id: 'fine', path: '/a/fine' },
            ]),
            'application/rss+xml',
          );
        if (p === '/a/gone') return { status: 404, body: 'no such page' };
        if (p === '/a/broken') return { status: 500, body: 'oops' };
        if (p === '/a/huge') return html(big);
        if (p === '/a/report.pdf')
          return { headers: { 'content-type': 'application/pdf' }, body: '%PDF-1.7 ...' };
        if (p === '/a/fine') return html(BLOG_HTML);
        return { status: 404 };
      },
      (origin) => ({ feeds: [`${origin}/feed.xml`], maxArticleBytes: 16 * 1024 }),
    );
    const [result] = await h.run();
    expect(result).toMatchObject({ status: 'ok', newRows: 5, error: null });
    const rows = new Map((await h.rows()).map((r) => [String(r.native_id).replace('127.0.0.1/', ''), r]));
    for (const id of ['gone', 'broken', 'huge', 'pdf']) {
      expect(rows.get(id)?.text).toBe(`Feed text of ${id}`);
    }
    expect(JSON.parse(String(rows.get('gone')?.raw)).articleError).toMatch(/HTTP 404/);
    expect(JSON.parse(String(rows.get('broken')?.raw)).articleError).toMatch(
      /HTTP 500.*gave up after 3 tries/,
    );
    expect(JSON.parse(String(rows.get('huge')?.raw)).articleError).toMatch(
      /larger than the 16384-byte limit/,
    );
    expect(JSON.parse(String(rows.get('pdf')?.raw)).articleError).toMatch(
      /not an HTML page \(application\/pdf\)/,
    );
    expect(rows.get('fine')?.text).toContain('Upgrading is recommended');
    // No date anywhere: first seen, and said so.
    expect(rows.get('pdf')).toMatchObject({ created_at_estimated: true });
    expect(iso(rows.get('pdf')?.created_at)).toBe('2026-09-26T00:00:00.000Z');
    expect(h.hits('/a/broken')).toHaveLength(3);
    expect(h.logLines().filter((l) => l.includes('article not read')).length).toBe(4);
  });

  it('follows at most three redirects for an article', async () => {
    const h = await harness(
      (req) => {
        const p = req.url.pathname;
        if (p === '/feed.xml')
          return feedReply(
            req,
            smallFeed(originOf(req), [
              { id: 'short', path: '/r/2' },
              { id: 'loop', path: '/r/9' },
            ]),
            'application/rss+xml',
          );
        const hop = /^\/r\/(\d+)$/.exec(p);
        if (hop) {
          const n = Number(hop[1]);
          return n === 0 ? html(BLOG_HTML) : { status: 302, headers: { location: `/r/${n - 1}` } };
        }
        return { status: 404 };
      },
      (origin) => ({ feeds: [`${origin}/feed.xml`] }),
    );
    await h.run();
    const rows = new Map((await h.rows()).map((r) => [String(r.native_id).replace('127.0.0.1/', ''), r]));
    expect(rows.get('short')?.text).toContain('Upgrading is recommended');
    expect(rows.get('loop')?.text).toBe('Feed text of loop');
    expect(JSON.parse(String(rows.get('loop')?.raw)).articleError).toMatch(/more than 3 redirects/);
    expect(h.hits('/r/').filter((r) => Number(r.url.pathname.slice(3)) >= 5)).toHaveLength(4);
  });

  it('reads no article when the feed says articles: false', async () => {
    const h = await harness(
      (req) =>
        req.url.pathname === '/feed.xml'
          ? feedReply(req, smallFeed(originOf(req), [{ id: 'a', path: '/a/1' }]), 'application/rss+xml')
          : html(BLOG_HTML),
      (origin) => ({ feeds: [{ url: `${origin}/feed.xml`, articles: false }] }),
    );
    await h.run();
    expect(h.hits('/a/')).toHaveLength(0);
    expect((await h.rows())[0]?.text).toBe('Feed text of a');
  });

  it('does not read Google News links, which are script redirects rather than articles', async () => {
    const calls: string[] = [];
    const clock = new FakeClock(Date.parse('2026-09-26T00:00:00Z'));
    const ctx = testContext(clock, '', {
      fetch: (async (input: string | URL | Request) => {
        calls.push(String(input));
        return String(input) === 'http://127.0.0.1:9/feed.xml'
          ? new Response(NEWS_XML, { headers: { 'content-type': 'application/rss+xml; charset=UTF-8' } })
          : new Response('unexpected', { status: 500 });
      }) as typeof fetch,
      maxRateLimitWaitMs: 60_000,
    });
    const config = rss.configSchema.parse({ feeds: ['http://127.0.0.1:9/feed.xml'] });
    const [partition] = rss.partitions(config, { keywords: [] });
    const batches = [];
    for await (const batch of rss.read(
      config,
      partition as { key: string; url: string; articles: boolean },
      undefined,
      ctx,
    )) {
      batches.push(batch);
    }
    expect(calls).toEqual(['http://127.0.0.1:9/feed.xml']);
    const records = batches.flatMap((b) => b.records);
    expect(records.map((r) => r.text)).toEqual([
      'Fall Related Emergency Visits for Older Adults Continue to Climb countynewscenter.com',
      'Ketanji Brown Jackson criticizes supreme court’s handling of emergency docket The Guardian',
    ]);
    expect(records[0]).toMatchObject({
      nativeId: `127.0.0.1/${FIRST}`,
      url: `https://news.google.com/rss/articles/${FIRST}?oc=5`,
      authorName: 'countynewscenter.com',
      authorId: 'countynewscenter.com/countynewscenter.com',
    });
  });

  it('extracts JSON-LD NewsArticle fields and Open Graph tags', () => {
    const a = extractArticle(NEWS_HTML, 'https://www.countynewscenter.com/x/');
    expect(a).toMatchObject({
      title: 'Fall Related Emergency Visits for Older Adults Continue to Climb',
      author: 'Tom Christensen',
      publisher: 'County News Center',
      siteName: 'County News Center',
      lang: 'en-US',
      from: 'json-ld',
    });
    expect(a.publishedAt?.toISOString()).toBe('2026-09-25T20:40:00.000Z');
    expect(a.text).toContain('The county’s Aging and Independence Services');
  });

  it('parses JSON-LD defensively: arrays, nested mainEntity, string authors, broken blocks', () => {
    const page = (ld: string) =>
      `<html><head><script type="application/ld+json">{ not json</script><script type="application/ld+json">${ld}</script></head><body><p>short</p></body></html>`;
    const array = extractArticle(
      page(
        '[{"@type":"Organization","name":"X"},{"@type":["BlogPosting"],"headline":"Array &amp; type","author":"Ann Lee","datePublished":"2026-01-02","articleBody":"Body A"}]',
      ),
      'https://b.example/',
    );
    expect(array).toMatchObject({
      title: 'Array & type',
      author: 'Ann Lee',
      text: 'Body A',
      from: 'json-ld',
    });
    expect(array.publishedAt?.toISOString()).toBe('2026-01-02T00:00:00.000Z');
    const nested = extractArticle(
      page(
        '{"@type":"WebPage","mainEntity":{"@type":"https://schema.org/NewsArticle","headline":"Nested","author":[{"name":"A"},{"name":"B"},"https://x.example/a"],"publisher":"Daily"}}',
      ),
      'https://b.example/',
    );
    expect(nested).toMatchObject({ title: 'Nested', author: 'A, B', publisher: 'Daily', text: null });
    const junk = extractArticle(
      page('{"@type":"NewsArticle","headline":42,"author":{"name":null},"datePublished":"soon"}'),
      'https://b.example/',
    );
    expect(junk).toMatchObject({ title: null, author: null, publishedAt: null });
    const blog = extractArticle(BLOG_HTML, 'https://b.example/');
    expect(blog).toMatchObject({ from: 'article', lang: 'en', author: null });
    expect(blog.text).toBe(
      'Notes on the Jod LTS line\nVersion 22.23.3 is a small security and bug-fix release of the Jod LTS line.\nUpgrading is recommended for everyone running node 22 in production; nothing in the notable changes should break existing code.',
    );
  });
});

describe('rss link rule', () => {
  it('classifies addresses', () => {
    expect(addressClass('8.8.8.8')).toBe('public');
    expect(addressClass('127.0.0.1')).toBe('loopback');
    expect(addressClass('127.45.0.3')).toBe('loopback');
    expect(addressClass('10.1.2.3')).toBe('private');
    expect(addressClass('172.20.0.1')).toBe('private');
    expect(addressClass('192.168.1.1')).toBe('private');
    expect(addressClass('100.64.0.1')).toBe('private');
    expect(addressClass('169.254.169.254')).toBe('link-local');
    expect(addressClass('0.0.0.0')).toBe('reserved');
    expect(addressClass('224.0.0.1')).toBe('reserved');
    expect(addressClass('::1')).toBe('loopback');
    expect(addressClass('[::1]')).toBe('loopback');
    expect(addressClass('fe80::1')).toBe('link-local');
    expect(addressClass('fd12:3456::1')).toBe('private');
    expect(addressClass('::ffff:7f00:1')).toBe('loopback');
    expect(addressClass('::ffff:a9fe:a9fe')).toBe('link-local');
    expect(addressClass('64:ff9b::a00:1')).toBe('private');
    expect(addressClass('2606:4700::1111')).toBe('public');
    expect(addressClass('::')).toBe('reserved');
  });

  it('classifies host names without DNS where it can', () => {
    // URL parsing normalises the tricks: decimal, hex and IPv4-mapped forms.
    expect(literalHostClass(new URL('http://2130706433/').hostname)).toBe('loopback');
    expect(literalHostClass(new URL('http://0x7f.1/').hostname)).toBe('loopback');
    expect(literalHostClass(new URL('http://[::ffff:127.0.0.1]/').hostname)).toBe('loopback');
    expect(literalHostClass('localhost')).toBe('loopback');
    expect(literalHostClass('api.localhost')).toBe('loopback');
    expect(literalHostClass('intranet')).toBe('private');
    expect(literalHostClass('printer.local')).toBe('private');
    expect(literalHostClass('metadata.google.internal')).toBe('private');
    expect(literalHostClass('news.example.com')).toBeNull();
  });

  it('allows public links always and local ones only from a feed on the same kind of host', () => {
    expect(linkAllowed('public', 'public')).toBe(true);
    expect(linkAllowed('public', 'loopback')).toBe(true);
    expect(linkAllowed('loopback', 'public')).toBe(false);
    expect(linkAllowed('private', 'public')).toBe(false);
    expect(linkAllowed('link-local', 'public')).toBe(false);
    expect(linkAllowed('loopback', 'loopback')).toBe(true);
    expect(linkAllowed('private', 'private')).toBe(true);
    expect(linkAllowed('link-local', 'private')).toBe(false);
    expect(linkAllowed('loopback', 'private')).toBe(false);
    expect(linkAllowed('reserved', 'reserved')).toBe(false);
  });

  it('resolves names and takes the least public address', async () => {
    const lookup = async (host: string) =>
      ({ 'news.example.com': ['93.184.215.14'], 'rebind.example.com': ['93.184.215.14', '10.0.0.7'] })[
        host
      ] ?? [];
    expect(await hostClass('news.example.com', lookup)).toBe('public');
    expect(await hostClass('rebind.example.com', lookup)).toBe('private');
    await expect(hostClass('nxdomain.example.com', lookup)).rejects.toThrow(/no address/);
    const feed: FeedOrigin = { hostname: 'news.example.com', cls: 'public' };
    expect(await linkRefusal(new URL('https://news.example.com/a'), feed, lookup)).toBeNull();
    expect(await linkRefusal(new URL('http://rebind.example.com/a'), feed, lookup)).toMatch(
      /private address/,
    );
    expect(await linkRefusal(new URL('http://[::1]:8080/a'), feed, lookup)).toMatch(/loopback/);
    expect(await linkRefusal(new URL('file:///etc/passwd'), feed, lookup)).toMatch(/file: links/);
    expect(await linkRefusal(new URL('http://user:pw@news.example.com/'), feed, lookup)).toMatch(
      /credentials/,
    );
  });

  it('never fetches a private link from a public feed, nor a redirect hop to one', async () => {
    const calls: string[] = [];
    const fakeFetch = (async (input: string | URL | Request) => {
      const url = String(input);
      calls.push(url);
      if (url === 'https://93.184.215.14/moved') {
        return new Response(null, {
          status: 302,
          headers: { location: 'http://169.254.169.254/latest/meta-data/' },
        });
      }
      return new Response('<html><body>ok</body></html>', { headers: { 'content-type': 'text/html' } });
    }) as typeof fetch;
    const ctx = { fetch: fakeFetch } as unknown as CollectorContext;
    const lookup = async () => ['93.184.215.14'];
    const guarded = guardedContext(ctx, { hostname: 'feeds.example.com', cls: 'public' }, lookup);
    await expect(guarded.fetch('http://10.0.0.5/admin')).rejects.toThrow(/10\.0\.0\.5 is a private address/);
    await expect(guarded.fetch('http://127.0.0.1:9/')).rejects.toThrow(/loopback/);
    await expect(guarded.fetch('http://[fe80::1]/')).rejects.toThrow(/link-local/);
    expect(calls).toEqual([]);
    await expect(guarded.fetch('https://93.184.215.14/moved')).rejects.toThrow(
      /169\.254\.169\.254 is a link-local/,
    );
    expect(calls).toEqual(['https://93.184.215.14/moved']);
    const ok = await guarded.fetch('https://93.184.215.14/story');
    expect(ok.status).toBe(200);
  });
});

describe('rss feed parsing', () => {
  it('parses Atom entries', () => {
    const parsed = parseFeed(ATOM_XML, 'https://github.com/nodejs/node/releases.atom');
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.feed).toMatchObject({ kind: 'atom', title: 'Release notes from node', lang: 'en-US' });
    expect(parsed.feed.items).toHaveLength(1);
    expect(parsed.feed.items[0]).toMatchObject({
      nativeId: ATOM_FIRST,
      link: 'https://github.com/nodejs/node/releases/tag/v22.23.3',
      title: "2026-09-23, Version 22.23.3 'Jod' (LTS)",
      body: '<h3>Notable Changes</h3>',
      authorName: 'aduh95',
    });
    const item = parsed.feed.items[0] as { date: Date; xml: string };
    expect(item.date.toISOString()).toBe('2026-09-23T18:21:37.000Z');
    expect(item.xml).toMatch(/^<entry>/);
  });

  it('parses Atom xhtml content, published before updated, relative links and entry language', () => {
    const xml = `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title type="html">A &amp;amp; B &lt;i&gt;feed&lt;/i&gt;</title><author><name>Feed Author</name></author>
      <entry xml:lang="ko"><id>urn:uuid:1</id><link rel="self" href="/self"/><link href="/posts/1"/><title>x &lt; y</title><published>2026-09-01T09:00:00+09:00</published><updated>2026-09-02T00:00:00Z</updated><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>본문 <b>굵게</b></p></div></content></entry></feed>`;
    const parsed = parseFeed(xml, 'https://blog.example/atom.xml');
    if (!parsed.ok) throw new Error(parsed.error);
    expect(htmlToText(parsed.feed.title ?? '')).toBe('A & B feed');
    expect(htmlToText((parsed.feed.items[0] as { title: string }).title)).toBe('x < y');
    expect(parsed.feed.items[0]).toMatchObject({
      nativeId: 'urn:uuid:1',
      link: 'https://blog.example/posts/1',
      lang: 'ko',
      authorName: 'Feed Author',
      body: '<p>본문 <b>굵게</b></p>',
    });
    expect(iso((parsed.feed.items[0] as { date: Date }).date)).toBe('2026-09-01T00:00:00.000Z');
  });

  it('parses RSS 2.0 items from the Google News fixture', () => {
    const parsed = parseFeed(NEWS_XML, 'https://news.google.com/rss/search?q=x');
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.feed).toMatchObject({ kind: 'rss', lang: 'en-US' });
    expect(parsed.feed.items[1]).toMatchObject({
      nativeId: `news.google.com/${SECOND}`,
      link: `https://news.google.com/rss/articles/${SECOND}?oc=5`,
      sourceName: 'The Guardian',
      sourceUrl: 'https://www.theguardian.com/',
    });
  });

  it('parses RSS 1.0 (RDF), dc:creator and content:encoded, and quarantines an empty item once', () => {
    const xml = `<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">
  <channel rdf:about="https://slashdot.example/"><title>RDF site</title><dc:language>ja</dc:language></channel>
  <item rdf:about="https://slashdot.example/story/1"><title>One</title><link>https://slashdot.example/story/1</link><dc:creator>taro</dc:creator><dc:date>2026-09-20T12:00:00+09:00</dc:date><content:encoded><![CDATA[<p>Full <i>text</i></p>]]></content:encoded><description>short</description></item>
  <item></item>
</rdf:RDF>
<!-- generated -->`;
    const parsed = parseFeed(xml, 'https://slashdot.example/index.rdf');
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.feed).toMatchObject({ kind: 'rdf', title: 'RDF site', lang: 'ja' });
    expect(parsed.feed.items[0]).toMatchObject({
      nativeId: 'https://slashdot.example/story/1',
      authorName: 'taro',
      body: '<p>Full <i>text</i></p>',
    });
    expect(parsed.feed.items[1]).toMatchObject({ error: 'item without id, link, title or text' });
  });

  it('detects truncated, garbled and non-feed documents', () => {
    expect(feedProblem(NEWS_XML)).toBeNull();
    expect(feedProblem(ATOM_XML)).toBeNull();
    expect(feedProblem(NEWS_XML.slice(0, NEWS_XML.length / 2))).toMatch(/does not end with <\/rss>/);
    expect(feedProblem(`${ATOM_XML.trimEnd()}<entry>`)).toMatch(/does not end with <\/feed>/);
    expect(feedProblem('<!DOCTYPE html><html><body>Sign in</body></html>')).toMatch(/root element is <html>/);
    expect(feedProblem('{"items": []}')).toMatch(/no root element/);
    expect(feedProblem('')).toMatch(/no root element/);
    expect(parseFeed('<rss version="2.0"></rss>', 'https://x.example/')).toEqual({
      ok: false,
      error: 'feed without a <channel> element',
    });
  });

  it('scopes bare guids by the feed host and uses URL-like ones as they are', () => {
    const xml = (guid: string) =>
      `<rss><channel><title>t</title><item><guid>${guid}</guid><title>x</title></item></channel></rss>`;
    const id = (guid: string) => {
      const p = parseFeed(xml(guid), 'https://blog.example/feed');
      return p.ok ? (p.feed.items[0] as { nativeId: string }).nativeId : p.error;
    };
    expect(id('12345')).toBe('blog.example/12345');
    expect(id('https://blog.example/?p=12345')).toBe('https://blog.example/?p=12345');
    expect(id('tag:blog.example,2026:1')).toBe('tag:blog.example,2026:1');
  });

  it('decodes a feed by its XML declaration before any <meta charset> inside an item', () => {
    const xml = (enc: string) =>
      `<?xml version="1.0" encoding="${enc}"?><rss><channel><title>한빛</title><item><description><![CDATA[<meta charset="euc-kr"><p>본문</p>]]></description></item></channel></rss>`;
    const none = new Headers({ 'content-type': 'application/rss+xml' });
    expect(decodeFeed(none, Buffer.from(xml('UTF-8')))).toBe(xml('UTF-8'));
    expect(decodeFeed(none, iconv.encode(xml('EUC-KR'), 'euc-kr'))).toBe(xml('EUC-KR'));
    // The HTTP charset wins over the declaration (RFC 7303).
    const header = new Headers({ 'content-type': 'text/xml; charset=EUC-KR' });
    expect(decodeFeed(header, iconv.encode(xml('UTF-8'), 'euc-kr'))).toBe(xml('UTF-8'));
  });

  it('parses feed dates as UTC instants', () => {
    expect(parseFeedDate('Fri, 25 Sep 2026 13:53:48 GMT')?.toISOString()).toBe('2026-09-25T13:53:48.000Z');
    expect(parseFeedDate('Fri, 25 Sep 2026 13:53:48 +0900')?.toISOString()).toBe('2026-09-25T04:53:48.000Z');
    expect(parseFeedDate('Fri, 25 Sep 2026 13:53:48 KST')?.toISOString()).toBe('2026-09-25T04:53:48.000Z');
    expect(parseFeedDate('25 Sep 2026 13:53')?.toISOString()).toBe('2026-09-25T13:53:00.000Z');
    expect(parseFeedDate('2026-09-25T13:53:48')?.toISOString()).toBe('2026-09-25T13:53:48.000Z');
    expect(parseFeedDate('2026-09-25 13:53:48+0900')?.toISOString()).toBe('2026-09-25T04:53:48.000Z');
    expect(parseFeedDate('2026-09-25')?.toISOString()).toBe('2026-09-25T00:00:00.000Z');
    expect(parseFeedDate('yesterday')).toBeNull();
    expect(parseFeedDate('')).toBeNull();
    expect(parseFeedDate(null)).toBeNull();
  });
});

describe('rss bookmark and config', () => {
  it('bounds the seen list, keeping ids still in the feed, and sets a floor only for an overflowing feed', () => {
    const start = new Date('2026-09-26T00:00:00Z');
    const inFeed = new Map<string, Date | null>([
      ['a', new Date('2026-09-01T00:00:00Z')],
      ['b', new Date('2026-09-02T00:00:00Z')],
      ['c', new Date('2026-09-03T00:00:00Z')],
      ['u', null],
    ]);
    expect(finalSeen(['x', 'y', 'a', 'b'], inFeed, null, start, 3)).toEqual({
      seen: ['y', 'a', 'b'],
      floorMs: null,
    });
    expect(finalSeen(['x', 'a', 'b', 'c', 'u'], inFeed, null, start, 3)).toEqual({
      seen: ['b', 'c', 'u'],
      floorMs: Date.parse('2026-09-01T00:00:00Z'),
    });
    // Never past the run's start, even for items dated in the future.
    const future = new Map<string, Date | null>([
      ['f1', new Date('2030-01-01T00:00:00Z')],
      ['f2', new Date('2030-01-02T00:00:00Z')],
    ]);
    expect(finalSeen(['f1', 'f2'], future, null, start, 1).floorMs).toBe(start.getTime());
  });

  it('skips items older than the floor that it has not seen', async () => {
    const h = await harness(
      (req) =>
        req.url.pathname === '/feed.xml'
          ? feedReply(
              req,
              smallFeed(originOf(req), [
                { id: 'old', path: '/a/old', date: 'Mon, 01 Jan 2024 00:00:00 GMT' },
                { id: 'new', path: '/a/new', date: 'Fri, 25 Sep 2026 10:00:00 GMT' },
                { id: 'undated', path: '/a/undated', date: null },
              ]),
              'application/rss+xml',
            )
          : html(BLOG_HTML),
      (origin) => ({ feeds: [`${origin}/feed.xml`] }),
    );
    await h.store.write((conn) =>
      conn.run("INSERT INTO bookmarks VALUES ('rss', $1, $2, now())", [
        `${h.server.url}/feed.xml`,
        JSON.stringify({ seen: [], floor: '2025-01-01T00:00:00.000Z' }),
      ]),
    );
    await h.run();
    expect((await h.rows()).map((r) => r.native_id)).toEqual(['127.0.0.1/new', '127.0.0.1/undated']);
    expect(await h.bookmark(`${h.server.url}/feed.xml`)).toMatchObject({ floor: '2025-01-01T00:00:00.000Z' });
  });

  it('rejects bad feed URLs with messages that say what to write', () => {
    const issues = (config: unknown) => {
      const r = rss.configSchema.safeParse(config);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ feeds: ['ftp://example.com/feed.xml'] })).toEqual([
      'feeds.0: "ftp://example.com/feed.xml" uses ftp; only http and https feeds can be collected',
    ]);
    expect(issues({ feeds: ['example.com/feed'] })[0]).toMatch(
      /is not a URL; write the full feed address, like "https:\/\/example.com\/feed.xml"/,
    );
    expect(issues({ feeds: [] })[0]).toMatch(/at least one feed/);
    expect(issues({ feeds: ['https://a.example/f', { url: 'https://a.example/f' }] })).toEqual([
      'feeds.1: https://a.example/f is listed twice',
    ]);
    expect(issues({ feeds: ['https://a.example/f'], extra: 1 })[0]).toMatch(/extra/);
    expect(rss.configSchema.parse({ feeds: ['https://a.example/f'] })).toEqual({
      feeds: ['https://a.example/f'],
      maxArticleBytes: 2 * 1024 * 1024,
    });
    expect(
      rss.partitions(
        rss.configSchema.parse({
          feeds: ['https://a.example/f', { url: 'https://b.example/g', articles: false }],
        }),
        { keywords: [] },
      ),
    ).toEqual([
      { key: 'https://a.example/f', url: 'https://a.example/f', articles: true },
      { key: 'https://b.example/g', url: 'https://b.example/g', articles: false },
    ]);
  });

  it('check() reads the first feed and says when it is not a feed', async () => {
    const server = await startLoopback((req) =>
      req.url.pathname === '/feed.xml'
        ? { headers: { 'content-type': 'application/rss+xml' }, body: NEWS_XML }
        : html('<html><body>Sign in</body></html>'),
    );
    cleanups.push(() => server.close());
    const clock = new FakeClock(Date.parse('2026-09-26T00:00:00Z'));
    const ctx = testContext(clock, '', { maxRateLimitWaitMs: 60_000 });
    const config = (url: string) => rss.configSchema.parse({ feeds: [url] });
    expect(await rss.check(config(`${server.url}/feed.xml`), ctx)).toEqual({ ok: true });
    const page = await rss.check(config(`${server.url}/login`), ctx);
    expect(page).toEqual({
      ok: false,
      reason: `${server.url}/login: not an RSS or Atom feed: the root element is <html>`,
    });
    expect(await rss.check(config('/feed.xml'), ctx)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/is a path/),
    });
  });
});
