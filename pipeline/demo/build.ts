import { existsSync, renameSync, rmSync } from 'node:fs';
import { importFiles } from '../../collectors/imports/write.js';
import { collectSource, type RunnerDeps } from '../../collectors/runner.js';
import { runAlerts } from '../alerts/detect.js';
import type { Config } from '../config.js';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { defaultDemoPath } from '../paths.js';
import { seededRandom } from '../random.js';
import { findServer } from '../remote.js';
import { scoreNew } from '../scoring/score.js';
import { Store } from '../store.js';
import { saveTopic } from '../topics/edit.js';
import { adoptionFiles } from './adoption.js';
import { demoCollector } from './collector.js';
import { isDemo, markDemo } from './flag.js';
import { generateMentions } from './mentions.js';
import { BRANDS, COMPARISON_SET, QUERIES } from './world.js';

/**
 * Bumped whenever the generator's output changes: `npm start` rebuilds a demo file written by an
 * older generator.
 */
export const DEMO_GENERATOR = 1;
export const DEFAULT_SEED = 20261123;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The first collection round, this long before now, stores everything older in one go. */
const BACKFILL_DAYS = 14;
/** RSS first, so a story's own feed is the original its Naver news and Reddit/HN copies point at. */
const SOURCE_ORDER = ['rss', 'naver', 'x', 'bluesky', 'mastodon', 'reddit', 'hackernews', 'youtube'];

export interface DemoOptions {
  /** The demo file to (re)build; written beside it first and renamed at the end. */
  path: string;
  seed: number;
  now: Date;
  /** Reporting time zone, port and alert rules of the process that will serve it. */
  config: Config;
  logger: Logger;
}

export interface DemoResult {
  path: string;
  seed: number;
  mentions: number;
  alerts: number;
  employees: number;
  seconds: number;
}

/**
 * Builds the demo database through the real pipeline: topics saved as a user would, ~90 days of
 * generated mentions stored by the collection runner (a backfill, then a round a day as the
 * scheduler would), each round scored, tagged and judged by the spike detector, and the adoption
 * export files imported by the importers. The file appears whole or not at all.
 */
export async function buildDemo(opts: DemoOptions): Promise<DemoResult> {
  const started = performance.now();
  if (findServer(opts.path))
    throw new UserError(
      `${opts.path} is being served right now; stop \`earshot serve\` first, then rebuild the demo`,
    );
  const temp = `${opts.path}.building`;
  const removeTemp = () => {
    rmSync(temp, { force: true });
    rmSync(`${temp}.wal`, { force: true });
  };
  removeTemp();
  // Progress of the pipeline's own steps is noise here: only warnings pass.
  const quiet = opts.logger.child({ demo: true }, { level: 'warn' });
  const store = await Store.open(temp, quiet);
  let result: Omit<DemoResult, 'seconds'>;
  try {
    result = await fill(store, opts, quiet);
    await store.closeGracefully();
  } catch (err) {
    store.close();
    removeTemp();
    throw err;
  }
  // A WAL left by the previous file would be replayed into the new one.
  rmSync(`${opts.path}.wal`, { force: true });
  renameSync(temp, opts.path);
  return { ...result, seconds: (performance.now() - started) / 1000 };
}

