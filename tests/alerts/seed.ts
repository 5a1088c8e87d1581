import { sleep } from '../../collectors/runner.js';
import { alertRulesSchema, type Webhook } from '../../pipeline/alerts/config.js';
import { type Config, loadConfig } from '../../pipeline/config.js';
import type { Logger } from '../../pipeline/logger.js';
import type { Store } from '../../pipeline/store.js';
import { type Services, SourceLocks } from '../../pipeline/verbs.js';
import type { FakeClock } from '../helpers/clock.js';

export const HOUR = 3_600_000;
/** Hours start on the hour: the reporting time zone of these tests is UTC. */
export const T0 = new Date('2026-11-01T00:00:00Z');
export const hourAt = (i: number) => new Date(T0.getTime() + i * HOUR);

export function alertConfig(opts: { rules?: object; webhooks?: Webhook[] } = {}): Config {
  return {
    ...loadConfig({ EARSHOT_DB: ':memory:', EARSHOT_CONFIG: '' }),
    timezone: 'UTC',
    publicUrl: 'https://earshot.example.com',
    alerts: alertRulesSchema.parse({ settleMinutes: 0, lookbackHours: 24 * 30, ...opts.rules }),
    webhooks: opts.webhooks ?? [],
  };
}

export function services(store: Store, config: Config, logger: Logger, clock: FakeClock): Services {
  return {
    config,
    store,
    logger,
    fetch,
    now: clock.now,
    sleep,
    signal: new AbortController().signal,
    locks: new SourceLocks(),
  };
}

export async function seedTopic(store: Store, id: string, name = id): Promise<void> {
  await store.write((c) =>
    c.run(`INSERT INTO topics VALUES ($1, $2, ['x'], NULL, NULL, 'config', now())`, [id, name]),
  );
}

/**
 * Hourly rollup rows for a topic from hour index `start`: counts[i] originals in hour start+i, of
 * which negative[i] negative (the rest neutral); sources alternate so top sources have something
 * to rank. Empty hours get no row, as the scoring stage writes none.
 */
export async function seedHours(
  store: Store,
  topic: string,
  start: number,
  counts: number[],
  negative: number[] = [],
): Promise<void> {
  const values: string[] = [];
  for (const [i, n] of counts.entries()) {
    const neg = negative[i] ?? 0;
    const hour = hourAt(start + i).toISOString();
    const rows: [string, string, number][] = [
      ['rss', 'neutral', Math.ceil((n - neg) / 2)],
      ['naver', 'neutral', Math.floor((n - neg) / 2)],
      ['naver', 'negative', neg],
    ];
    for (const [source, sentiment, mentions] of rows) {
      if (mentions > 0)
        values.push(
          `('${topic}', '${hour}', '${source}', 'en', '${sentiment}', ${mentions}, 0, 0, ${mentions}, 0)`,
        );
    }
  }
  if (values.length === 0) return;
  // One statement: these are test numbers and fixed names, nothing to escape.
  await store.write((c) => c.run(`INSERT INTO rollup_hourly VALUES ${values.join(', ')}`));
}

/** A deterministic noisy series around `mean` (± spread). */
export function noisy(hours: number, mean: number, spread: number, seed = 7): number[] {
  let x = seed;
  return Array.from({ length: hours }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return mean - spread + (x % (2 * spread + 1));
  });
}

export async function seedRun(
  store: Store,
  source: string,
  partition: string,
  status: string,
): Promise<void> {
  await store.write((c) =>
    c.run(
      `INSERT INTO collection_runs (source, partition, started_at, finished_at, status, error)
       VALUES ($1, $2, now(), now(), $3, $4)`,
      [source, partition, status, status === 'ok' ? null : `HTTP 500 from ${source}.example`],
    ),
  );
}
