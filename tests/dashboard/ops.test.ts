import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertRulesSchema } from '../../pipeline/alerts/config.js';
import { listAudit } from '../../pipeline/audit/log.js';
import { storeBatch } from '../../pipeline/ingest.js';
import { Secret } from '../../pipeline/secrets.js';
import type { Store } from '../../pipeline/store.js';
import { startTestApp, TEST_TOKEN, type TestApp } from '../helpers/app.js';
import { type Loopback, startLoopback } from '../helpers/loopback.js';
import { mentionRecord } from '../helpers/mention.js';
import { openTestStore } from '../helpers/store.js';

let store: Store;
let cleanup: () => void;
let app: TestApp;
let receiver: Loopback;
const now = new Date('2026-11-23T01:00:00Z');
const headers = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' };
const HOOK_PATH = '/services/T000/B000/ops-hook-secret-1234567890';
const BROKEN_PATH = '/services/T000/B000/broken-hook-secret-0987654321';
const PAYLOAD = '{"items": [<script>alert(1)</script>';

beforeAll(async () => {
  ({ store, cleanup } = await openTestStore());
  receiver = await startLoopback((req) =>
    req.url.pathname === BROKEN_PATH ? { status: 500, body: 'down' } : { status: 200, body: 'ok' },
  );
  await storeBatch(store, {
    source: 'rss',
    partition: 'feed-a',
    runId: 0,
    budget: new Map(),
    records: [
      mentionRecord({ nativeId: '1', text: 'Acme launches a phone' }),
      mentionRecord({ nativeId: '2', text: 'Nothing to see' }),
    ],
    quarantine: [{ raw: PAYLOAD, error: 'unexpected page shape: items is not an array', url: null }],
    bookmark: {},
    now,
  });
  app = await startTestApp({
    store,
    now: () => now,
    config: {
      alerts: alertRulesSchema.parse({}),
      publicUrl: 'https://earshot.example.com',
      webhooks: [
        { name: 'comms-slack', format: 'slack', url: new Secret('OPS_HOOK', `${receiver.url}${HOOK_PATH}`) },
        { name: 'broken', format: 'teams', url: new Secret('BROKEN_HOOK', `${receiver.url}${BROKEN_PATH}`) },
      ],
    },
  });
});
afterAll(async () => {
  app.close();
  await receiver.close();
  cleanup();
});

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${app.base}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, text, body: text ? JSON.parse(text) : null };
}

describe('topics', () => {
  it('saves a topic, re-tags stored mentions, lists it with its set, and audits', async () => {
    const saved = await call('PUT', '/api/topics/acme', {
      name: 'Acme',
      keywords: ['acme'],
      query: 'acme AND phone',
      comparisonSet: 'phones',
    });
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ topicId: 'acme', tagged: 1 });
    await call('POST', '/api/topics/acme/mute', { until: '2026-11-24T00:00:00Z' });
    const list = await call('GET', '/api/topics');
    expect(list.body).toEqual([
      expect.objectContaining({
        id: 'acme',
        name: 'Acme',
        query: 'acme AND phone',
        set: 'phones',
        origin: 'user',
        mentions: 1,
        mutedUntil: '2026-11-24T00:00:00.000Z',
      }),
    ]);
    const [entry] = await listAudit(store, { action: 'topic.save' });
    expect(entry).toMatchObject({
      actor: 'cli',
      target: 'acme',
      detail: { query: 'acme AND phone', tagged: 1 },
    });
  });

  it('refuses a bad query with its place, changing nothing', async () => {
    const bad = await call('PUT', '/api/topics/acme', {
      name: 'Acme',
      keywords: ['acme'],
      query: 'acme AND (',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/^query: unclosed parenthesis at 10/);
    expect((await call('GET', '/api/topics')).body[0].query).toBe('acme AND phone');
    const other = await call('PUT', '/api/topics/acme', { id: 'other', name: 'x', keywords: ['x'] });
    expect(other.status).toBe(400);
    expect(other.body.error).toMatch(/^id:/);
  });

  it('validates a query live', async () => {
    expect((await call('POST', '/api/topics/validate', { query: 'acme NEAR/3 "new phone"' })).body).toEqual({
      ok: true,
    });
    expect((await call('POST', '/api/topics/validate', { query: 'acme OR' })).body).toEqual({
      ok: false,
      error: 'nothing after OR at 6',
      position: 5,
    });
    const missing = await call('POST', '/api/topics/validate', {});
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatch(/^query:/);
  });

  it('deletes a topic and its tags, audited; a second delete is a 404', async () => {
    await call('PUT', '/api/topics/gone', { name: 'Gone', keywords: ['nothing'] });
    expect(
      (await store.query("SELECT count(*) AS n FROM mention_topics WHERE topic_id = 'gone'"))[0]?.n,
    ).toBe(1);
    expect((await call('DELETE', '/api/topics/gone')).status).toBe(204);
    expect(
      (await store.query("SELECT count(*) AS n FROM mention_topics WHERE topic_id = 'gone'"))[0]?.n,
    ).toBe(0);
    expect((await call('DELETE', '/api/topics/gone')).status).toBe(404);
    const [entry] = await listAudit(store, { action: 'topic.delete' });
    expect(entry).toMatchObject({ target: 'gone', actor: 'cli' });
  });
});

