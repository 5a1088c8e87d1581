import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../../pipeline/paths.js';
import { callServer, readServerInfo, type ServerInfo } from '../../pipeline/remote.js';
import { Store } from '../../pipeline/store.js';
import { runCli, startServe } from '../helpers/cli.js';
import { hnSearch } from '../helpers/fake-hn.js';
import { startLoopback } from '../helpers/loopback.js';
import { tempDir } from '../helpers/store.js';
import { type ChaosCounts, chaosSource, historyHits } from './chaos.js';

export interface SoakOptions {
  minutes: number;
  seed: number;
  clients: number;
  /** Stories emitted per second while the soak runs. */
  rate: number;
  /** How long, after emitting stops, the server may take to collect the rest. */
  drainMs: number;
  /**
   * Stories collected (by `earshot collect`, the same pipeline) before the measured run, spread over
   * the `historyDays` before it, so the run measures a steady state instead of a database it multiplies.
   */
  history: number;
  historyDays: number;
  log?: (line: string) => void;
}

/** The server's memory at one moment, MB: the probe's figures, and DuckDB's own where sampled. */
export interface MemorySample {
  at: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

/**
 * Per minute of the measured run: chart calls and their p95, the machine's 1-minute load average at
 * its end (others share it), and memory (medians; the JS heap's minimum, what survived collections).
 */
export interface MemoryMinute {
  minute: number;
  calls: number;
  p95: number;
  load: number;
  rss: number;
  heapUsed: number;
  /** The JS heap V8 holds (median): it keeps what a busy minute grew it to, in use or not. */
  heapTotal: number;
  external: number;
  duckdb: number;
}

export interface SoakResult {
  /** History stories served before the measured run, and how many of them were stored. */
  history: number;
  historyCollected: number;
  historySeconds: number;
  /** The database file (and its WAL), MB: before the server starts, and after it stopped. */
  dbStart: number;
  dbEnd: number;
  /** DuckDB's own figures at the start and the end of the measured run (pragma database_size). */
  duckStart: DuckFigures;
  duckEnd: DuckFigures;
  /** The same once the server stopped (its last checkpoint folded the WAL in). */
  duckClosed: DuckFigures;
  /** DuckDB's memory by tag at the end, MB, the largest first. */
  duckTags: Record<string, number>;
  memory: MemoryMinute[];
  emitted: number;
  collected: number;
  distinct: number;
  /** Emitted stories missing from the database, and stored ones never emitted. */
  missing: string[];
  unexpected: string[];
  failureAlerts: { partition: string; title: string }[];
  /** Collection runs by status. */
  runs: Record<string, number>;
  chaos: ChaosCounts;
  requests: number;
  /** Answers other than 200, by status. */
  errors: Record<string, number>;
  /** Milliseconds; the windows are the first and the last minute (a third of shorter runs). */
  p95First: number;
  p95Last: number;
  /** p95 per chart: first and last window. */
  byChart: Record<string, number[]>;
  /** Median ms per chart asked alone (no other client of ours): before the load and after it. */
  alone: Record<string, number[]>;
  windowSeconds: number;
  /** Resident set size of the server, MB: after warm-up (the first window) and at the end. */
  rssWarm: number;
  rssEnd: number;
  /** The same split: JS heap in use (post-collection minimum), and DuckDB's buffer memory. */
  heapWarm: number;
  heapEnd: number;
  duckMemWarm: number;
  duckMemEnd: number;
  drainSeconds: number;
}

/** pragma database_size: the file's blocks in use and free (space freed by deletes, not returned). */
export interface DuckFigures {
  databaseSize: string;
  usedMb: number;
  freeMb: number;
  walSize: string;
  memoryUsage: string;
  memoryLimit: string;
}

/** The topics' keywords: the source collects one partition per keyword. */
export const PARTITIONS = ['acme', 'story'];
export const STREAK = 3;

const CHARTS = [
  'volume?topic=acme&grain=hour',
  'volume?topic=acme&grain=day&by=source',
  'share-of-voice?set=soak',
  'sentiment?topic=acme',
  'trending?topic=acme',
  'leaders?topic=acme',
  'search?topic=acme&q=story',
];

const TOPICS = `timezone: UTC
topics:
  - {id: acme, name: Acme, keywords: [acme], comparisonSet: soak}
  - {id: story, name: Story, keywords: [story], query: 'story NOT acme', comparisonSet: soak}
`;

function p95(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? 0;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const round1 = (n: number) => Math.round(n * 10) / 10;

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** The database file and its write-ahead log, MB. */
function fileMb(db: string): number {
  const size = (f: string) => (existsSync(f) ? statSync(f).size : 0);
  return round1((size(db) + size(`${db}.wal`)) / 1048576);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Asks the running server's own DuckDB (through the sql verb, like `earshot sql`). */
async function serverSql(info: ServerInfo, query: string): Promise<Record<string, unknown>[]> {
  const out = await callServer(info, 'sql', { query });
  return ((out?.value as { rows?: Record<string, unknown>[] } | undefined)?.rows ?? []) as Record<
    string,
    unknown
  >[];
}

/**
 * Each chart asked `times` times in a row with nothing else from us running: the query's own cost at
 * that moment (median ms), apart from the queueing 20 clients cause. Run before and after the load.
 */
async function serialProbe(
  url: string,
  headers: Record<string, string>,
  times = 5,
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const chart of CHARTS) {
    const ms: number[] = [];
    for (let i = 0; i < times; i++) {
      const t = performance.now();
      await (await fetch(`${url}/api/mentions/${chart}`, { headers })).arrayBuffer();
      ms.push(performance.now() - t);
    }
    out[chart] = Math.round(median(ms));
  }
  return out;
}

const DATABASE_SIZE = 'SELECT * FROM pragma_database_size()';

function duckFigures(r: Record<string, unknown> | undefined): DuckFigures {
  const mb = (blocks: unknown) => round1((Number(blocks) * Number(r?.block_size)) / 1048576);
  return {
    databaseSize: String(r?.database_size ?? '?'),
    usedMb: mb(r?.used_blocks),
    freeMb: mb(r?.free_blocks),
    walSize: String(r?.wal_size ?? '?'),
    memoryUsage: String(r?.memory_usage ?? '?'),
    memoryLimit: String(r?.memory_limit ?? '?'),
  };
}

async function duckMemoryByTag(info: ServerInfo): Promise<Record<string, number>> {
  const rows = await serverSql(
    info,
    'SELECT tag, memory_usage_bytes AS b FROM duckdb_memory() WHERE memory_usage_bytes > 0 ORDER BY b DESC',
  );
  return Object.fromEntries(rows.map((r) => [String(r.tag), round1(Number(r.b) / 1048576)]));
}

/**
 * How long before the soak the history was collected (its clock is set back so): the past, as on a
 * server that has run a while. Collected just before, it would lie for the run's first ten minutes
 * inside the windows the scoring, tag and rollup stages re-read behind their bookmarks (REREAD_SLACK
 * in pipeline/topics/tag.ts), which a steady state never has: the first run after a backfill reads
 * it once; these stages then read only what is new.
 */
const HISTORY_AGO_MS = 3_600_000;

/**
 * Collects `n` stories dated over the `days` before the history's collection (HISTORY_AGO_MS before
 * now) with `earshot collect` (collector, ingest, tagging and scoring, as the server would) from a
 * well-behaved loopback source, before the soak.
 */
async function preload(dir: string, db: string, n: number, days: number): Promise<number> {
  const collectedAt = Date.now() - HISTORY_AGO_MS;
  const hits = historyHits(n, days, Math.floor(collectedAt / 1000));
  const calm = await startLoopback(hnSearch(hits));
  try {
    const config = join(dir, 'history.yaml');
    writeFileSync(config, `${TOPICS}sources:\n  hackernews: {baseUrl: "${calm.url}", hitsPerPage: 1000}\n`);
    const r = await runCli(
      ['collect', 'hackernews'],
      {
        EARSHOT_CONFIG: config,
        EARSHOT_DB: db,
        LOG_LEVEL: 'warn',
        EARSHOT_NOW: new Date(collectedAt).toISOString(),
      },
      60 * 60_000,
    );
    if (r.code !== 0) throw new Error(`collecting the history failed: ${r.stderr}`);
  } finally {
    await calm.close();
  }
  const store = await Store.open(db);
  try {
    const [row] = await store.query("SELECT count(*) AS n FROM mentions WHERE source = 'hackernews'");
    return Number(row?.n ?? 0);
  } finally {
    store.close();
  }
}

/**
 * Runs `earshot serve` against a chaos source for `minutes`, with dashboard clients on the mention
 * charts, then lets it collect what is left and compares the database with what was emitted. The
 * database starts from `history` stories collected beforehand; the first window (a minute, a third of
 * shorter runs) is the warm-up: p95 is compared first vs last window, memory after it vs the last.
 */
export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const log = opts.log ?? (() => undefined);
  const { dir, cleanup } = tempDir('earshot-soak-');
  // Three runs of each partition refused in a row (the default alert rule's streak) once two went through.
  const chaos = chaosSource(opts.seed, 2, STREAK);
  const api = await startLoopback(chaos.handler);
  const db = join(dir, 'soak.duckdb');
  const config = join(dir, 'earshot.yaml');
  const probe = join(dir, 'memory.jsonl');
  let server: Awaited<ReturnType<typeof startServe>> | undefined;
  try {
    const historyStart = performance.now();
    const historyCollected = opts.history > 0 ? await preload(dir, db, opts.history, opts.historyDays) : 0;
    const historySeconds = Math.round((performance.now() - historyStart) / 1000);
    log(`soak: history of ${historyCollected} stories collected in ${historySeconds} s`);
    const dbStart = fileMb(db);
    // Every second: the scheduler's own random delay (up to 30 s) spaces the runs out.
    writeFileSync(
      config,
      `${TOPICS}collection: {maxRateLimitWaitSeconds: 5}
sources:
  hackernews: {baseUrl: "${api.url}", hitsPerPage: 10, schedule: "* * * * * *"}
`,
    );
    const probeUrl = pathToFileURL(join(projectRoot, 'dist', 'tests', 'soak', 'probe.js')).href;
    server = await startServe(
      {
        EARSHOT_CONFIG: config,
        EARSHOT_DB: db,
        PORT: '0',
        LOG_LEVEL: 'warn',
        EARSHOT_SOAK_PROBE: probe,
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${probeUrl}`.trim(),
      },
      db,
    );
    const pid = server.child.pid ?? 0;
    const info = readServerInfo(db);
    if (!info) throw new Error('the server wrote no server file');
    const headers = { authorization: `Bearer ${info.token}` };
    const duckStart = duckFigures((await serverSql(info, DATABASE_SIZE))[0]);
    const alone = { start: await serialProbe(info.url, headers), end: {} as Record<string, number> };
    const durationMs = opts.minutes * 60_000;
    const windowMs = Math.min(60_000, durationMs / 3);
    const started = performance.now();
    const until = started + durationMs;
    const latencies: { at: number; ms: number; chart: string }[] = [];
    const errors: Record<string, number> = {};
    const rss: { at: number; mb: number }[] = [];
    const duck: { at: number; mb: number }[] = [];
    const load: { at: number; avg: number }[] = [];
    const probeStart = Date.now();

    const emitter = setInterval(() => chaos.emit(), 1000 / opts.rate);
    const sampler = setInterval(() => {
      const at = performance.now() - started;
      rss.push({ at, mb: rssMb(pid) });
      load.push({ at, avg: loadavg()[0] ?? 0 });
    }, 1000);
    // DuckDB's buffer memory through the server's own connection, every 10 s.
    let duckSampling = true;
    const duckSampler = (async () => {
      while (duckSampling && performance.now() < until) {
        const at = performance.now() - started;
        const tags = await duckMemoryByTag(info);
        duck.push({ at, mb: Object.values(tags).reduce((a, b) => a + b, 0) });
        await sleep(10_000);
      }
    })();
    const progress = setInterval(
      () =>
        log(
          `soak: ${Math.round((performance.now() - started) / 1000)} s, ${chaos.emitted().length} emitted, ${latencies.length} API calls`,
        ),
      30_000,
    );
    const client = async (k: number) => {
      for (let i = k; performance.now() < until; i++) {
        const t = performance.now();
        const chart = CHARTS[i % CHARTS.length] ?? '';
        const res = await fetch(`${info.url}/api/mentions/${chart}`, { headers });
        await res.arrayBuffer();
        if (res.status === 200) latencies.push({ at: t - started, ms: performance.now() - t, chart });
        else errors[res.status] = (errors[res.status] ?? 0) + 1;
        // Think time: a person looking at a chart, not a load generator.
        await sleep(250 + ((i * 37) % 250));
      }
    };
    await Promise.all(Array.from({ length: opts.clients }, (_, k) => client(k)));
    clearInterval(emitter);
    clearInterval(progress);
    duckSampling = false;
    await duckSampler;
    const duckEnd = duckFigures((await serverSql(info, DATABASE_SIZE))[0]);
    alone.end = await serialProbe(info.url, headers);
    const duckTags = await duckMemoryByTag(info);

    // Emitting has stopped: wait for the server's own runs to catch up (a real signal, polled).
    const emitted = chaos.emitted();
    const drainStart = performance.now();
    for (;;) {
      const res = await fetch(`${info.url}/api/status`, { headers });
      const body = (await res.json()) as { sources: { source: string; mentions: number }[] };
      const stored = body.sources.find((s) => s.source === 'hackernews')?.mentions ?? 0;
      const { alerts } = (await (
        await fetch(`${info.url}/api/alerts?kind=collection_failure`, { headers })
      ).json()) as { alerts: unknown[] };
      if (stored >= historyCollected + emitted.length && alerts.length >= PARTITIONS.length) break;
      if (performance.now() - drainStart > opts.drainMs) {
        log(`soak: gave up waiting after ${opts.drainMs} ms with ${stored} of ${emitted.length} stored`);
        break;
      }
      await sleep(1000);
    }
    const drainSeconds = Math.round((performance.now() - drainStart) / 1000);
    clearInterval(sampler);

    const stop = await server.stop('SIGTERM');
    if (stop.code !== 0)
      throw new Error(
        `the server did not stop cleanly (exit code ${stop.code}, signal ${stop.signal}, after ${stop.ms} ms): ${server.stderr().slice(-4000)}`,
      );
    const dbEnd = fileMb(db);
    const probed = readFileSync(probe, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as MemorySample)
      .map((m) => ({ ...m, at: m.at - probeStart }));
    const store = await Store.open(db);
    try {
      const duckClosed = duckFigures((await store.query(DATABASE_SIZE))[0]);
      const all = (await store.query("SELECT native_id FROM mentions WHERE source = 'hackernews'")).map((r) =>
        String(r.native_id),
      );
      const wanted = new Set(emitted);
      const past = new Set(historyHits(opts.history, opts.historyDays, 0).map((h) => h.objectID));
      const ids = all.filter((id) => !past.has(id));
      const stored = new Set(ids);
      const failureAlerts = (
        await store.query("SELECT partition, title FROM alerts WHERE kind = 'collection_failure' ORDER BY id")
      ).map((r) => ({ partition: String(r.partition), title: String(r.title) }));
      const runs = Object.fromEntries(
        (await store.query('SELECT status, count(*) AS n FROM collection_runs GROUP BY ALL ORDER BY 1')).map(
          (r) => [String(r.status), Number(r.n)],
        ),
      );
      const firstCalls = latencies.filter((l) => l.at < windowMs);
      const lastCalls = latencies.filter((l) => l.at >= durationMs - windowMs);
      const byChart = Object.fromEntries(
        CHARTS.map((c) => [
          c,
          [
            p95(firstCalls.filter((l) => l.chart === c).map((l) => l.ms)),
            p95(lastCalls.filter((l) => l.chart === c).map((l) => l.ms)),
          ].map(Math.round),
        ]),
      );
      const within = <T extends { at: number }>(xs: T[], from: number, to: number) =>
        xs.filter((x) => x.at >= from && x.at < to);
      const minutes = Math.ceil(durationMs / windowMs);
      const memory = Array.from({ length: minutes }, (_, k) => {
        const [from, to] = [k * windowMs, (k + 1) * windowMs];
        const p = within(probed, from, to);
        const calls = within(latencies, from, to);
        return {
          minute: k + 1,
          calls: calls.length,
          p95: Math.round(p95(calls.map((l) => l.ms))),
          load: round1(within(load, from, to).at(-1)?.avg ?? 0),
          rss: Math.round(median(within(rss, from, to).map((r) => r.mb))),
          heapUsed: round1(Math.min(...p.map((m) => m.heapUsed), Number.POSITIVE_INFINITY)),
          heapTotal: round1(median(p.map((m) => m.heapTotal))),
          external: round1(median(p.map((m) => m.external))),
          duckdb: round1(median(within(duck, from, to).map((d) => d.mb))),
        };
      });
      const warm = memory[1] ?? memory[0];
      const end = memory.at(-1);
      return {
        history: opts.history,
        historyCollected,
        historySeconds,
        dbStart,
        dbEnd,
        duckStart,
        duckEnd,
        duckClosed,
        duckTags,
        memory,
        emitted: emitted.length,
        collected: ids.length,
        distinct: stored.size,
        missing: emitted.filter((id) => !stored.has(id)),
        unexpected: ids.filter((id) => !wanted.has(id)),
        failureAlerts,
        runs,
        chaos: { ...chaos.counts },
        requests: latencies.length,
        errors,
        p95First: Math.round(p95(firstCalls.map((l) => l.ms))),
        p95Last: Math.round(p95(lastCalls.map((l) => l.ms))),
        byChart,
        alone: Object.fromEntries(CHARTS.map((c) => [c, [alone.start[c] ?? 0, alone.end[c] ?? 0]])),
        windowSeconds: Math.round(windowMs / 1000),
        rssWarm: warm?.rss ?? 0,
        rssEnd: end?.rss ?? 0,
        heapWarm: warm?.heapUsed ?? 0,
        heapEnd: end?.heapUsed ?? 0,
        duckMemWarm: warm?.duckdb ?? 0,
        duckMemEnd: end?.duckdb ?? 0,
        drainSeconds,
      };
    } finally {
      store.close();
    }
  } finally {
    if (server && server.child.exitCode === null) await server.stop('SIGKILL');
    await api.close();
    cleanup();
  }
}

const pct = (from: number, to: number) => {
  const g = from > 0 ? ((to - from) / from) * 100 : 0;
  return `${g >= 0 ? '+' : ''}${g.toFixed(1)}%`;
};

/** The figures as the soak prints them. */
export function formatSoak(r: SoakResult, minutes: number): string {
  const ratio = r.p95First > 0 ? r.p95Last / r.p95First : 0;
  return [
    `soak: ${minutes} min after a history of ${r.history} stories (${r.historyCollected} collected in ${r.historySeconds} s, not counted below); ` +
      `warm-up = the first ${r.windowSeconds} s`,
    `  database: ${r.dbStart} MB at the start, ${r.dbEnd} MB at the end (${pct(r.dbStart, r.dbEnd)}); DuckDB size ` +
      `${r.duckStart.databaseSize} (used ${r.duckStart.usedMb} MB, free ${r.duckStart.freeMb} MB, WAL ${r.duckStart.walSize}) -> ` +
      `${r.duckEnd.databaseSize} (used ${r.duckEnd.usedMb}, free ${r.duckEnd.freeMb}, WAL ${r.duckEnd.walSize}) -> after stop ` +
      `${r.duckClosed.databaseSize} (used ${r.duckClosed.usedMb}, free ${r.duckClosed.freeMb}); ` +
      `buffer memory ${r.duckStart.memoryUsage} -> ${r.duckEnd.memoryUsage} (limit ${r.duckEnd.memoryLimit})`,
    `  ${r.emitted} stories emitted, ${r.collected} collected (${r.distinct} distinct), ` +
      `${r.missing.length} missing, ${r.unexpected.length} unexpected: ${r.collected === r.emitted && r.missing.length === 0 ? 'collected == emitted' : 'MISMATCH'}`,
    `  chaos: ${JSON.stringify(r.chaos)}`,
    `  API: ${r.requests} chart calls, errors ${JSON.stringify(r.errors)}; p95 first ${r.windowSeconds} s ${r.p95First} ms, ` +
      `last ${r.windowSeconds} s ${r.p95Last} ms (x${ratio.toFixed(2)}, target <= 1.5)`,
    `  p95 per chart, first/last window (ms): ${Object.entries(r.byChart)
      .map(([c, [a, b]]) => `${c} ${a}/${b}`)
      .join(', ')}`,
    `  each chart alone, median of 5, before/after the load (ms): ${Object.entries(r.alone)
      .map(([c, [a, b]]) => `${c} ${a}/${b}`)
      .join(', ')}`,
    `  server RSS: ${r.rssWarm} MB after warm-up, ${r.rssEnd} MB at the end (${pct(r.rssWarm, r.rssEnd)}, target < 10%); ` +
      `of which JS heap in use ${r.heapWarm} -> ${r.heapEnd} MB (${pct(r.heapWarm, r.heapEnd)}), DuckDB buffers ${r.duckMemWarm} -> ${r.duckMemEnd} MB`,
    '  per window: calls, p95 ms, load average; server MB: RSS / JS heap min / JS heap held / external / DuckDB buffers',
    ...r.memory.map(
      (m) =>
        `    ${m.minute}: ${m.calls} calls, p95 ${m.p95} ms, load ${m.load}; ${m.rss} / ${m.heapUsed} / ${m.heapTotal} / ${m.external} / ${m.duckdb}`,
    ),
    `  DuckDB memory by tag at the end (MB): ${JSON.stringify(r.duckTags)}`,
    `  collection runs: ${JSON.stringify(r.runs)}; failure alerts: ${r.failureAlerts.map((a) => a.title).join('; ') || 'NONE'}`,
    `  drain after emitting stopped: ${r.drainSeconds} s`,
  ].join('\n');
}
