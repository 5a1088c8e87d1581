import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { CollectorContext } from '../../collectors/contract.js';
import { kstDay, naver, nextKstMidnight, parsePostdate, parseRfc822 } from '../../collectors/naver.js';
import type { PartitionResult } from '../../collectors/runner.js';
import type { SourceConfig } from '../../pipeline/config.js';
import { Secret } from '../../pipeline/secrets.js';
import type { Row, Store } from '../../pipeline/store.js';
import type { FakeClock } from '../helpers/clock.js';
import { type Handler, json, type Reply, type Request } from '../helpers/loopback.js';
import { databaseText, sourceHarness, testContext } from '../helpers/runner.js';
import { describeSource, type FakeApi } from './suite.js';

type Item = Record<string, string>;
type Kind = 'blog' | 'news' | 'cafearticle';
type Data = Record<Kind, Item[]>;

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/listening/${name}`, import.meta.url), 'utf8');
const blogPage = JSON.parse(fixture('naver_search_blog.json'));
const newsPage = JSON.parse(fixture('naver_search_news.json'));
const cafePage = JSON.parse(fixture('naver_search_cafearticle.json'));
const QUOTA_BODY = fixture('naver_search_429_quota.json');
const AUTH_BODY = fixture('naver_search_401_auth.json');

const CLIENT_ID = 'hanbit-client-id-7Qx2Lp';
const CLIENT_SECRET = 'hanbit-client-secret-9Zr4Wm';
const credentials = () => ({
  clientId: new Secret('NAVER_CLIENT_ID', CLIENT_ID),
  clientSecret: new Secret('NAVER_CLIENT_SECRET', CLIENT_SECRET),
});

/** 14:05 KST on 21 Nov 2026, a few hours after the fixtures' newest items. */
const START = new Date('2026-11-21T05:05:00Z');
const MIDNIGHT_KST = '2026-11-21T15:00:00.000Z';
const UNREACHABLE = 'older items are unreachable: narrow the query or run it more often';

/** The link with its last number lowered by `by` (same width): another post of the same site. */
function shift(link: string, by: number): string {
  return link.replace(/(\d+)(\?[^/]*)?$/, (_, digits: string, q = '') =>
    String(Number(digits) - by)
      .padStart(digits.length, '0')
      .concat(q),
  );
}

const DOW = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** A UTC instant as Naver writes pubDate: RFC 822 in KST. */
function rfc822(at: Date): string {
  const k = new Date(at.getTime() + 9 * 3_600_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${DOW[k.getUTCDay()]}, ${p(k.getUTCDate())} ${MON[k.getUTCMonth()]} ${k.getUTCFullYear()} ${p(k.getUTCHours())}:${p(k.getUTCMinutes())}:${p(k.getUTCSeconds())} +0900`;
}
const yyyymmdd = (day: string) => day.replaceAll('-', '');
function minusDays(postdate: string, days: number): string {
  const d = new Date(
    Date.UTC(+postdate.slice(0, 4), +postdate.slice(4, 6) - 1, +postdate.slice(6, 8) - days),
  );
  return yyyymmdd(d.toISOString().slice(0, 10));
}

/** The fixtures plus older variants (other links, earlier dates): three pages of blog, two of news and cafe. */
function defaultData(): Data {
  const blog: Item[] = blogPage.items;
  const news: Item[] = newsPage.items;
  const cafe: Item[] = cafePage.items;
  return {
    blog: [
      ...blog,
      ...blog.map((b) => ({
        ...b,
        link: shift(b.link as string, 1000),
        postdate: minusDays(b.postdate as string, 3),
      })),
    ],
    news: [
      ...news,
      ...news.map((n) => ({
        ...n,
        originallink: shift(n.originallink as string, 1000),
        link: shift(n.link as string, 1000),
        pubDate: rfc822(new Date(Date.parse(n.pubDate as string) - 86_400_000)),
      })),
    ],
    cafearticle: [...cafe, ...cafe.map((c) => ({ ...c, link: shift(c.link as string, 1000) }))],
  };
}

