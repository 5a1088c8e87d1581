import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMetricQuery } from '../../pipeline/metrics/query.js';
import { stream } from '../../pipeline/metrics/stream.js';
import { scoreNew } from '../../pipeline/scoring/score.js';
import type { Store } from '../../pipeline/store.js';
import { startTestApp, TEST_TOKEN, type TestApp } from '../helpers/app.js';
import { mentionRecord } from '../helpers/mention.js';
import { openTestStore } from '../helpers/store.js';
import { addTopic, collect, scoringDeps } from '../scoring/helpers.js';
import { loadFixture, markerModels, NOW, RECENT } from './fixture.js';
import { golden } from './golden.js';

let store: Store;
let cleanup: () => void;
let app: TestApp;

beforeAll(async () => {
  ({ store, cleanup } = await openTestStore());
  await loadFixture(store);
  app = await startTestApp({ store, now: () => NOW, config: { timezone: 'Asia/Seoul' } });
});
afterAll(() => {
  app.close();
  cleanup();
});

interface Item {
  source: string;
  nativeId: string;
  text: string;
  title: string | null;
  createdAt: string;
  isRepost: boolean;
  lang: string;
  sentiment: string;
  copies: number;
  reposts: number;
}
type Page = { status: number; body: { results: Item[]; next: string | null; error?: string } };

async function get(path: string): Promise<Page> {
  const res = await fetch(`${app.base}${path}`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
  return { status: res.status, body: (await res.json()) as Page['body'] };
}

const window = `from=${RECENT.from}&to=${RECENT.to}`;
const WEEK = `from=2026-11-12T15:00:00Z&to=${RECENT.to}`;

describe('mention stream', () => {
  it('lists originals newest first, with reposts and syndicated copies counted on them', async () => {
    const page = await get(`/api/mentions/stream?topic=acme&${window}`);
    expect(page.status).toBe(200);
    golden('stream-acme', page.body);
    const items = page.body.results;
    expect(items.every((i) => !i.isRepost)).toBe(true);
    const times = items.map((i) => i.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
    // x6 reposts x1; the RSS item is a copy of Naver's n1 and is not listed itself.
    expect(items.find((i) => i.nativeId === 'x1')?.reposts).toBe(1);
    expect(items.find((i) => i.nativeId === 'n1')?.copies).toBe(1);
    expect(items.some((i) => i.source === 'rss' || i.nativeId === 'x6')).toBe(false);
  });

  it('filters by source, language, sentiment and search words', async () => {
    const naver = await get(`/api/mentions/stream?source=naver&lang=ko&${window}`);
    expect(naver.body.results.map((i) => i.nativeId).sort()).toEqual(['n1', 'n2']);
    const negative = await get(`/api/mentions/stream?topic=acme&sentiment=negative&${window}`);
    expect(negative.body.results.length).toBeGreaterThan(0);
    expect(negative.body.results.every((i) => i.sentiment === 'negative')).toBe(true);
    const recall = await get(`/api/mentions/stream?q=${encodeURIComponent('recall bad')}&${window}`);
    expect(recall.body.results.map((i) => i.nativeId).sort()).toEqual(['x2', 'x3']);
  });

  it('pages with a cursor through exactly the rows of one long page', async () => {
    const all = (await get(`/api/mentions/stream?limit=200&${WEEK}`)).body;
    expect(all.next).toBeNull();
    expect(all.results.length).toBeGreaterThan(20);
    const seen: string[] = [];
    let next: string | null = null;
    do {
      const page: Page = await get(
        `/api/mentions/stream?limit=7&${WEEK}${next ? `&before=${encodeURIComponent(next)}` : ''}`,
      );
      expect(page.body.results.length).toBeLessThanOrEqual(7);
      seen.push(...page.body.results.map((i) => `${i.source}/${i.nativeId}`));
      next = page.body.next;
    } while (next !== null);
    expect(seen).toEqual(all.results.map((i) => `${i.source}/${i.nativeId}`));
  });

  it('shows and filters by a user correction over the model label', async () => {
    const before = await get(`/api/mentions/stream?topic=acme&sentiment=positive&${window}`);
    expect(before.body.results.some((i) => i.nativeId === 'x2')).toBe(false);
    const res = await fetch(`${app.base}/api/mentions/x/x2/sentiment`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ label: 'positive', by: 'tester' }),
    });
    expect(res.status).toBe(200);
    const after = await get(`/api/mentions/stream?topic=acme&sentiment=positive&${window}`);
    expect(after.body.results.find((i) => i.nativeId === 'x2')?.sentiment).toBe('positive');
  });

  it("shows the page's mentions only, not others posted at the same instants", async () => {
    // The page is fetched by its instants first: mentions of another source, another topic and a
    // repost, all posted at the instant of one shown, must not come along.
    const own = await openTestStore();
    try {
      await addTopic(own.store, 'acme', 'acme');
      const at = new Date('2026-11-21T10:00:00Z');
      const post = (nativeId: string, text: string, extra = {}) =>
        mentionRecord({ nativeId, text, lang: 'en', createdAt: at, ...extra });
      await collect(
        own.store,
        'x',
        [
          post('a1', 'Acme is good'),
          post('o1', 'Other news'),
          post('r1', 'RT Acme is good', { repostOf: 'a1' }),
        ],
        NOW,
      );
      await collect(own.store, 'reddit', [post('a1', 'Acme on reddit is bad')], NOW);
      await scoreNew(scoringDeps(own.store, 'Asia/Seoul', { models: markerModels(), now: () => NOW }));
      const page = (q: Record<string, string>) =>
        stream(own.store, 'Asia/Seoul', parseMetricQuery({ ...q, from: RECENT.from, to: RECENT.to }, NOW));
      const x = await page({ topic: 'acme', source: 'x' });
      expect(x.results.map((i) => [i.source, i.nativeId, i.text, i.reposts])).toEqual([
        ['x', 'a1', 'Acme is good', 1],
      ]);
      const all = await page({});
      expect(all.results.map((i) => `${i.source}/${i.nativeId}`).sort()).toEqual([
        'reddit/a1',
        'x/a1',
        'x/o1',
      ]);
      expect(all.results.find((i) => i.source === 'reddit')?.sentiment).toBe('negative');
    } finally {
      own.cleanup();
    }
  });

  it('lists a mention dated days after it was collected (a feed with the wrong year) at its collection time', async () => {
    const own = await openTestStore();
    try {
      await addTopic(own.store, 'acme', 'acme');
      const seen = new Date(NOW.getTime() - 4 * 86_400_000);
      const ahead = new Date(seen.getTime() + 3 * 86_400_000);
      await collect(
        own.store,
        'rss',
        [mentionRecord({ nativeId: 'f1', text: 'Acme far ahead', lang: 'en', createdAt: ahead })],
        seen,
      );
      const scored = new Date(seen.getTime() + 300_000);
      await scoreNew(scoringDeps(own.store, 'Asia/Seoul', { models: markerModels(), now: () => scored }));
      const from = new Date(seen.getTime() - 3_600_000).toISOString();
      const page = await stream(
        own.store,
        'Asia/Seoul',
        parseMetricQuery({ topic: 'acme', from, to: NOW.toISOString() }, NOW),
      );
      expect(page.results.map((i) => [i.nativeId, i.createdAt])).toEqual([['f1', seen.toISOString()]]);
    } finally {
      own.cleanup();
    }
  });

  it('names the bad field', async () => {
    expect((await get('/api/mentions/stream?sentiment=happy')).body.error).toMatch(/^sentiment:/);
    expect((await get('/api/mentions/stream?lang=klingon')).body.error).toMatch(/^lang:/);
    expect((await get('/api/mentions/stream?source=..%2Fetc')).body.error).toMatch(/^source:/);
    expect((await get('/api/mentions/stream?before=bm90IGEgY3Vyc29y')).body.error).toMatch(/^before:/);
    expect((await get('/api/mentions/stream?limit=0')).body.error).toMatch(/^limit:/);
    expect((await get('/api/mentions/stream?q=the')).status).toBe(400);
    expect((await get('/api/mentions/stream?topic=nope')).status).toBe(404);
  });
});