describe('quarantine', () => {
  it('lists quarantined payloads and shows one as text', async () => {
    const list = await call('GET', '/api/quarantine?source=rss');
    expect(list.body).toEqual([
      {
        id: expect.any(Number),
        source: 'rss',
        partition: 'feed-a',
        reason: 'unexpected page shape: items is not an array',
        at: now.toISOString(),
        size: Buffer.byteLength(PAYLOAD),
      },
    ]);
    expect((await call('GET', '/api/quarantine?source=hackernews')).body).toEqual([]);
    const one = await call('GET', `/api/quarantine/${list.body[0].id}`);
    expect(one.body).toMatchObject({ source: 'rss', payload: PAYLOAD });
    expect((await call('GET', '/api/quarantine/999')).status).toBe(404);
    expect((await call('GET', '/api/quarantine/abc')).status).toBe(400);
    expect((await call('GET', '/api/quarantine?limit=0')).body.error).toMatch(/^limit:/);
  });
});

describe('webhooks', () => {
  it('lists webhooks by name, never their URLs', async () => {
    const list = await call('GET', '/api/webhooks');
    expect(list.body).toEqual([
      { name: 'comms-slack', kind: 'slack', secret: 'set', topics: null, kinds: null },
      { name: 'broken', kind: 'teams', secret: 'set', topics: null, kinds: null },
    ]);
    expect(list.text).not.toContain('secret-');
  });

  it('sends a test message through the real formatter and reports the answer', async () => {
    const sent = await call('POST', '/api/webhooks/comms-slack/test');
    expect(sent.body).toEqual({ ok: true, status: 200 });
    const got = receiver.requests.find((r) => r.url.pathname === HOOK_PATH);
    const message = JSON.parse(got?.body ?? '{}');
    expect(message.text).toBe('earshot test message');
    expect(JSON.stringify(message.blocks)).toContain('https://earshot.example.com');
  });

  it('reports a failing webhook without its URL anywhere, and audits both', async () => {
    const failed = await call('POST', '/api/webhooks/broken/test');
    expect(failed.body).toMatchObject({ ok: false, status: 500, error: expect.stringContaining('500') });
    expect(failed.text).not.toContain('broken-hook-secret');
    expect(app.lines.join('')).not.toContain('secret-');
    expect((await call('POST', '/api/webhooks/nope/test')).status).toBe(404);
    const entries = await listAudit(store, { action: 'webhook.test' });
    expect(entries.map((e) => [e.target, e.detail])).toEqual([
      ['broken', { ok: false, status: 500 }],
      ['comms-slack', { ok: true, status: 200 }],
    ]);
    expect(JSON.stringify(entries)).not.toContain('secret-');
  });
});
