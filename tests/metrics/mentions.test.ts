import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logLikelihood } from '../../pipeline/metrics/mentions.js';
import type { Store } from '../../pipeline/store.js';
import { startTestApp, TEST_TOKEN, type TestApp } from '../helpers/app.js';
import { openTestStore } from '../helpers/store.js';
import { loadFixture, NOW, RECENT } from './fixture.js';
import { golden } from './golden.js';

const TOKEN = TEST_TOKEN;
let store: Store;
let cleanup: () => void;
let app: TestApp;
let base: string;

beforeAll(async () => {
  ({ store, cleanup } = await openTestStore());
  await loadFixture(store);
  app = await startTestApp({ store, now: () => NOW, config: { timezone: 'Asia/Seoul' } });
  base = app.base;
});
afterAll(() => {
  app.close();
  cleanup();
});

async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const window = `from=${RECENT.from}&to=${RECENT.to}`;

describe('mention metric API (golden payloads)', () => {
  it('answers only to the local token', async () => {
    expect((await fetch(`${base}/api/mentions/volume`)).status).toBe(401);
  });

  it('volume per local day and per hour by source', async () => {
    const day = await get(
      `/api/mentions/volume?topic=acme&grain=day&from=2026-11-12T15:00:00Z&to=${RECENT.to}`,
    );
    expect(day.status).toBe(200);
    golden('volume-acme-day', day.body);
    const hour = await get(`/api/mentions/volume?topic=acme&grain=hour&by=source&${window}`);
    golden('volume-acme-hour-by-source', hour.body);
    // The syndicated article counts once: Naver's copy is the original, the RSS one a copy.
    const points = hour.body.points as Array<{ key: string; mentions: number; copies: number }>;
    expect(points.filter((p) => p.key === 'rss').reduce((s, p) => s + p.copies, 0)).toBe(1);
    expect(points.filter((p) => p.key === 'rss').reduce((s, p) => s + p.mentions, 0)).toBe(0);
  });

  it('share of voice in the comparison set', async () => {
    const sov = await get(`/api/mentions/share-of-voice?set=phones&grain=day&${window}`);
    expect(sov.status).toBe(200);
    golden('share-of-voice-phones', sov.body);
    const shares = (sov.body.topics as Array<{ share: number }>).map((t) => t.share);
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
  });

  it('net sentiment trend', async () => {
    const s = await get(
      `/api/mentions/sentiment?topic=acme&grain=day&from=2026-11-12T15:00:00Z&to=${RECENT.to}`,
    );
    golden('sentiment-acme', s.body);
  });

  it('trending terms: recall rises, battery does not', async () => {
    const t = await get(`/api/mentions/trending?topic=acme&${window}`);
    golden('trending-acme', t.body);
    const terms = (t.body.terms as Array<{ term: string }>).map((x) => x.term);
    expect(terms).toContain('recall');
    expect(terms).not.toContain('battery');
  });

  it('opinion leaders and new voices', async () => {
    const l = await get(`/api/mentions/leaders?topic=acme&${window}`);
    golden('leaders-acme', l.body);
  });

  it('text search strips Korean particles from the query', async () => {
    const s = await get(`/api/mentions/search?q=${encodeURIComponent('한빛전자가 리콜')}&${window}`);
    golden('search-hanbit-recall', s.body);
    expect((s.body.results as unknown[]).length).toBe(2);
  });

  it('names the bad field', async () => {
    expect((await get('/api/mentions/volume?grain=week')).body.error).toMatch(/^grain:/);
    expect((await get('/api/mentions/volume?from=yesterday')).body.error).toMatch(/^from:/);
    expect((await get('/api/mentions/share-of-voice')).body.error).toMatch(/^set:/);
    expect((await get('/api/mentions/search?q=the')).status).toBe(400);
    expect((await get('/api/mentions/volume?topic=nope')).status).toBe(404);
  });

  it('sees a topic written after a chart was served, and not one deleted since', async () => {
    const path = `/api/mentions/volume?topic=later&${window}`;
    const sov = `/api/mentions/share-of-voice?set=later&${window}`;
    expect((await get(path)).status).toBe(404);
    expect((await get(sov)).status).toBe(404);
    await store.write((c) =>
      c.run(`INSERT INTO topics VALUES ('later', 'Later', ['later'], NULL, 'later', 'config', now())`),
    );
    expect((await get(path)).status).toBe(200);
    expect(((await get(sov)).body.topics as Array<{ topic: string }>).map((t) => t.topic)).toEqual(['later']);
    await store.write((c) => c.run(`DELETE FROM topics WHERE id = 'later'`));
    expect((await get(path)).status).toBe(404);
    expect((await get(sov)).status).toBe(404);
  });
});

describe('logLikelihood', () => {
  it('is zero for equal rates and grows with the difference', () => {
    expect(logLikelihood(10, 100, 70, 700)).toBeCloseTo(0, 9);
    expect(logLikelihood(20, 100, 70, 700)).toBeGreaterThan(logLikelihood(15, 100, 70, 700));
  });
});