const allLinks = (data: Data) => Object.values(data).flatMap((items) => items.map((i) => i.link as string));

const naverError = (status: number, errorCode: string, errorMessage: string): Reply => ({
  ...json({ errorMessage, errorCode }),
  status,
});

/** Newest first, as sort=date answers: blogs by day, news by pubDate, cafe posts in stored order. */
function sorted(kind: Kind, items: Item[]): Item[] {
  const key = (i: Item) =>
    kind === 'blog' ? Number(i.postdate) : kind === 'news' ? Date.parse(i.pubDate as string) : 0;
  return items
    .map((item, n) => ({ item, n }))
    .sort((a, b) => key(b.item) - key(a.item) || a.n - b.n)
    .map((x) => x.item);
}

/**
 * Naver's search API as documented: both credential headers or 401/024, display 1..100 (SE02),
 * start 1..1000 (SE03), sort=date, envelope {lastBuildDate, total, start, display, items}.
 */
function fakeNaver(data: Data, refuse: (kind: Kind) => boolean = () => false): FakeApi {
  return {
    isData: (req) => req.url.pathname.startsWith('/v1/search/'),
    handler: (req) => {
      const m = /^\/v1\/search\/(blog|news|cafearticle)\.json$/.exec(req.url.pathname);
      if (!m) return naverError(404, '404', 'Not Found');
      const kind = m[1] as Kind;
      if (
        req.headers['x-naver-client-id'] !== CLIENT_ID ||
        req.headers['x-naver-client-secret'] !== CLIENT_SECRET ||
        refuse(kind)
      ) {
        return {
          status: 401,
          headers: { 'content-type': 'application/json; charset=utf-8' },
          body: AUTH_BODY,
        };
      }
      const q = req.url.searchParams;
      const query = q.get('query');
      if (!query) return naverError(400, 'SE01', 'Incorrect query request (잘못된 쿼리요청입니다.)');
      const display = Number(q.get('display') ?? 10);
      if (!Number.isInteger(display) || display < 1 || display > 100)
        return naverError(400, 'SE02', 'Invalid display value (부적절한 display 값입니다.)');
      const start = Number(q.get('start') ?? 1);
      if (!Number.isInteger(start) || start < 1 || start > 1000)
        return naverError(400, 'SE03', 'Invalid start value (부적절한 start 값입니다.)');
      if ((q.get('sort') ?? 'sim') !== 'date') return naverError(400, 'SE04', 'Invalid sort value');
      const matching = query.includes('한빛전자') ? sorted(kind, data[kind]) : [];
      const items = matching.slice(start - 1, start - 1 + display);
      return json({
        lastBuildDate: blogPage.lastBuildDate,
        total: matching.length,
        start,
        display: items.length,
        items,
      });
    },
  };
}

const quota429 = (): Reply => ({
  status: 429,
  headers: { 'content-type': 'application/json; charset=utf-8' },
  body: QUOTA_BODY,
});

const byId = (rows: Row[], id: string): Row => {
  const row = rows.find((r) => r.native_id === id);
  if (!row) throw new Error(`no row ${id}`);
  return row;
};
const at = (row: Row) => (row.created_at as Date).toISOString();

