import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sleep } from '../../collectors/runner.js';
import type { Webhook } from '../../pipeline/alerts/config.js';
import { deliverDue, startDeliveryLoop } from '../../pipeline/alerts/deliver.js';
import { runAlerts } from '../../pipeline/alerts/detect.js';
import { type Alert, listAlerts, muteTopic } from '../../pipeline/alerts/records.js';
import type { Config } from '../../pipeline/config.js';
import { Secret } from '../../pipeline/secrets.js';
import { Store } from '../../pipeline/store.js';
import { FakeClock } from '../helpers/clock.js';
import { type Loopback, type Reply, startLoopback } from '../helpers/loopback.js';
import { databaseText } from '../helpers/runner.js';
import { memoryLogger, openTestStore } from '../helpers/store.js';
import { alertConfig, hourAt, noisy, seedHours, seedRun, seedTopic, services } from './seed.js';

let store: Store;
let path: string;
let cleanup: () => void;
let clock: FakeClock;
let hook: Loopback;
let replies: Reply[];
let mem: ReturnType<typeof memoryLogger>;
/** The secret part of a webhook URL, as Slack and Teams put it in the path. */
const SECRET_PATH = 'T0001/B0002/s3cr3t-w3bh00k-t0k3n';

beforeEach(async () => {
  ({ store, path, cleanup } = await openTestStore());
  clock = new FakeClock(hourAt(0).getTime());
  mem = memoryLogger();
  replies = [];
  hook = await startLoopback(() => replies.shift() ?? { status: 200, body: 'ok' });
  await seedTopic(store, 'hanbit', 'Hanbit Electronics');
  await seedTopic(store, 'rival', 'Rival Corp');
});
afterEach(async () => {
  await hook.close();
  cleanup();
});

function webhook(name: string, format: Webhook['format'], extra: Partial<Webhook> = {}): Webhook {
  return { name, format, url: new Secret('HOOK_URL', `${hook.url}/services/${SECRET_PATH}`), ...extra };
}

/** One volume spike on `topic` in hour 100, detected at hour 101. */
async function spike(config: Config, topic = 'hanbit'): Promise<void> {
  await seedHours(store, topic, 0, [...noisy(100, 10, 2), 80]);
  clock.set(hourAt(101));
  await runAlerts(services(store, config, mem.logger, clock));
}

async function deliveries() {
  return store.query('SELECT * FROM alert_deliveries ORDER BY alert_id, webhook');
}

