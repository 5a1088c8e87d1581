import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sleep } from '../../collectors/runner.js';
import { createApp } from '../../dashboard/app.js';
import { type Config, loadConfig } from '../../pipeline/config.js';
import type { Logger } from '../../pipeline/logger.js';
import type { Store } from '../../pipeline/store.js';
import { type Services, SourceLocks } from '../../pipeline/verbs.js';
import { memoryLogger } from './store.js';

/** The local token the test apps accept (a server writes a random one beside the database). */
export const TEST_TOKEN = 'local-token-for-tests-0123456789';

export interface TestApp {
  /** http://127.0.0.1:<port> */
  base: string;
  services: Services;
  /** Log lines written so far. */
  lines: string[];
  close(): void;
}

/**
 * The real dashboard app over `store`, listening on a loopback port: the default config (no file)
 * with `config` laid over it, a fixed clock, and TEST_TOKEN as the local token.
 */
export async function startTestApp(options: {
  store: Store;
  now: () => Date;
  config?: Partial<Config>;
  logger?: Logger;
}): Promise<TestApp> {
  const mem = memoryLogger();
  const logger = options.logger ?? mem.logger;
  const services: Services = {
    config: { ...loadConfig({ EARSHOT_DB: ':memory:', EARSHOT_CONFIG: '' }), ...options.config },
    store: options.store,
    logger,
    fetch,
    now: options.now,
    sleep,
    signal: new AbortController().signal,
    locks: new SourceLocks(),
  };
  const server: Server = createApp({ services, logger, getLocalToken: () => TEST_TOKEN }).listen(
    0,
    '127.0.0.1',
  );
  await new Promise((r) => server.once('listening', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    services,
    lines: mem.lines,
    close: () => server.close(),
  };
}