describeSource({
  source: 'naver',
  settings: { ...credentials(), display: 2 },
  keywords: ['한빛전자'],
  start: START,
  api: () => fakeNaver(defaultData()),
  expectedIds: allLinks(defaultData()),
  checkRows(rows) {
    expect(rows).toHaveLength(14);
    const blog = byId(rows, 'https://blog.naver.com/techdad77/223456789012');
    expect(blog).toMatchObject({
      channel: 'blog',
      url: 'https://blog.naver.com/techdad77/223456789012',
      title: '한빛전자 새 노트북 한 달 사용 후기 (배터리&발열)',
      author_id: 'blog.naver.com/techdad77',
      author_handle: 'techdad77',
      author_name: '테크아빠의 리뷰노트',
      lang: null,
      likes: null,
      is_repost: false,
      created_at_estimated: true,
    });
    expect(blog.text).toBe(
      '한빛전자 새 노트북 한 달 사용 후기 (배터리&발열)\n한빛전자 HB-14 모델을 한 달 동안 써 봤습니다. ' +
        '배터리는 기대보다 오래가는데, 고사양 게임을 돌리면 발열이 꽤 있네요. 가격 대비 만족도는 "상"입니다.',
    );
    // Posted today (KST) and found now: the first-seen time.
    expect(at(blog)).toBe(START.toISOString());
    expect(JSON.parse(String(blog.raw))).toEqual(blogPage.items[0]);
    // Posted on an earlier day: 00:00 KST of that day.
    expect(at(byId(rows, 'https://blog.naver.com/minji_daily/223455512345'))).toBe(
      '2026-11-19T15:00:00.000Z',
    );

    const news = byId(rows, 'https://n.news.naver.com/mnews/article/999/0000104233?sid=101');
    expect(news).toMatchObject({
      channel: 'news',
      url: 'https://www.example-news.co.kr/news/articleView.html?idxno=104233',
      title: '한빛전자, 3분기 영업이익 12% 증가…"노트북 판매 호조"',
      author_id: 'example-news.co.kr',
      author_handle: 'example-news.co.kr',
      author_name: null,
      created_at_estimated: false,
    });
    expect(at(news)).toBe('2026-11-21T01:32:00.000Z');
    expect(at(byId(rows, 'https://www.example-daily.kr/article/20261120000123'))).toBe(
      '2026-11-20T09:04:00.000Z',
    );

    const cafe = byId(rows, 'https://cafe.naver.com/notebookclub/1829934');
    expect(cafe).toMatchObject({
      channel: 'cafearticle',
      url: 'https://cafe.naver.com/notebookclub/1829934',
      title: '한빛전자 배터리 부풀어 오른 분 계신가요?',
      author_id: 'cafe.naver.com/notebookclub',
      author_handle: 'notebookclub',
      author_name: '노트북 사용자 모임',
      created_at_estimated: true,
    });
    expect(at(cafe)).toBe(START.toISOString());

    for (const row of rows) {
      expect(`${row.title} ${row.text}`).not.toMatch(/<\/?b>|&quot;|&amp;|&lt;|&gt;/);
      expect(row.lang).toBeNull();
    }
  },
  farFutureBookmark: (partition) =>
    partition.startsWith('cafearticle:')
      ? // Cafe posts carry no date: "everything after" is "every link already seen".
        { seen: defaultData().cafearticle.map((c) => c.link) }
      : { watermark: '2100-01-01T00:00:00.000Z', seen: [] },
  rateLimited: () => quota429(),
});

// ---------------------------------------------------------------------------------------------
// Naver-specific behaviour the shared suite does not cover.

