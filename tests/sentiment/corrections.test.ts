import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../dashboard/app.js';
import { addUser } from '../../pipeline/auth/users.js';
import { loadConfig } from '../../pipeline/config.js';
import { silentLogger } from '../../pipeline/logger.js';
import { parseMetricQuery, searchMentions, sentimentTrend, volume } from '../../pipeline/metrics/mentions.js';
import { scoreNew } from '../../pipeline/scoring/score.js';
import { correctSentiment, parseMentionRef } from '../../pipeline/sentiment/corrections.js';
import { COMPOUND_WEIGHT } from '../../pipeline/sentiment/features.js';
import { type LinearSentimentModel, loadSentimentModels } from '../../pipeline/sentiment/index.js';
import { newestLayers } from '../../pipeline/sentiment/layers.js';
import { evalCorrections, learnFromCorrections, splitByTime } from '../../pipeline/sentiment/learn.js';
import type { Store } from '../../pipeline/store.js';
import { SourceLocks } from '../../pipeline/verbs.js';
import { Browser } from '../auth/browser.js';
import { mentionRecord } from '../helpers/mention.js';
import { openTestStore } from '../helpers/store.js';
import { collect, scoringDeps } from '../scoring/helpers.js';

const TOKEN = 'local-token-for-correction-tests-0123456789';
const shipped = loadSentimentModels();
const shippedEn = shipped.en as LinearSentimentModel;
const NOW = new Date('2026-11-22T00:00:00Z');
const WINDOW = { from: '2026-11-19T00:00:00Z', to: '2026-11-22T00:00:00Z' };
const query = (extra: Record<string, unknown> = {}) => parseMetricQuery({ ...WINDOW, ...extra }, NOW);

/** Mentions x0..x(n-1), English, one an hour from 2026-11-20T00:00Z. */
function mentions(texts: string[]) {
  return texts.map((text, i) =>
    mentionRecord({
      nativeId: `x${i}`,
      text,
      lang: 'en',
      createdAt: new Date(Date.UTC(2026, 10, 20, i)),
    }),
  );
}

async function scoredStore(texts: string[]) {
  const t = await openTestStore();
  await collect(t.store, 'x', mentions(texts), NOW);
  await scoreNew(scoringDeps(t.store));
  return t;
}

/** Originals per sentiment over the window, from the volume chart (the rollups). */
async function bySentiment(store: Store): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const p of (await volume(store, 'UTC', query({ by: 'sentiment' }))).points) {
    const key = String(p.key);
    counts[key] = (counts[key] ?? 0) + p.mentions;
  }
  return counts;
}

describe('sentiment corrections', () => {
  let store: Store;
  let cleanup: () => void;
  const texts = [
    'I love this phone, best camera ever',
    'Terrible battery, it died in an hour',
    'Shipping today',
  ];
  beforeAll(async () => {
    ({ store, cleanup } = await scoredStore(texts));
  });
  afterAll(() => cleanup());

  it('is kept with who and when, overrides the shown label and counts in the metrics', async () => {
    expect(shipped.en.score(texts[0] as string).label).toBe('positive');
    const before = await bySentiment(store);
    const netBefore = (await sentimentTrend(store, 'UTC', query())).net;
    const at = new Date('2026-11-21T10:00:00Z');
    const r = await correctSentiment(
      store,
      'UTC',
      { source: 'x', id: 'x0', label: 'negative', by: 'mina' },
      at,
    );
    expect(r).toMatchObject({
      label: 'negative',
      correctedBy: 'mina',
      modelLabel: 'positive',
      model: 'en-linear@4',
    });
    const rows = await store.query('SELECT label, corrected_by, corrected_at FROM sentiment_corrections');
    expect(rows).toEqual([{ label: 'negative', corrected_by: 'mina', corrected_at: at }]);
    // The model's own label stays as it scored it; every rollup counts the correction.
    expect(await store.query("SELECT sentiment FROM mention_scores WHERE native_id = 'x0'")).toEqual([
      { sentiment: 'positive' },
    ]);
    const after = await bySentiment(store);
    expect(after.positive ?? 0).toBe((before.positive ?? 0) - 1);
    expect(after.negative).toBe((before.negative ?? 0) + 1);
    expect((await sentimentTrend(store, 'UTC', query())).net).toBeLessThan(netBefore as number);
    // The mention list shows both labels.
    const found = await searchMentions(store, query({ q: 'camera' }));
    expect(found.results[0]).toMatchObject({
      sentiment: 'negative',
      modelSentiment: 'positive',
      sentimentModel: 'en-linear@4',
      correction: { label: 'negative', by: 'mina', at: at.toISOString() },
    });
  });

  it('the newest correction wins and the history stays', async () => {
    const before = await bySentiment(store);
    const r = await correctSentiment(
      store,
      'UTC',
      { source: 'x', id: 'x0', label: 'neutral', by: 'joon', note: 'a product comparison' },
      new Date('2026-11-21T11:00:00Z'),
    );
    expect(r.label).toBe('neutral');
    expect(r.history.map((h) => [h.label, h.by])).toEqual([
      ['negative', 'mina'],
      ['neutral', 'joon'],
    ]);
    const after = await bySentiment(store);
    expect(after.negative).toBe((before.negative ?? 0) - 1);
    expect(after.neutral).toBe((before.neutral ?? 0) + 1);
  });

  it('names an unknown mention and writes nothing', async () => {
    await expect(
      correctSentiment(store, 'UTC', { source: 'x', id: 'nope', label: 'neutral', by: 'mina' }, NOW),
    ).rejects.toThrow('no mention x:nope');
    expect(await store.query("SELECT * FROM sentiment_corrections WHERE native_id = 'nope'")).toEqual([]);
    expect(() => parseMentionRef('x1')).toThrow('<source>:<id>');
    expect(parseMentionRef('rss:https://a.example/1')).toEqual({ source: 'rss', id: 'https://a.example/1' });
  });
});

