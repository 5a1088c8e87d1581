import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../dashboard/app.js';
import { runAlerts } from '../../pipeline/alerts/detect.js';
import { Secret } from '../../pipeline/secrets.js';
import type { Store } from '../../pipeline/store.js';
import { FakeClock } from '../helpers/clock.js';
import { memoryLogger, openTestStore } from '../helpers/store.js';
import { alertConfig, hourAt, noisy, seedHours, seedRun, seedTopic, services } from './seed.js';

const TOKEN = 'local-token-for-alert-tests-0123456789';
const HOOK_URL = 'https://hooks.example.com/services/T1/B2/api-test-secret-token';
let store: Store;
let cleanup: () => void;
let server: Server;
let base: string;
const clock = new FakeClock(hourAt(101).getTime());

beforeAll(async () => {
  ({ store, cleanup } = await openTestStore());
  const { logger } = memoryLogger();
  const config = alertConfig({
    webhooks: [{ name: 'ops', format: 'slack', url: new Secret('API_HOOK', HOOK_URL) }],
  });
  const svc = services(store, config, logger, clock);
  await seedTopic(store, 'hanbit', 'Hanbit Electronics');
  await seedTopic(store, 'rival');
  await seedHours(store, 'hanbit', 0, [...noisy(100, 10, 2), 80]);
  await seedHours(store, 'rival', 0, [...noisy(100, 10, 2), 90]);
  for (let i = 0; i < 3; i++) await seedRun(store, 'rss', 'feed', 'error');
  await runAlerts(svc);
  server = createApp({ services: svc, logger, getLocalToken: () => TOKEN }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
  cleanup();
});

const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
async function get(path: string) {
  const res = await fetch(`${base}${path}`, { headers: auth });
  return { status: res.status, text: await res.text() };
}
async function post(path: string, body: unknown = {}) {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
type Listed = { alerts: { id: number; kind: string; topicId: string | null; status: string }[] };

describe('alerts API', () => {
  it('needs the local token', async () => {
    expect((await fetch(`${base}/api/alerts`)).status).toBe(401);
    expect((await fetch(`${base}/api/alerts/1/ack`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${base}/api/topics/hanbit/mute`, { method: 'POST' })).status).toBe(401);
  });

  it('lists alerts newest first with filters, without the webhook URL', async () => {
    const all = await get('/api/alerts');
    expect(all.status).toBe(200);
    expect(all.text).not.toContain('api-test-secret-token');
    const listed = JSON.parse(all.text) as Listed;
    expect(listed.alerts.map((a) => a.kind).sort()).toEqual([
      'collection_failure',
      'volume_spike',
      'volume_spike',
    ]);
    const hanbit = JSON.parse((await get('/api/alerts?topic=hanbit')).text) as Listed;
    expect(hanbit.alerts).toEqual([expect.objectContaining({ topicId: 'hanbit', kind: 'volume_spike' })]);
    const failures = JSON.parse((await get('/api/alerts?kind=collection_failure')).text) as Listed;
    expect(failures.alerts).toEqual([expect.objectContaining({ topicId: null })]);
    const future = JSON.parse((await get('/api/alerts?since=2030-01-01T00:00:00Z')).text) as Listed;
    expect(future.alerts).toEqual([]);
    const bad = await get('/api/alerts?kind=meltdown');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('kind');
    expect((await get('/api/alerts?since=yesterday')).status).toBe(400);
  });

  it('acknowledges an alert once, and answers 404 for an unknown one', async () => {
    const listed = JSON.parse((await get('/api/alerts?topic=hanbit')).text) as Listed;
    const id = listed.alerts[0]?.id;
    const acked = await post(`/api/alerts/${id}/ack`);
    expect(acked.status).toBe(200);
    expect(acked.body.alert).toMatchObject({
      id,
      status: 'acked',
      ackedBy: 'local',
      ackedAt: clock.now().toISOString(),
    });
    clock.advance(60_000);
    const again = await post(`/api/alerts/${id}/ack`);
    expect((again.body.alert as { ackedAt: string }).ackedAt).toBe(hourAt(101).toISOString());
    const open = JSON.parse((await get('/api/alerts?status=acked')).text) as Listed;
    expect(open.alerts.map((a) => a.id)).toEqual([id]);
    expect((await post('/api/alerts/999999/ack')).status).toBe(404);
    expect((await post('/api/alerts/abc/ack')).status).toBe(400);
  });

  it('mutes a topic until a time: later alerts are stored muted and not delivered', async () => {
    const until = new Date(clock.now().getTime() + 24 * 3_600_000).toISOString();
    const muted = await post('/api/topics/rival/mute', { until });
    expect(muted).toEqual({ status: 200, body: { topic: 'rival', mutedUntil: until } });
    expect((await post('/api/topics/nope/mute', { until })).status).toBe(404);
    expect((await post('/api/topics/rival/mute', { until: '2001-01-01T00:00:00Z' })).status).toBe(400);
    expect((await post('/api/topics/rival/mute', {})).status).toBe(400);

    await seedHours(store, 'rival', 101, [...noisy(10, 10, 2, 3), 95]);
    clock.set(hourAt(112));
    await runAlerts(services(store, alertConfig(), memoryLogger().logger, clock));
    const rival = JSON.parse((await get('/api/alerts?topic=rival&status=muted')).text) as {
      alerts: { windowStart: string; deliveries: unknown[] }[];
    };
    expect(rival.alerts).toEqual([
      expect.objectContaining({ windowStart: hourAt(111).toISOString(), deliveries: [] }),
    ]);

    const unmuted = await post('/api/topics/rival/mute', { until: null });
    expect(unmuted.body).toEqual({ topic: 'rival', mutedUntil: null });
    expect(await store.query('SELECT * FROM topic_mutes')).toEqual([]);
  });
});
