import { once } from 'node:events';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../dashboard/app.js';
import { startingHandler } from '../dashboard/starting.js';
import { warmWeekFigures } from './adoption/week-cache.js';
import { startDeliveryLoop } from './alerts/deliver.js';
import type { Config } from './config.js';
import { demoServeConfig } from './demo/build.js';
import { errorMessage } from './errors.js';
import type { Logger } from './logger.js';
import { removeServerInfo, writeServerInfo } from './remote.js';
import { Scheduler } from './scheduler.js';
import { openServices } from './services.js';

/** How long shutdown may take before the process exits anyway. */
const SHUTDOWN_LIMIT_MS = 9_000;

function loopbackUrl(address: AddressInfo): string {
  const host =
    address.address === '0.0.0.0'
      ? '127.0.0.1'
      : address.address === '::'
        ? '[::1]'
        : address.family === 'IPv6'
          ? `[${address.address}]`
          : address.address;
  return `http://${host}:${address.port}`;
}

/**
 * The long-running owner of the database: scheduler + HTTP server in one process. SIGTERM/SIGINT
 * stop taking work, let the current batches end (buffered rows are written with their bookmark),
 * close DuckDB and exit 0.
 */
export async function serve(configured: Config, logger: Logger): Promise<void> {
  // The port answers from the first second: a self-refreshing "starting" page until the database
  // (on a first start, the demo's, built here) is open, then the dashboard on the same socket.
  let handle: RequestListener = startingHandler(configured.servesDemo ? 'demo' : 'database');
  const server = createServer((req, res) => handle(req, res));
  server.listen(configured.port, configured.host);
  try {
    await once(server, 'listening');
  } catch (err) {
    throw new Error(
      `cannot listen on ${configured.host}:${configured.port}: ${errorMessage(err)} (set PORT to another port)`,
    );
  }
  const shownUrl = `http://${configured.host.includes(':') ? `[${configured.host}]` : configured.host}:${(server.address() as AddressInfo).port}`;
  logger.info({ url: shownUrl }, `earshot is listening on ${shownUrl}; getting ready`);
  let config: Config;
  let svc: Awaited<ReturnType<typeof openServices>>;
  const controller = new AbortController();
  try {
    // Nothing configured: serve the demo (built on first start), never the real database file.
    config = configured.servesDemo ? await demoServeConfig(configured, logger) : configured;
    svc = await openServices(config, logger, controller.signal);
  } catch (err) {
    server.close();
    throw err;
  }
  let localToken = '';
  handle = createApp({ services: svc, logger, getLocalToken: () => localToken });
  const url = loopbackUrl(server.address() as AddressInfo);
  localToken = writeServerInfo(config.databasePath, url).token;
  const scheduler = new Scheduler(svc);
  const scheduled = await scheduler.start();
  // Sends pending alert deliveries (the outbox), including any left by a previous process.
  const delivery = startDeliveryLoop(svc);
  // The leadership report's weeks, kept ahead of the first report: none are kept after an upgrade
  // (a new formula reads none of the old build's) or a first demo build. Only read when kept already.
  const warming = warmWeekFigures(svc.store, config.timezone, logger);

  if (config.servesDemo) {
    logger.warn(
      `this is the DEMO: an invented company and its competitors in ${config.databasePath}, collecting nothing. ` +
        'To listen for real, create earshot.yaml (or set EARSHOT_CONFIG) with topics and sources; see README "Configure"',
    );
  } else if (config.sources.length === 0) {
    logger.warn(
      'nothing is configured yet: create earshot.yaml (or set EARSHOT_CONFIG) with topics and sources; see README "Configure"',
    );
  }
  logger.info(
    { url: shownUrl, database: config.databasePath, sources: scheduled },
    `earshot is serving on ${shownUrl}`,
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting without waiting further');
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS);
    force.unref();
    try {
      await scheduler.stop();
      controller.abort(new Error(`shutdown (${signal})`));
      server.close();
      server.closeAllConnections();
      await svc.locks.idle();
      // The whole run, not only its collection: DuckDB closed under a running query never settles
      // it, and the process then hangs in exit (measured with @duckdb/node-api 1.5).
      await scheduler.idle();
      await delivery.stopped;
      await warming;
      await svc.store.closeGracefully();
      removeServerInfo(config.databasePath);
      logger.info('stopped cleanly');
      process.exit(0);
    } catch (err) {
      logger.error({ err: errorMessage(err) }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