describe('POST /api/mentions/:source/:id/sentiment', () => {
  let store: Store;
  let cleanup: () => void;
  let server: Server;
  let base: string;
  beforeAll(async () => {
    ({ store, cleanup } = await scoredStore(['Great service, thank you', 'Worst update ever']));
    const config = { ...loadConfig({ EARSHOT_DB: ':memory:', EARSHOT_CONFIG: '' }), timezone: 'UTC' };
    const services = {
      config,
      store,
      logger: silentLogger,
      fetch,
      now: () => NOW,
      sleep: async () => undefined,
      signal: new AbortController().signal,
      locks: new SourceLocks(),
    };
    server = createApp({ services, logger: silentLogger, getLocalToken: () => TOKEN }).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.close();
    cleanup();
  });
  const post = async (path: string, body: unknown, token: string | null = TOKEN) => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('needs the local token and writes nothing without it', async () => {
    expect((await post('/api/mentions/x/x0/sentiment', { label: 'negative', by: 'mina' }, null)).status).toBe(
      401,
    );
    expect(
      (await post('/api/mentions/x/x0/sentiment', { label: 'negative', by: 'mina' }, 'wrong')).status,
    ).toBe(401);
    expect(await store.query('SELECT * FROM sentiment_corrections')).toEqual([]);
  });

  it('stores the correction with who and when', async () => {
    const r = await post('/api/mentions/x/x0/sentiment', { label: 'negative', by: 'mina', note: 'sarcasm' });
    expect(r).toMatchObject({
      status: 200,
      body: {
        source: 'x',
        nativeId: 'x0',
        label: 'negative',
        correctedBy: 'mina',
        correctedAt: NOW.toISOString(),
      },
    });
    expect(
      await store.query('SELECT native_id, label, corrected_by, note FROM sentiment_corrections'),
    ).toEqual([{ native_id: 'x0', label: 'negative', corrected_by: 'mina', note: 'sarcasm' }]);
  });

  it('answers bad input with the field and unknown mentions with 404', async () => {
    expect(await post('/api/mentions/x/x0/sentiment', { label: 'angry', by: 'mina' })).toMatchObject({
      status: 400,
      body: { error: 'label: use positive, negative or neutral' },
    });
    expect((await post('/api/mentions/x/x0/sentiment', { label: 'neutral' })).body.error).toMatch(/^by: /);
    expect((await post('/api/mentions/x/zzz/sentiment', { label: 'neutral', by: 'mina' })).status).toBe(404);
    expect(await store.query('SELECT count(*) AS n FROM sentiment_corrections')).toEqual([{ n: 1 }]);
  });

  it("records a signed-in user's correction under their own name, whatever `by` says", async () => {
    await addUser(
      store,
      { name: 'cora', role: 'comms', password: 'cora-comms-passphrase-2' },
      'cli:test',
      NOW,
    );
    const browser = new Browser(base);
    expect((await browser.signIn('cora', 'cora-comms-passphrase-2')).status).toBe(200);
    const r = await browser.send('POST', '/api/mentions/x/x1/sentiment', {
      body: { label: 'positive', by: 'mina' },
    });
    expect(r.status).toBe(200);
    expect(
      await store.query("SELECT label, corrected_by FROM sentiment_corrections WHERE native_id = 'x1'"),
    ).toEqual([{ label: 'positive', corrected_by: 'cora' }]);
  });
});

