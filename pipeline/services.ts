import { markInterruptedRuns, sleep } from '../collectors/runner.js';
import type { Config } from './config.js';
import { ConfigError } from './errors.js';
import type { Logger } from './logger.js';
import { syncConfig } from './settings.js';
import { Store } from './store.js';
import { type Services, SourceLocks } from './verbs.js';

/**
 * The clock of a process. Test-only: EARSHOT_NOW (an ISO instant) freezes it, so a crash test can
 * compare a killed-and-restarted run with an uninterrupted one on every stored value.
 */
export function processClock(env: NodeJS.ProcessEnv = process.env): () => Date {
  const fixed = env.EARSHOT_NOW;
  if (fixed === undefined || fixed === '') return () => new Date();
  const ms = Date.parse(fixed);
  if (Number.isNaN(ms))
    throw new ConfigError(
      `EARSHOT_NOW: "${fixed}" is not an instant like 2026-11-22T00:00:00Z`,
      'EARSHOT_NOW',
    );
  return () => new Date(ms);
}

/**
 * Opens the database as its owner: migrations, the config's topics and schedules seeded, runs left
 * behind by a process that died marked interrupted. Used by `serve` and by CLI verbs when no
 * server holds the file.
 */
export async function openServices(config: Config, logger: Logger, signal: AbortSignal): Promise<Services> {
  const clock = processClock();
  const store = await Store.open(
    config.databasePath,
    logger,
    config.memoryLimit === undefined ? {} : { memoryLimit: config.memoryLimit },
  );
  try {
    const now = clock();
    await syncConfig(store, config, now);
    await markInterruptedRuns(store, now);
  } catch (err) {
    store.close();
    throw err;
  }
  return {
    config,
    store,
    logger,
    fetch: globalThis.fetch,
    now: clock,
    sleep,
    signal,
    locks: new SourceLocks(),
  };
}
