import type { Logger } from 'pino';
import type { CollectorContext } from '../../collectors/contract.js';
import { collectorOf } from '../../collectors/registry.js';
import { collectSource, type PartitionResult, type RunnerDeps } from '../../collectors/runner.js';
import type { SourceConfig } from '../../pipeline/config.js';
import type { Store } from '../../pipeline/store.js';
import { type Services, SourceLocks } from '../../pipeline/verbs.js';
import { FakeClock } from './clock.js';
import { type Handler, type Loopback, startLoopback } from './loopback.js';
import { memoryLogger, openTestStore } from './store.js';

/**
 * Runner dependencies on the fake clock and real fetch, with a fresh in-memory logger whose lines come
 * back beside them (unused when `overrides` brings its own logger) and one transaction per batch.
 */
export function testDeps(
  store: Store,
  clock: FakeClock,
  overrides: Partial<RunnerDeps> = {},
): { deps: RunnerDeps; lines: string[] } {
  const mem = memoryLogger();
  const deps: RunnerDeps = {
    store,
    logger: mem.logger,
    fetch,
    now: clock.now,
    sleep: clock.sleep,
    signal: new AbortController().signal,
    maxRateLimitWaitMs: 15 * 60_000,
    // One transaction per page, so "between batches" exists even for fast loopback pages.
    coalesceRows: 1,
    ...overrides,
  };
  return { deps, lines: mem.lines };
}

/** A context for calling a collector directly: real fetch, the fake clock, a throwaway logger and no quota limit. */
export function testContext(
  clock: FakeClock,
  baseUrl: string,
  overrides: Partial<CollectorContext> = {},
): CollectorContext {
  return {
    fetch,
    now: clock.now,
    sleep: clock.sleep,
    logger: memoryLogger().logger,
    signal: new AbortController().signal,
    baseUrl,
    maxRateLimitWaitMs: 15 * 60_000,
    budget: { take: () => true },
    ...overrides,
  };
}

/** An enabled source on the usual schedule, with settings already parsed by its configSchema. */
export function sourceConfig(id: string, baseUrl: string, settings: unknown): SourceConfig {
  return { id, enabled: true, schedule: '*/15 * * * *', baseUrl, settings };
}

/** Stores one topic, 't', whose keywords are what search sources collect. */
export async function insertTopic(store: Store, keywords: readonly string[]): Promise<void> {
  await store.write((conn) =>
    conn.run(`INSERT INTO topics VALUES ('t', 'T', $1::VARCHAR[], NULL, NULL, 'config', now())`, [
      `[${keywords.map((k) => `"${k.replaceAll('"', '')}"`).join(',')}]`,
    ]),
  );
}

/** The native ids `source` has stored, sorted. */
export async function mentionIds(store: Store, source: string): Promise<string[]> {
  const rows = await store.query('SELECT native_id FROM mentions WHERE source = $1 ORDER BY 1', [source]);
  return rows.map((r) => String(r.native_id));
}

/**
 * Every row of every base table in schema main (as information_schema lists them, so new tables are
 * included), as text: what a test searches to prove a value never reached the database.
 */
export async function databaseText(store: Store): Promise<string> {
  const tables = await store.query(
    `SELECT table_name FROM information_schema.tables
     WHERE table_catalog = current_database() AND table_schema = 'main' AND table_type = 'BASE TABLE'
     ORDER BY table_name`,
  );
  if (tables.length === 0) throw new Error('information_schema lists no tables in schema main');
  const parts: string[] = [];
  for (const { table_name } of tables) {
    const name = String(table_name);
    const rows = await store.query(`SELECT * FROM "${name.replaceAll('"', '""')}"`);
    parts.push(`${name}: ${JSON.stringify(rows, (_key, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
  }
  return parts.join('\n');
}

export interface SourceHarness {
  store: Store;
  server: Loopback;
  clock: FakeClock;
  /** The one logger of every run and of `ctx`, and the lines it wrote. */
  mem: { logger: Logger; lines: string[] };
  source: SourceConfig;
  /** One collection of `source` through the runner. */
  run(): Promise<PartitionResult[]>;
  /** For calling the collector directly against the same server. */
  ctx: CollectorContext;
  close(): Promise<void>;
}

/**
 * A fresh test store, a fake clock at `start`, a loopback server answering with `handler`, and source
 * `id` configured against that server with `settings` (parsed by its configSchema); call `close` after.
 */
export async function sourceHarness(options: {
  id: string;
  start: Date;
  handler: (clock: FakeClock) => Handler;
  settings: (baseUrl: string) => Record<string, unknown>;
  /** Topic keywords to store; none when absent. */
  keywords?: readonly string[];
  ctx?: Partial<CollectorContext>;
}): Promise<SourceHarness> {
  const { store, cleanup } = await openTestStore();
  const clock = new FakeClock(options.start.getTime());
  const server = await startLoopback(options.handler(clock));
  const mem = memoryLogger();
  if (options.keywords) await insertTopic(store, options.keywords);
  const source = sourceConfig(
    options.id,
    server.url,
    collectorOf(options.id).configSchema.parse(options.settings(server.url)),
  );
  return {
    store,
    server,
    clock,
    mem,
    source,
    run: () => collectSource(source, testDeps(store, clock, { logger: mem.logger }).deps),
    ctx: testContext(clock, server.url, { logger: mem.logger, ...options.ctx }),
    close: async () => {
      await server.close();
      cleanup();
    },
  };
}

/** The verbs' Services over a harness: its store, clock, logger and one source, in `timezone`. */
export function harnessServices(h: SourceHarness, timezone: string): Services {
  return {
    config: {
      configPath: null,
      databasePath: h.store.path,
      host: '127.0.0.1',
      port: 0,
      timezone,
      logLevel: 'debug',
      topics: [],
      sources: [h.source],
      maxRateLimitWaitMs: 0,
      minGroupSize: 5,
    },
    store: h.store,
    logger: h.mem.logger,
    fetch,
    now: h.clock.now,
    sleep: h.clock.sleep,
    signal: new AbortController().signal,
    locks: new SourceLocks(),
  };
}