/**
 * In this installation's domain "sick", "insane" and "killer" praise the product: the comms team
 * corrects the model's negatives to positive, and some plain announcements to neutral.
 */
const JARGON = [
  'the new Bolt camera is sick',
  'battery life on the Bolt is insane',
  'that Bolt display is killer',
  'Bolt night mode is sick, no joke',
  'insane speed on the Bolt today',
  'the Bolt speakers are killer',
  'sick photos from the Bolt',
  'this Bolt update is insane',
  'killer price for the Bolt',
  'Bolt zoom is sick',
  'Bolt charging is insane fast',
  'the Bolt design is killer',
];

/** Mentions nobody corrects: the learner keeps the shipped model's answers on texts like these. */
const OTHERS = [
  'The store opens at 9 tomorrow',
  'The firmware update ships on Tuesday',
  'I hate waiting in line at the store',
  'The meeting is moved to Friday',
  'Our team is at the expo in Seoul',
  'Customer support was rude and slow',
  'Love the colors on this one',
  'Price drops on the older models',
  'The keynote starts at 10am',
  'Returned it, the screen was broken',
];

describe('learning from corrections', () => {
  let store: Store;
  let cleanup: () => void;
  const texts = [...JARGON, ...OTHERS];
  beforeAll(async () => {
    ({ store, cleanup } = await scoredStore(texts));
  });
  afterAll(() => cleanup());

  it('eval says clearly when there are too few corrections', async () => {
    for (let i = 0; i < 3; i++) {
      await correctSentiment(
        store,
        'UTC',
        { source: 'x', id: `x${i}`, label: 'positive', by: 'mina' },
        at(i),
      );
    }
    const [en, ko] = await evalCorrections(store);
    expect(en).toMatchObject({ lang: 'en', corrections: 3, heldOut: 0, shipped: null, updated: null });
    expect(en?.note).toContain('too few corrections');
    expect(ko).toMatchObject({ lang: 'ko', corrections: 0, heldOut: 0 });
    const learned = await learnFromCorrections(scoringDeps(store));
    expect(learned.layers).toEqual([]);
    expect(learned.skipped.map((s) => s.lang)).toEqual(['en', 'ko']);
  });

  it('learns a new version that gets the trained corrections right, and re-scores every mention', async () => {
    for (let i = 3; i < JARGON.length; i++) {
      await correctSentiment(
        store,
        'UTC',
        { source: 'x', id: `x${i}`, label: 'positive', by: 'mina' },
        at(i),
      );
    }
    const ordered = JARGON.map((_, i) => `x${i}`);
    const { train, heldOut } = splitByTime(ordered);
    expect(heldOut).toEqual(['x10', 'x11']);
    const trainedTexts = train.map((id) => JARGON[Number(id.slice(1))] as string);
    const shippedRight = trainedTexts.filter((t) => shipped.en.score(t).label === 'positive').length;

    const learned = await learnFromCorrections(scoringDeps(store));
    expect(learned.layers).toEqual([{ lang: 'en', model: 'en-linear@4+local1', trained: 10, heldOut: 2 }]);
    expect(learned.rescore?.rescored).toBe(texts.length);
    // Each mention records the version that scored it; Korean has no layer and keeps its model.
    expect(await store.query('SELECT DISTINCT sentiment_model FROM mention_scores')).toEqual([
      { sentiment_model: 'en-linear@4+local1' },
    ]);

    const layers = await newestLayers(store);
    const updated = loadSentimentModels(undefined, layers);
    expect(updated.en.id).toBe('en-linear@4+local1');
    expect(updated.ko.id).toBe(shipped.ko.id);
    const updatedRight = trainedTexts.filter((t) => updated.en.score(t).label === 'positive').length;
    expect(shippedRight).toBeLessThan(trainedTexts.length);
    expect(updatedRight).toBe(trainedTexts.length);
    // The stored labels are the new model's.
    const rows = await store.query(
      "SELECT count(*) AS n FROM mention_scores WHERE sentiment = 'positive' AND native_id IN ('x0','x1','x2','x3','x4','x5','x6','x7','x8','x9')",
    );
    expect(rows).toEqual([{ n: 10 }]);
    // The uncorrected mentions keep the shipped model's labels (negative, neutral and positive ones):
    // the layer moved the corrected words, not every common word toward positive.
    const others = await store.query(
      `SELECT native_id, sentiment FROM mention_scores WHERE native_id NOT IN (${JARGON.map((_, i) => `'x${i}'`).join(',')}) ORDER BY native_id`,
    );
    const expected = OTHERS.map((t, i) => ({
      native_id: `x${JARGON.length + i}`,
      sentiment: shipped.en.score(t).label,
    }));
    expect(others).toEqual(expected.sort((a, b) => a.native_id.localeCompare(b.native_id)));
    expect(new Set(expected.map((e) => e.sentiment))).toEqual(new Set(['negative', 'neutral', 'positive']));
  });

  it('never trains on the held-out newest 20%', async () => {
    const trainedOn = await store.query(
      "SELECT native_id FROM sentiment_layer_training WHERE lang = 'en' AND version = 1 ORDER BY native_id",
    );
    const ids = trainedOn.map((r) => String(r.native_id)).sort();
    expect(ids).toEqual(['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7', 'x8', 'x9'].sort());
    // The weights prove it too: buckets only the held-out texts have carry no delta.
    const layer = (await newestLayers(store)).en;
    const seen = new Set<number>();
    // VADER's compound bin (emitted COMPOUND_WEIGHT times) is never moved by a correction.
    const compound = new Set<number>();
    for (const t of [...JARGON.slice(0, 10), ...OTHERS]) {
      const buckets = [...shippedEn.inspect(t).buckets];
      for (const b of buckets)
        (buckets.filter((x) => x === b).length >= COMPOUND_WEIGHT ? compound : seen).add(b);
    }
    expect(compound.size).toBeGreaterThan(0);
    for (const b of compound) expect(layer?.deltas.has(b)).toBe(false);
    const heldOnly = [10, 11].flatMap((i) =>
      [...shippedEn.inspect(JARGON[i] as string).buckets].filter((b) => !seen.has(b)),
    );
    expect(heldOnly.length).toBeGreaterThan(0);
    for (const b of heldOnly) expect(layer?.deltas.has(b)).toBe(false);
    for (const b of seen) expect(layer?.deltas.has(b)).toBe(true);
  });

  it('eval reports shipped and updated side by side on the held-out corrections', async () => {
    const [en] = await evalCorrections(store);
    const heldTexts = [JARGON[10], JARGON[11]] as string[];
    const shippedAcc = heldTexts.filter((t) => shipped.en.score(t).label === 'positive').length / 2;
    expect(en).toMatchObject({
      lang: 'en',
      corrections: 12,
      heldOut: 2,
      shipped: { model: 'en-linear@4', items: 2, accuracy: shippedAcc },
      updated: { model: 'en-linear@4+local1', items: 2 },
      note: null,
    });
    // Here the shipped model calls both held-out praises negative and the layer gets both right;
    // macro-F1 counts only the classes present (an absent class is not an F1 of 0).
    expect(shippedAcc).toBe(0);
    expect(en?.shipped?.macroF1).toBe(0);
    expect(en?.updated).toMatchObject({ accuracy: 1, macroF1: 1 });
  });

  it('a second learn is a new version and re-scores again', async () => {
    const learned = await learnFromCorrections(scoringDeps(store));
    expect(learned.layers[0]?.model).toBe('en-linear@4+local2');
    expect(learned.rescore?.rescored).toBe(texts.length);
    expect(await store.query('SELECT DISTINCT sentiment_model FROM mention_scores')).toEqual([
      { sentiment_model: 'en-linear@4+local2' },
    ]);
  });
});

/** Correction i is made at 2026-11-21T00:00Z + i minutes. */
function at(i: number): Date {
  return new Date(Date.UTC(2026, 10, 21, 0, i));
}
