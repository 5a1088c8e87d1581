import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../collectors/runner.js';
import { runAlerts } from '../../pipeline/alerts/detect.js';
import type { Alert } from '../../pipeline/alerts/records.js';
import { loadConfig } from '../../pipeline/config.js';
import { Store } from '../../pipeline/store.js';
import { runCli, type Served, startServe } from '../helpers/cli.js';
import { FakeClock } from '../helpers/clock.js';
import { type Loopback, startLoopback } from '../helpers/loopback.js';
import { memoryLogger, tempDir } from '../helpers/store.js';
import { hourAt, noisy, seedHours, seedRun, services } from './seed.js';

const HOOK_SECRET = 'cli-test-hook-s3cr3t';
let dir: string;
let cleanup: () => void;
let hook: Loopback;
let env: NodeJS.ProcessEnv;
let db: string;
let served: Served | undefined;

beforeAll(async () => {
  ({ dir, cleanup } = tempDir());
  hook = await startLoopback(() => ({ status: 200, body: 'ok' }));
  db = join(dir, 'earshot.duckdb');
  const configPath = join(dir, 'earshot.yaml');
  writeFileSync(
    configPath,
    `
timezone: UTC
dashboard: { publicUrl: "https://earshot.example.com/" }
topics:
  - id: hanbit
    name: Hanbit Electronics
    keywords: [hanbit]
alerts: { settleMinutes: 0, lookbackHours: 720, deliveryPollSeconds: 1 }
webhooks:
  - name: ops
    format: slack
    url: { secret: OPS_HOOK_URL }
`,
  );
  env = {
    EARSHOT_CONFIG: configPath,
    EARSHOT_DB: db,
    PORT: '0',
    LOG_LEVEL: 'debug',
    OPS_HOOK_URL: `${hook.url}/hooks/${HOOK_SECRET}`,
  };
  // Alerts detected earlier by another process, their deliveries still pending.
  const config = loadConfig(env);
  expect(config).toMatchObject({ publicUrl: 'https://earshot.example.com', alerts: { minVolume: 10 } });
  const store = await Store.open(db);
  await store.write((c) =>
    c.run(
      `INSERT INTO topics VALUES ('hanbit', 'Hanbit Electronics', ['hanbit'], NULL, NULL, 'config', now())`,
    ),
  );
  await seedHours(store, 'hanbit', 0, [...noisy(100, 10, 2), 80]);
  for (let i = 0; i < 3; i++) await seedRun(store, 'rss', 'feed', 'error');
  const { created } = await runAlerts(
    services(store, config, memoryLogger().logger, new FakeClock(hourAt(101).getTime())),
  );
  expect(created).toHaveLength(2);
  await store.closeGracefully();
});
afterAll(async () => {
  if (served?.child.exitCode === null) served.child.kill('SIGKILL');
  await hook.close();
  cleanup();
});

describe('earshot alerts', () => {
  // Each spawns node processes; a loaded 2-core machine needs more than the default time.
  it('lists, acks and refuses a bad duration with the file (no server)', async () => {
    const listed = await runCli(['alerts', '--json'], env);
    expect(listed.stderr).toBe('');
    const alerts = JSON.parse(listed.stdout) as (Alert & { deliveries: { status: string }[] })[];
    expect(alerts.map((a) => a.kind).sort()).toEqual(['collection_failure', 'volume_spike']);
    expect(alerts.flatMap((a) => a.deliveries.map((d) => d.status))).toEqual(['pending', 'pending']);

    const spike = alerts.find((a) => a.kind === 'volume_spike');
    const acked = await runCli(['alerts', 'ack', String(spike?.id)], env);
    expect(acked).toMatchObject({ code: 0, stdout: `alert ${spike?.id}: acknowledged\n` });
    const bad = await runCli(['alerts', 'mute', 'hanbit', '--for', 'soon'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--for: "soon" is not a duration');
  }, 120_000);

  it('delivers what was pending once a server runs, and mutes and lists through it', async () => {
    served = await startServe(env, db);
    const deadline = Date.now() + 30_000;
    while (hook.requests.length < 2 && Date.now() < deadline) await sleep(50);
    expect(hook.requests.map((r) => r.url.pathname)).toEqual([
      `/hooks/${HOOK_SECRET}`,
      `/hooks/${HOOK_SECRET}`,
    ]);
    const texts = hook.requests.map((r) => (JSON.parse(r.body) as { text: string }).text).sort();
    expect(texts[0]).toContain('Collection failing: rss (feed)');
    expect(texts[1]).toContain('Volume spike: Hanbit Electronics');

    const muted = await runCli(['alerts', 'mute', 'hanbit', '--for', '6h'], env);
    expect(muted.code).toBe(0);
    expect(muted.stdout).toMatch(/^hanbit: muted until \d{4}-/);
    const table = await runCli(['alerts', 'list', '--status', 'acked'], env);
    expect(table.stdout).toContain('volume_spike');
    expect(table.stdout).toContain('ops:delivered');
    expect(table.stdout).not.toContain('collection_failure');

    const stopped = await served.stop();
    expect(stopped.code).toBe(0);
    expect(served.stderr()).not.toContain(HOOK_SECRET);
  }, 120_000);
});
