import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/config.js';
import { Scheduler } from '../../pipeline/scheduler.js';
import { openServices } from '../../pipeline/services.js';
import { sourceSchedules, syncConfig } from '../../pipeline/settings.js';
import type { Services } from '../../pipeline/verbs.js';
import { hnSearch, syntheticHits } from '../helpers/fake-hn.js';
import { type Loopback, startLoopback } from '../helpers/loopback.js';
import { memoryLogger, tempDir } from '../helpers/store.js';

let dir: string;
let cleanup: () => void;
let api: Loopback;
let inFlight = 0;
let maxInFlight = 0;
let svc: Services;
const controller = new AbortController();

async function services(schedule: string): Promise<Services> {
  const config = join(dir, 'earshot.yaml');
  writeFileSync(
    config,
    `topics: [{id: acme, name: Acme, keywords: [acme]}]
sources:
  hackernews: {baseUrl: "${api.url}", schedule: "${schedule}"}
`,
  );
  return openServices(
    loadConfig({ EARSHOT_CONFIG: config, EARSHOT_DB: join(dir, 's.duckdb') }),
    memoryLogger().logger,
    controller.signal,
  );
}

beforeEach(async () => {
  ({ dir, cleanup } = tempDir());
  const search = hnSearch(syntheticHits(3));
  api = await startLoopback(async (req) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    // Each run takes longer than the schedule's interval.
    await new Promise((r) => setTimeout(r, 1500));
    inFlight--;
    return search(req);
  });
});
afterEach(async () => {
  await svc.store.closeGracefully();
  await api.close();
  cleanup();
});

describe('scheduler', () => {
  it('runs each source on its schedule and never overlaps runs of one source', async () => {
    svc = await services('* * * * * *');
    const scheduler = new Scheduler(svc, 0);
    expect(await scheduler.start()).toEqual(['hackernews']);
    // Two finished runs, each longer than the one-second schedule: ticks came while one ran.
    const finished = async () =>
      Number(
        (
          await svc.store.query(
            "SELECT count(*) AS n FROM collection_runs WHERE source = 'hackernews' AND status <> 'running'",
          )
        )[0]?.n,
      );
    while ((await finished()) < 2) await new Promise((r) => setTimeout(r, 100));
    await scheduler.stop();
    await svc.locks.idle();
    expect(await finished()).toBeGreaterThanOrEqual(2);
    expect(maxInFlight).toBe(1);
  });

  it('takes schedules edited at run time over the config file', async () => {
    svc = await services('*/5 * * * *');
    await svc.store.write((c) =>
      c.run(
        "UPDATE source_settings SET schedule = '0 * * * *', enabled = false, origin = 'user' WHERE source = 'hackernews'",
      ),
    );
    await syncConfig(svc.store, svc.config, new Date());
    expect(await sourceSchedules(svc.store, svc.config)).toEqual([
      { id: 'hackernews', schedule: '0 * * * *', enabled: false },
    ]);
    const scheduler = new Scheduler(svc, 0);
    expect(await scheduler.start()).toEqual([]);
    await scheduler.stop();
  });
});