describe('sources and daily rollups', () => {
  it('volume per source adds up to the volume chart', async () => {
    const s = await get(`/api/mentions/sources?topic=acme&${WEEK}`);
    expect(s.status).toBe(200);
    golden('sources-acme', s.body);
    const v = await get(`/api/mentions/volume?topic=acme&grain=day&${WEEK}`);
    const body = s.body as unknown as { total: number; sources: Array<{ mentions: number }> };
    expect(body.sources.reduce((a, x) => a + x.mentions, 0)).toBe(body.total);
    expect(body.total).toBe((v.body as unknown as { total: number }).total);
  });

  it('a window with ragged edges sums the same from daily and hourly rollups, with or without instants', async () => {
    const ragged = 'topic=acme&from=2026-11-13T04:00:00Z&to=2026-11-21T02:00:00Z';
    const day = (await get(`/api/mentions/volume?grain=day&${ragged}`)).body as unknown as { total: number };
    const hour = (await get(`/api/mentions/volume?grain=hour&${ragged}`)).body as unknown as {
      total: number;
    };
    expect(day.total).toBeGreaterThan(0);
    expect(day.total).toBe(hour.total);
    // Sources sum the same edges and days without their instants.
    const sources = (await get(`/api/mentions/sources?${ragged}`)).body as unknown as { total: number };
    expect(sources.total).toBe(hour.total);
  });

  it('each daily row is the sum of its local hours, and nothing else is in the daily tables', async () => {
    const fromHours = `SELECT topic_id, timezone('Asia/Seoul', hour_start)::DATE AS day, source, lang, sentiment,
        sum(mentions), sum(reposts), sum(copies), sum(engagement), sum(reach) FROM rollup_hourly GROUP BY ALL`;
    const termHours = `SELECT topic_id, timezone('Asia/Seoul', hour_start)::DATE AS day, term, sum(mentions)
        FROM rollup_terms_hourly GROUP BY ALL`;
    const diff = await store.query(
      `SELECT (SELECT count(*) FROM (${fromHours} EXCEPT SELECT * FROM rollup_daily))
            + (SELECT count(*) FROM (SELECT * FROM rollup_daily EXCEPT ${fromHours}))
            + (SELECT count(*) FROM (${termHours} EXCEPT SELECT * FROM rollup_terms_daily))
            + (SELECT count(*) FROM (SELECT * FROM rollup_terms_daily EXCEPT ${termHours})) AS n,
         (SELECT count(*) FROM rollup_daily) AS days, (SELECT count(*) FROM rollup_terms_daily) AS terms`,
    );
    expect(Number(diff[0]?.days)).toBeGreaterThan(0);
    expect(Number(diff[0]?.terms)).toBeGreaterThan(0);
    expect(Number(diff[0]?.n)).toBe(0);
  });
});
