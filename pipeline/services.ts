import { markInterruptedRuns, sleep } from '../collectors/runner.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { syncConfig } from './settings.js';
import { Store } from './store.js';
import { type Services, SourceLocks } from './verbs.js';

/**
 * Opens the database as its owner: migrations, the config's topics and schedules seeded, runs left
 * behind by a process that died marked interrupted. Used by `serve` and by CLI verbs when no
 * server holds the file.
 */
export async function openServices(config: Config, logger: Logger, signal: AbortSignal): Promise<Services> {
  const store = await Store.open(
    config.databasePath,
    logger,
    config.memoryLimit === undefined ? {} : { memoryLimit: config.memoryLimit },
  );
  try {
    const now = new Date();
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
    now: () => new Date(),
    sleep,
    signal,
    locks: new SourceLocks(),
  };
}