interface Harness {
  store: Store;
  clock: FakeClock;
  data: Data;
  requests: Request[];
  logs: string[];
  source: SourceConfig;
  baseUrl: string;
  run(): Promise<PartitionResult[]>;
  ids(): Promise<string[]>;
  rows(): Promise<Row[]>;
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function harness(
  options: {
    settings?: Record<string, unknown>;
    data?: Data;
    start?: Date;
    refuse?: (kind: Kind) => boolean;
    /** Wraps the fake API, to inject answers. */
    wrap?: (api: Handler, clock: FakeClock) => Handler;
  } = {},
): Promise<Harness> {
  const data = options.data ?? defaultData();
  const api = fakeNaver(data, options.refuse);
  const h = await sourceHarness({
    id: 'naver',
    start: options.start ?? START,
    handler: (clock) => (options.wrap ? options.wrap(api.handler, clock) : api.handler),
    settings: () => ({ ...credentials(), queries: ['한빛전자'], display: 2, ...options.settings }),
  });
  closers.push(h.close);
  const { store } = h;
  const rows = () => store.query("SELECT * FROM mentions WHERE source = 'naver' ORDER BY native_id");
  return {
    store,
    clock: h.clock,
    data,
    requests: h.server.requests,
    logs: h.mem.lines,
    source: h.source,
    baseUrl: h.server.url,
    run: h.run,
    rows,
    ids: async () => (await rows()).map((r) => String(r.native_id)),
  };
}

const dataRequests = (h: Harness) => h.requests.filter((r) => r.url.pathname.startsWith('/v1/search/'));
const settingsOf = (h: Harness) => h.source.settings as Parameters<typeof naver.check>[0];
const statusOf = (results: PartitionResult[]) =>
  Object.fromEntries(results.map((r) => [r.partition, r.status]));

describe('naver config', () => {
  it('needs only the two credentials and defaults to every kind, the full quota and 100 per call', () => {
    const config = naver.configSchema.parse(credentials());
    expect(config).toMatchObject({
      kinds: ['blog', 'news', 'cafearticle'],
      dailyBudget: 25_000,
      display: 100,
    });
    expect(naver.defaultBaseUrl).toBe('https://openapi.naver.com');
  });

  it('refuses values Naver would refuse, and credentials written in the clear', () => {
    const bad = (extra: Record<string, unknown>) =>
      naver.configSchema.safeParse({ ...credentials(), ...extra });
    expect(bad({ display: 101 }).error?.issues[0]?.message).toMatch(/at most 100/);
    expect(bad({ dailyBudget: 25_001 }).error?.issues[0]?.message).toMatch(/25,000/);
    expect(bad({ kinds: ['image'] }).success).toBe(false);
    expect(bad({ kinds: [] }).success).toBe(false);
    expect(bad({ clientId: 'plain-text-id' }).error?.issues[0]?.message).toMatch(/secret/);
    expect(bad({ clientSecret: undefined }).success).toBe(false);
    expect(bad({ extra: 1 }).success).toBe(false);
  });

  it('makes one partition per kind and query, keyed kind:query; queries override the topic keywords', () => {
    const config = naver.configSchema.parse(credentials());
    expect(naver.partitions(config, { keywords: ['한빛전자', '새봄테크'] }).map((p) => p.key)).toEqual([
      'blog:한빛전자',
      'news:한빛전자',
      'cafearticle:한빛전자',
      'blog:새봄테크',
      'news:새봄테크',
      'cafearticle:새봄테크',
    ]);
    const own = naver.configSchema.parse({ ...credentials(), kinds: ['news', 'news'], queries: ['HB-14'] });
    expect(naver.partitions(own, { keywords: ['한빛전자'] })).toEqual([
      { key: 'news:HB-14', kind: 'news', query: 'HB-14' },
    ]);
  });
});

describe('naver dates', () => {
  it('reads postdate as 00:00 KST and pubDate with its offset, refusing days that do not exist', () => {
    expect(new Date(parsePostdate('20261121') as number).toISOString()).toBe('2026-11-20T15:00:00.000Z');
    expect(parsePostdate('20260230')).toBeNull();
    expect(parseRfc822('Sat, 21 Nov 2026 10:32:00 +0900')?.toISOString()).toBe('2026-11-21T01:32:00.000Z');
    expect(parseRfc822('21 Nov 2026 01:32:00 GMT')?.toISOString()).toBe('2026-11-21T01:32:00.000Z');
    expect(parseRfc822('Sat, 21 Nov 2026 10:32 KST')?.toISOString()).toBe('2026-11-21T01:32:00.000Z');
    expect(parseRfc822('Mon, 31 Feb 2026 10:32:00 +0900')).toBeNull();
    expect(parseRfc822('2026-11-21 10:32')).toBeNull();
    expect(kstDay(new Date('2026-11-21T14:59:59Z'))).toBe('2026-11-21');
    expect(kstDay(new Date('2026-11-21T15:00:00Z'))).toBe('2026-11-22');
    expect(nextKstMidnight(new Date('2026-11-21T05:05:00Z')).toISOString()).toBe(MIDNIGHT_KST);
    expect(nextKstMidnight(new Date('2026-11-21T15:00:00Z')).toISOString()).toBe('2026-11-22T15:00:00.000Z');
  });

  it('stores blog and news dates as the right UTC instants, and a blog found after its day at 00:00 KST', async () => {
    // 01:00 KST on 22 Nov: yesterday's posts are no longer "today".
    const h = await harness({
      start: new Date('2026-11-21T16:00:00Z'),
      settings: { kinds: ['blog', 'news'] },
    });
    await h.run();
    const rows = await h.rows();
    expect(at(byId(rows, 'https://blog.naver.com/techdad77/223456789012'))).toBe('2026-11-20T15:00:00.000Z');
    expect(at(byId(rows, 'https://blog.naver.com/itcompare/223454400001'))).toBe('2026-11-18T15:00:00.000Z');
    expect(at(byId(rows, 'https://n.news.naver.com/mnews/article/999/0000104233?sid=101'))).toBe(
      '2026-11-21T01:32:00.000Z',
    );
    const older = shift('https://www.example-daily.kr/article/20261120000123', 1000);
    expect(at(byId(rows, older))).toBe('2026-11-19T09:04:00.000Z');
  });
});

describe('naver collection', () => {
  it('sends both credential headers on every call (the fake refuses calls without them)', async () => {
    const h = await harness();
    const results = await h.run();
    for (const r of results) expect(r.status).toBe('ok');
    const calls = dataRequests(h);
    expect(calls.length).toBeGreaterThanOrEqual(3);
    for (const req of calls) {
      expect(req.headers['x-naver-client-id']).toBe(CLIENT_ID);
      expect(req.headers['x-naver-client-secret']).toBe(CLIENT_SECRET);
      expect(req.url.searchParams.get('sort')).toBe('date');
      expect(req.url.searchParams.get('query')).toBe('한빛전자');
    }
    const bare = await fetch(`${h.baseUrl}/v1/search/news.json?query=${encodeURIComponent('한빛전자')}`);
    expect(bare.status).toBe(401);
    expect(await bare.json()).toMatchObject({ errorCode: '024' });
  });

  it('strips <b> highlights and decodes entities in titles and texts', async () => {
    const h = await harness();
    await h.run();
    const rows = await h.rows();
    const blog = byId(rows, 'https://blog.naver.com/techdad77/223456789012');
    expect(blog.title).toBe('한빛전자 새 노트북 한 달 사용 후기 (배터리&발열)');
    expect(blog.text).toContain('가격 대비 만족도는 "상"입니다.');
    const news = byId(rows, 'https://n.news.naver.com/mnews/article/999/0000104233?sid=101');
    expect(news.title).toBe('한빛전자, 3분기 영업이익 12% 증가…"노트북 판매 호조"');
    expect(news.text).toMatch(/^한빛전자, 3분기[^\n]*\n한빛전자가 3분기 연결 기준/);
    const raw = JSON.parse(String(news.raw));
    expect(raw.title).toContain('<b>한빛전자</b>');
  });

  it('gives cafe posts the first-seen time, kept when they are seen again later', async () => {
    const h = await harness({ settings: { kinds: ['cafearticle'] } });
    await h.run();
    const first = await h.rows();
    expect(first).toHaveLength(4);
    for (const r of first) {
      expect(at(r)).toBe(START.toISOString());
      expect(r.created_at_estimated).toBe(true);
    }

    h.clock.advance(3 * 3_600_000);
    await h.run();
    // Even when the bookmark is lost and every post is yielded again with a later first-seen time,
    // the runner keeps the created_at of the first stored row.
    await h.store.write((conn) => conn.run("DELETE FROM bookmarks WHERE source = 'naver'"));
    h.clock.advance(3 * 3_600_000);
    const again = await h.run();
    expect(again[0]).toMatchObject({ status: 'ok', rows: 4, newRows: 0 });
    for (const r of await h.rows()) expect(at(r)).toBe(START.toISOString());
  });

  it('stops a cafe run at the first page made only of links already stored', async () => {
    const h = await harness({ settings: { kinds: ['cafearticle'] } });
    await h.run();
    expect(dataRequests(h)).toHaveLength(3); // two full pages and an empty one

    h.requests.length = 0;
    await h.run();
    expect(dataRequests(h)).toHaveLength(1);

    h.requests.length = 0;
    const post = {
      ...cafePage.items[0],
      link: 'https://cafe.naver.com/notebookclub/1830001',
      title: '새 글',
    };
    h.data.cafearticle.unshift(post);
    h.clock.advance(15 * 60_000);
    const results = await h.run();
    expect(results[0]).toMatchObject({ status: 'ok', newRows: 1 });
    expect(dataRequests(h).map((r) => r.url.searchParams.get('start'))).toEqual(['1', '3']);
    expect(at(byId(await h.rows(), post.link))).toBe(h.clock.now().toISOString());
  });

  it('re-reads the watermark day of blogs, so a later post of the same day is collected', async () => {
    const h = await harness({ settings: { kinds: ['blog'] } });
    await h.run();
    const bookmark = await h.store.query("SELECT state FROM bookmarks WHERE partition = 'blog:한빛전자'");
    expect(JSON.parse(String(bookmark[0]?.state)).watermark).toBe('2026-11-20T15:00:00.000Z');
    // Same postdate as the newest stored post, listed after it.
    const late = {
      ...blogPage.items[1],
      link: 'https://blog.naver.com/minji_daily/223457000001',
      postdate: '20261121',
    };
    h.data.blog.push(late);
    h.clock.advance(30 * 60_000);
    h.requests.length = 0;
    const results = await h.run();
    expect(results[0]).toMatchObject({ status: 'ok', newRows: 1 });
    expect(await h.ids()).toContain(late.link);
    // Stops at the first page reaching an older day.
    expect(dataRequests(h).length).toBeLessThanOrEqual(2);
  });

  it('collects a news item indexed late, dated before the newest stored one', async () => {
    const data = defaultData();
    const newest = {
      ...newsPage.items[0],
      link: 'https://n.news.naver.com/mnews/article/999/0000200001',
      originallink: 'https://www.example-news.co.kr/news/articleView.html?idxno=200001',
      pubDate: rfc822(new Date('2026-11-21T04:50:00Z')),
    };
    data.news.push(newest);
    const h = await harness({ data, settings: { kinds: ['news'] } });
    await h.run();
    const late = {
      ...newest,
      link: 'https://n.news.naver.com/mnews/article/999/0000200002',
      originallink: 'https://www.example-news.co.kr/news/articleView.html?idxno=200002',
      pubDate: rfc822(new Date('2026-11-21T04:30:00Z')),
    };
    h.data.news.push(late);
    h.clock.advance(15 * 60_000);
    await h.run();
    expect(await h.ids()).toContain(late.link);
  });

  it('never asks for start > 1000: collects the reachable 1,000, warns and finishes normally', async () => {
    const base = newsPage.items[0] as Item;
    const news = Array.from({ length: 1150 }, (_, i) => ({
      ...base,
      link: `https://n.news.naver.com/mnews/article/999/${String(300000 + i).padStart(10, '0')}?sid=101`,
      originallink: `https://www.example-news.co.kr/news/articleView.html?idxno=${300000 + i}`,
      pubDate: rfc822(new Date(START.getTime() - (i + 1) * 60_000)),
    }));
    const h = await harness({
      data: { blog: [], news, cafearticle: [] },
      settings: { kinds: ['news'], display: 100 },
    });
    const results = await h.run();
    expect(results[0]).toMatchObject({ status: 'ok', newRows: 1000, error: null });
    const starts = dataRequests(h).map((r) => Number(r.url.searchParams.get('start')));
    expect(starts).toEqual([1, 101, 201, 301, 401, 501, 601, 701, 801, 901]);
    const warning = h.logs.map((l) => JSON.parse(l)).find((l) => l.msg === UNREACHABLE);
    expect(warning).toMatchObject({
      level: 40,
      partition: 'news:한빛전자',
      query: '한빛전자',
      firstRun: true,
    });

    // Later runs start from the top and stop at the watermark.
    h.requests.length = 0;
    h.clock.advance(10 * 60_000);
    await h.run();
    expect(dataRequests(h).map((r) => r.url.searchParams.get('start'))).toEqual(['1']);
  });

  it('quarantines an item it cannot read and stores the rest of the page', async () => {
    const data = defaultData();
    data.news.push({
      ...(newsPage.items[1] as Item),
      link: 'https://www.example-daily.kr/article/x1',
      pubDate: '어제',
    });
    const h = await harness({ data, settings: { kinds: ['news'], display: 10 } });
    const results = await h.run();
    expect(results[0]).toMatchObject({ status: 'ok', newRows: 4, quarantined: 1 });
    const q = await h.store.query('SELECT error, raw FROM quarantine');
    expect(String(q[0]?.error)).toContain('unreadable pubDate');
    expect(JSON.parse(String(q[0]?.raw)).link).toBe('https://www.example-daily.kr/article/x1');
  });
});

describe('naver quota', () => {
  it('never sends the call past dailyBudget, ends rate_limited until 00:00 KST, then completes', async () => {
    // Blog needs 4 calls (3 full pages and an empty one), news 3, cafe 3; 6 a day are allowed.
    const h = await harness({ settings: { dailyBudget: 6 } });
    const first = await h.run();
    expect(dataRequests(h)).toHaveLength(6);
    expect(statusOf(first)).toEqual({
      'blog:한빛전자': 'ok',
      'news:한빛전자': 'rate_limited',
      'cafearticle:한빛전자': 'rate_limited',
    });
    for (const r of first.slice(1)) {
      expect(r.resumeAfter).toBe(MIDNIGHT_KST);
      expect(r.error).toMatch(/budget of 6 calls for today \(KST\) is used up/);
    }
    expect(first[1]?.newRows).toBe(4);
    const budget = await h.store.query("SELECT strftime(day, '%Y-%m-%d') AS day, calls FROM api_budget");
    expect(budget).toEqual([{ day: '2026-11-21', calls: 6 }]);

    // Before midnight nothing more is sent.
    h.clock.set(new Date('2026-11-21T14:59:00Z'));
    const waiting = await h.run();
    expect(statusOf(waiting)).toMatchObject({
      'news:한빛전자': 'skipped',
      'cafearticle:한빛전자': 'skipped',
    });
    expect(dataRequests(h).filter((r) => !r.url.pathname.includes('blog'))).toHaveLength(2);

    h.clock.set(new Date('2026-11-21T15:00:01Z'));
    const before = dataRequests(h).length;
    const after = await h.run();
    for (const r of after) expect(r.status).toBe('ok');
    expect(await h.ids()).toEqual([...allLinks(defaultData())].sort());
    // The news partition resumed at the page after the two it had stored.
    const resumed = dataRequests(h).slice(before);
    const news = resumed.find((r) => r.url.pathname === '/v1/search/news.json');
    expect(news?.url.searchParams.get('start')).toBe('5');
    const days = await h.store.query(
      "SELECT strftime(day, '%Y-%m-%d') AS day, calls FROM api_budget ORDER BY day",
    );
    expect(days).toEqual([
      { day: '2026-11-21', calls: 6 + (before - 6) },
      { day: '2026-11-22', calls: resumed.length },
    ]);
  });

  it('counts the calls of earlier runs the same day', async () => {
    // The runner loads stored calls relative to the database's current_date: this must be today.
    const noonToday = new Date(nextKstMidnight(new Date()).getTime() - 12 * 3_600_000);
    const h = await harness({ start: noonToday, settings: { kinds: ['news'], dailyBudget: 4 } });
    expect((await h.run())[0]?.status).toBe('ok'); // 3 calls
    h.clock.advance(15 * 60_000);
    expect((await h.run())[0]?.status).toBe('ok'); // 1 call: nothing new
    h.clock.advance(15 * 60_000);
    const third = await h.run();
    expect(third[0]).toMatchObject({
      status: 'rate_limited',
      resumeAfter: nextKstMidnight(noonToday).toISOString(),
    });
    expect(dataRequests(h)).toHaveLength(4);
  });

  it('ends rate_limited until 00:00 KST when Naver says the quota is used up (010), without waiting for it', async () => {
    let calls = 0;
    const h = await harness({
      wrap: (api) => (req) => (++calls > 2 ? quota429() : api(req)),
    });
    const results = await h.run();
    expect(results[0]).toMatchObject({
      partition: 'blog:한빛전자',
      status: 'rate_limited',
      resumeAfter: MIDNIGHT_KST,
    });
    expect(results[0]?.error).toMatch(/errorCode 010/);
    expect(results[0]?.rows).toBe(4);
    expect(h.clock.sleeps.filter((ms) => ms > 60_000)).toEqual([]);
    for (const r of results) expect(r.resumeAfter).toBe(MIDNIGHT_KST);
  });

  it('waits out a 010 shortly before midnight KST and carries on with the new day', async () => {
    const h = await harness({
      start: new Date('2026-11-21T14:55:00Z'),
      settings: { kinds: ['news'] },
      wrap: (api, clock) => (req) =>
        clock.now().getTime() < Date.parse(MIDNIGHT_KST) ? quota429() : api(req),
    });
    const results = await h.run();
    expect(results[0]).toMatchObject({ status: 'ok', newRows: 4 });
    expect(h.clock.sleeps).toEqual([5 * 60_000 + 1000]);
    const days = await h.store.query(
      "SELECT strftime(day, '%Y-%m-%d') AS day, calls FROM api_budget ORDER BY day",
    );
    expect(days).toEqual([
      { day: '2026-11-21', calls: 1 },
      { day: '2026-11-22', calls: 3 },
    ]);
  });
});

describe('naver credentials', () => {
  it('reports refused credentials clearly on that partition while the others still run', async () => {
    const h = await harness({ refuse: (kind) => kind === 'blog' });
    const results = await h.run();
    expect(statusOf(results)).toEqual({
      'blog:한빛전자': 'error',
      'news:한빛전자': 'ok',
      'cafearticle:한빛전자': 'ok',
    });
    const error = String(results[0]?.error);
    expect(error).toMatch(/refused the client id\/secret \(HTTP 401, errorCode 024\)/);
    expect(error).toContain('NAVER_CLIENT_ID');
    expect(error).toContain('https://developers.naver.com/apps');
    expect(await h.ids()).toHaveLength(8);
  });

  it('check() proves the credentials with one call and says why it failed', async () => {
    const ok = await harness();
    const ctx = (h: Harness, take = () => true): CollectorContext =>
      testContext(h.clock, h.baseUrl, { maxRateLimitWaitMs: 60_000, budget: { take } });
    expect(await naver.check(settingsOf(ok), ctx(ok))).toEqual({ ok: true });
    expect(dataRequests(ok)).toHaveLength(1);
    expect(dataRequests(ok)[0]?.url.searchParams.get('display')).toBe('1');

    const refused = await harness({ refuse: () => true });
    const result = await naver.check(settingsOf(refused), ctx(refused));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/refused the client id\/secret/);
    expect(JSON.stringify(result)).not.toContain(CLIENT_SECRET);

    const spent = await naver.check(
      settingsOf(ok),
      ctx(ok, () => false),
    );
    expect(!spent.ok && spent.reason).toMatch(/used up/);
    expect(dataRequests(ok)).toHaveLength(1);
  });

  it('never writes the client id or secret to logs or the database', async () => {
    let calls = 0;
    const h = await harness({
      refuse: (kind) => kind === 'cafearticle',
      wrap: (api) => async (req) => {
        calls++;
        if (calls === 2) return { status: 500, body: 'upstream broke' };
        if (calls === 4) return { ...(await api(req)), body: '{"items": [' };
        return api(req);
      },
    });
    await h.run();
    await h.run();
    const text = [...h.logs, await databaseText(h.store)].join('\n');
    expect(text).toContain('refused the client id');
    expect(text).not.toContain(CLIENT_ID);
    expect(text).not.toContain(CLIENT_SECRET);
  });
});
