import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readServerInfo } from '../../pipeline/remote.js';
import { Store } from '../../pipeline/store.js';
import { startServe } from '../helpers/cli.js';
import { startLoopback } from '../helpers/loopback.js';
import { tempDir } from '../helpers/store.js';
import { type ChaosCounts, chaosSource } from './chaos.js';

export interface SoakOptions {
  minutes: number;
  seed: number;
  clients: number;
  /** Stories emitted per second while the soak runs. */
  rate: number;
  /** How long, after emitting stops, the server may take to collect the rest. */
  drainMs: number;
  log?: (line: string) => void;
}

export interface SoakResult {
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
  windowSeconds: number;
  /** Resident set size of the server, MB: after warm-up (the first window) and at the end. */
  rssWarm: number;
  rssEnd: number;
  drainSeconds: number;
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

function p95(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? 0;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `earshot serve` against a chaos source for `minutes`, with dashboard clients on the mention
 * charts, then lets it collect what is left and compares the database with what was emitted.
 */
export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const log = opts.log ?? (() => undefined);
  const { dir, cleanup } = tempDir('earshot-soak-');
  // Three runs of each partition refused in a row (the default alert rule's streak) once two went through.
  const chaos = chaosSource(opts.seed, 2, STREAK);
  const api = await startLoopback(chaos.handler);
  const db = join(dir, 'soak.duckdb');
  const config = join(dir, 'earshot.yaml');
  // Every second: the scheduler's own random delay (up to 30 s) spaces the runs out.
  writeFileSync(
    config,
    `timezone: UTC
topics:
  - {id: acme, name: Acme, keywords: [acme], comparisonSet: soak}
  - {id: story, name: Story, keywords: [story], query: 'story NOT acme', comparisonSet: soak}
collection: {maxRateLimitWaitSeconds: 5}
sources:
  hackernews: {baseUrl: "${api.url}", hitsPerPage: 10, schedule: "* * * * * *"}
`,
  );
  const server = await startServe(
    { EARSHOT_CONFIG: config, EARSHOT_DB: db, PORT: '0', LOG_LEVEL: 'warn' },
    db,
  );
  const pid = server.child.pid ?? 0;
  try {
    const info = readServerInfo(db);
    if (!info) throw new Error('the server wrote no server file');
    const headers = { authorization: `Bearer ${info.token}` };
    const durationMs = opts.minutes * 60_000;
    const windowMs = Math.min(60_000, durationMs / 3);
    const started = performance.now();
    const until = started + durationMs;
    const latencies: { at: number; ms: number; chart: string }[] = [];
    const errors: Record<string, number> = {};
    const rss: { at: number; mb: number }[] = [];

    const emitter = setInterval(() => chaos.emit(), 1000 / opts.rate);
    const sampler = setInterval(() => rss.push({ at: performance.now() - started, mb: rssMb(pid) }), 1000);
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
      if (stored >= emitted.length && alerts.length >= PARTITIONS.length) break;
      if (performance.now() - drainStart > opts.drainMs) {
        log(`soak: gave up waiting after ${opts.drainMs} ms with ${stored} of ${emitted.length} stored`);
        break;
      }
      await sleep(1000);
    }
    const drainSeconds = Math.round((performance.now() - drainStart) / 1000);
    clearInterval(sampler);

    const stop = await server.stop('SIGTERM');
    if (stop.code !== 0) throw new Error(`the server did not stop cleanly: ${server.stderr()}`);
    const store = await Store.open(db);
    try {
      const ids = (await store.query("SELECT native_id FROM mentions WHERE source = 'hackernews'")).map((r) =>
        String(r.native_id),
      );
      const stored = new Set(ids);
      const wanted = new Set(emitted);
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
      const first = firstCalls.map((l) => l.ms);
      const last = lastCalls.map((l) => l.ms);
      const byChart = Object.fromEntries(
        CHARTS.map((c) => [
          c,
          [
            p95(firstCalls.filter((l) => l.chart === c).map((l) => l.ms)),
            p95(lastCalls.filter((l) => l.chart === c).map((l) => l.ms)),
          ].map(Math.round),
        ]),
      );
      const warm = rss.filter((r) => r.at >= windowMs && r.at < 2 * windowMs).map((r) => r.mb);
      const end = rss.filter((r) => r.at >= durationMs - windowMs && r.at < durationMs).map((r) => r.mb);
      return {
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
        p95First: Math.round(p95(first)),
        p95Last: Math.round(p95(last)),
        byChart,
        windowSeconds: Math.round(windowMs / 1000),
        rssWarm: Math.round(median(warm)),
        rssEnd: Math.round(median(end)),
        drainSeconds,
      };
    } finally {
      store.close();
    }
  } finally {
    if (server.child.exitCode === null) await server.stop('SIGKILL');
    await api.close();
    cleanup();
  }
}

/** The figures as the soak prints them. */
export function formatSoak(r: SoakResult, minutes: number): string {
  const ratio = r.p95First > 0 ? r.p95Last / r.p95First : 0;
  const growth = r.rssWarm > 0 ? ((r.rssEnd - r.rssWarm) / r.rssWarm) * 100 : 0;
  return [
    `soak: ${minutes} min, ${r.emitted} stories emitted, ${r.collected} collected (${r.distinct} distinct), ` +
      `${r.missing.length} missing, ${r.unexpected.length} unexpected: ${r.collected === r.emitted && r.missing.length === 0 ? 'collected == emitted' : 'MISMATCH'}`,
    `  chaos: ${JSON.stringify(r.chaos)}`,
    `  API: ${r.requests} chart calls, errors ${JSON.stringify(r.errors)}; p95 first ${r.windowSeconds} s ${r.p95First} ms, ` +
      `last ${r.windowSeconds} s ${r.p95Last} ms (x${ratio.toFixed(2)}, target <= 1.5)`,
    `  p95 per chart, first/last window (ms): ${Object.entries(r.byChart)
      .map(([c, [a, b]]) => `${c} ${a}/${b}`)
      .join(', ')}`,
    `  server RSS: ${r.rssWarm} MB after warm-up, ${r.rssEnd} MB at the end (${growth >= 0 ? '+' : ''}${growth.toFixed(1)}%, target < 10%)`,
    `  collection runs: ${JSON.stringify(r.runs)}; failure alerts: ${r.failureAlerts.map((a) => a.title).join('; ') || 'NONE'}`,
    `  drain after emitting stopped: ${r.drainSeconds} s`,
  ].join('\n');
}