describe('webhook delivery', () => {
  it('survives a 500 and a 429 with Retry-After, then delivers once with the attempts recorded', async () => {
    const config = alertConfig({ webhooks: [webhook('ops', 'json')] });
    await spike(config);
    replies.push({ status: 500, body: 'down' }, { status: 429, headers: { 'retry-after': '120' } });
    const svc = services(store, config, mem.logger, clock);

    expect(await deliverDue(svc)).toEqual({ delivered: 0, failed: 1 });
    const [first] = await deliveries();
    expect(first).toMatchObject({ status: 'pending', attempts: 1, webhook: 'ops' });
    expect(String(first?.last_error)).toContain('HTTP 500');
    // Not due yet: nothing is sent.
    expect(await deliverDue(svc)).toEqual({ delivered: 0, failed: 0 });
    expect(hook.requests).toHaveLength(1);

    clock.set(first?.next_attempt_at as Date);
    expect(await deliverDue(svc)).toEqual({ delivered: 0, failed: 1 });
    const [second] = await deliveries();
    expect(second).toMatchObject({ status: 'pending', attempts: 2 });
    expect(String(second?.last_error)).toContain('rate limited');
    // Retry-After: 120 is honoured over the shorter backoff.
    const secondAt = second?.next_attempt_at as Date;
    expect(secondAt.getTime() - clock.now().getTime()).toBeGreaterThanOrEqual(120_000);
    clock.advance(60_000);
    expect(await deliverDue(svc)).toEqual({ delivered: 0, failed: 0 });

    clock.set(secondAt);
    expect(await deliverDue(svc)).toEqual({ delivered: 1, failed: 0 });
    expect(await deliverDue(svc)).toEqual({ delivered: 0, failed: 0 });
    expect(hook.requests).toHaveLength(3);
    const [done] = await deliveries();
    expect(done).toMatchObject({ status: 'delivered', attempts: 3 });
    expect(done?.delivered_at).toBeInstanceOf(Date);

    const sent = hook.requests[2];
    expect(sent?.method).toBe('POST');
    expect(sent?.url.pathname).toBe(`/services/${SECRET_PATH}`);
    expect(sent?.headers['content-type']).toBe('application/json');
    const [alert] = await listAlerts(store, { limit: 10 });
    const { deliveries: _, ...stored } = alert as Alert & { deliveries: unknown };
    expect(JSON.parse(sent?.body ?? '')).toEqual(stored);
  });

  it('never lets the webhook URL reach the database, the logs or an error, even when echoed back', async () => {
    const config = alertConfig({ webhooks: [webhook('ops', 'slack')] });
    await spike(config);
    const url = `${hook.url}/services/${SECRET_PATH}`;
    replies.push({ status: 404, body: `no such hook: ${url}` });
    const svc = services(store, config, mem.logger, clock);
    await deliverDue(svc);
    const [row] = await deliveries();
    expect(String(row?.last_error)).toContain('[redacted]');
    const text = await databaseText(store);
    expect(text).toContain('alert_deliveries');
    expect(text).not.toContain(SECRET_PATH);
    expect(mem.lines.join('')).toContain('alert delivery failed');
    expect(mem.lines.join('')).not.toContain(SECRET_PATH);
    expect(JSON.stringify(await listAlerts(store, { limit: 10 }))).not.toContain(SECRET_PATH);
  });

  it('picks up pending deliveries after a restart', async () => {
    const config = alertConfig({ webhooks: [webhook('ops', 'teams')], rules: { deliveryPollSeconds: 1 } });
    await spike(config);
    replies.push({ status: 503 });
    await deliverDue(services(store, config, mem.logger, clock));
    expect((await deliveries())[0]).toMatchObject({ status: 'pending', attempts: 1 });
    store.close();

    // A new process: the database reopened, a new loop, later.
    store = await Store.open(path);
    clock.advance(2 * 3_600_000);
    const controller = new AbortController();
    const loop = startDeliveryLoop({
      ...services(store, config, mem.logger, clock),
      sleep,
      signal: controller.signal,
    });
    const deadline = Date.now() + 20_000;
    while ((await deliveries())[0]?.status !== 'delivered' && Date.now() < deadline) await sleep(50);
    controller.abort();
    await loop.stopped;
    expect((await deliveries())[0]).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(hook.requests).toHaveLength(2);
  });

  it('sends a row once when two passes run at the same time', async () => {
    const config = alertConfig({ webhooks: [webhook('ops', 'json')] });
    await spike(config);
    const svc = services(store, config, mem.logger, clock);
    const outcomes = await Promise.all([deliverDue(svc), deliverDue(svc)]);
    expect(outcomes.map((o) => o.delivered).sort()).toEqual([0, 1]);
    expect(hook.requests).toHaveLength(1);
  });

  it('routes by the webhook topics and kinds filters, and never delivers a muted topic', async () => {
    const config = alertConfig({
      webhooks: [
        webhook('all', 'json'),
        webhook('rival-only', 'json', { topics: ['rival'] }),
        webhook('failures', 'json', { kinds: ['collection_failure'] }),
      ],
    });
    await muteTopic(store, 'rival', hourAt(500).toISOString(), clock.now());
    await seedHours(store, 'rival', 0, [...noisy(100, 10, 2), 80]);
    await spike(config, 'hanbit');
    for (let i = 0; i < 3; i++) await seedRun(store, 'rss', 'feed', 'error');
    await runAlerts(services(store, config, mem.logger, clock));

    const alerts = await listAlerts(store, { limit: 10 });
    const by = (topic: string | null) => alerts.find((a) => a.topicId === topic);
    expect(by('rival')).toMatchObject({ status: 'muted', deliveries: [] });
    expect(by('hanbit')?.status).toBe('open');
    expect(by('hanbit')?.deliveries.map((d) => d.webhook)).toEqual(['all']);
    expect(by(null)?.deliveries.map((d) => d.webhook)).toEqual(['all', 'failures']);
  });
});