async function fill(store: Store, opts: DemoOptions, logger: Logger): Promise<Omit<DemoResult, 'seconds'>> {
  const now = opts.now.getTime();
  const rnd = seededRandom(opts.seed);
  // Webhooks of a real config never receive demo alerts.
  const config: Config = { ...opts.config, databasePath: opts.path, webhooks: [], sources: [], topics: [] };
  for (const b of BRANDS)
    await saveTopic(
      store,
      { id: b.id, name: b.en, keywords: [b.en, b.ko], query: QUERIES[b.id], comparisonSet: COMPARISON_SET },
      new Date(now - 91 * DAY),
    );

  const mentions = generateMentions(rnd, opts.now);
  let clock = now;
  let upTo = now;
  const deps: RunnerDeps = {
    store,
    logger,
    fetch: () => Promise.reject(new Error('the demo never uses the network')),
    now: () => new Date(clock),
    sleep: async () => {},
    signal: new AbortController().signal,
    maxRateLimitWaitMs: 0,
  };
  // Two collection rounds, as a scheduler would have run them: a backfill two weeks ago (the spike
  // detector's first pass judges only its last day) and one now, which judges every hour since.
  for (const round of [now - BACKFILL_DAYS * DAY, now]) {
    // Each round in two passes: all but the last hour, then the last hour 20 minutes later. The
    // rollup refresh re-reads mentions seen shortly before its watermark, so this keeps the next
    // round from recomputing every day of the backfill.
    for (const [pass, until] of [round - HOUR, round].entries()) {
      upTo = until;
      for (const [i, source] of SOURCE_ORDER.entries()) {
        clock = round + pass * 20 * 60_000 + (i + 1) * 60_000;
        await collectSource(
          {
            id: source,
            enabled: true,
            schedule: '*/15 * * * *',
            baseUrl: 'https://demo.invalid',
            settings: {},
          },
          deps,
          {},
          demoCollector(source, mentions, () => upTo),
        );
      }
    }
    clock = round + 30 * 60_000;
    await scoreNew({ store, timezone: config.timezone, logger, now: deps.now });
    await runAlerts({ store, config, logger, now: deps.now });
  }

  const files = adoptionFiles(rnd, opts.now);
  const imported = await importFiles(store, { kind: 'auto', files, now: new Date(clock) });
  await store.write(async (conn) => {
    await markDemo(conn, opts.seed);
    await conn.run(
      `INSERT OR REPLACE INTO database_info VALUES ('demo_generator', $1), ('demo_now', $2), ('demo_timezone', $3)`,
      [String(DEMO_GENERATOR), opts.now.toISOString(), config.timezone],
    );
  });
  const [counts] = await store.query(
    'SELECT (SELECT count(*) FROM mentions) AS mentions, (SELECT count(*) FROM alerts) AS alerts',
  );
  return {
    path: opts.path,
    seed: opts.seed,
    mentions: Number(counts?.mentions),
    alerts: Number(counts?.alerts),
    employees: imported.files.reduce((n, f) => n + (f.rows.employees ?? 0), 0),
  };
}

/**
 * Why the demo file must be rebuilt before it is served, or null when it is current. A file there
 * that is not a demo is refused: it may hold someone's real data.
 */
async function staleReason(path: string, config: Config, now: Date): Promise<string | null> {
  if (!existsSync(path)) return 'there is no demo database yet';
  const store = await Store.open(path);
  try {
    if (!(await isDemo(store)))
      throw new UserError(
        `${path} is not a demo database; move it away or set EARSHOT_DEMO_DB to another file`,
      );
    const info = new Map(
      (await store.query('SELECT key, value FROM database_info')).map((r) => [
        String(r.key),
        String(r.value),
      ]),
    );
    if (info.get('demo_generator') !== String(DEMO_GENERATOR))
      return 'it was made by an older demo generator';
    if (info.get('demo_timezone') !== config.timezone) return `its days are in ${info.get('demo_timezone')}`;
    // Charts default to the last days: a demo whose "now" is long past would show empty charts.
    if (now.getTime() - Date.parse(info.get('demo_now') ?? '') > DAY) return 'it is more than a day old';
    return null;
  } finally {
    store.close();
  }
}

/**
 * Makes sure the demo file at `path` exists and is current (generator version, time zone, at most a
 * day old), rebuilding it when not. Refuses a file at that path that is not a demo.
 */
export async function ensureDemo(
  path: string,
  config: Config,
  logger: Logger,
  now = new Date(),
): Promise<void> {
  const reason = await staleReason(path, config, now);
  if (reason === null) return;
  logger.info(`building the demo database (${reason}); this takes a little while`);
  const r = await buildDemo({ path, seed: DEFAULT_SEED, now, config, logger });
  logger.info(
    {
      mentions: r.mentions,
      alerts: r.alerts,
      employees: r.employees,
      seconds: Math.round(r.seconds * 10) / 10,
    },
    'demo database ready',
  );
}

/** The config `serve` runs with when nothing is configured: the demo file, built or refreshed first. */
export async function demoServeConfig(config: Config, logger: Logger): Promise<Config> {
  const path = config.demoPath ?? defaultDemoPath;
  await ensureDemo(path, config, logger);
  return { ...config, databasePath: path };
}
