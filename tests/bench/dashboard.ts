/**
 * npm run bench:dashboard [-- --mentions N] [--seconds S] [--only route,route] [--connections C]
 *
 * The dashboard under load: a database of N mentions (default 10,000,000) over one year, built
 * once and cached under data/bench/ (git-ignored; rebuilt when GENERATOR_VERSION or N changes, see
 * dashboard-data.ts), served by the real app (createApp on 127.0.0.1) and driven by autocannon
 * (in a child process of its own, load.ts) with 20 concurrent connections (the figure; C
 * to see a route's latency with fewer clients, 1 for its time alone), route by route, S seconds
 * each (default 10). Every request varies topic, range (24 h, 7 d, 90 d, 1 y; hourly buckets for
 * the short ranges, daily for the long ones as the comms view asks), filters and the window's end
 * minute, so no two requests in a row ask the same thing and a cache cannot carry the figures. Prints p50/p95 per route against the targets
 * (p95 < 100 ms; text search < 500 ms), the process CPU per request (the machine may be shared:
 * CPU is steadier than wall time), and the gzipped first page load when web assets exist.
 * Auth: a browser's session cookie, of an admin signed in with a password (user "bench", given a new
 * random password each run), as the dashboard's pages send it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { sleep } from '../../collectors/runner.js';
import { createApp } from '../../dashboard/app.js';
import { SESSION_COOKIE } from '../../dashboard/auth.js';
import { SECTIONS } from '../../pipeline/adoption/render.js';
import { signIn } from '../../pipeline/auth/sessions.js';
import { addUser, listUsers, updateUser } from '../../pipeline/auth/users.js';
import { loadConfig } from '../../pipeline/config.js';
import { silentLogger } from '../../pipeline/logger.js';
import { projectRoot } from '../../pipeline/paths.js';
import type { Store } from '../../pipeline/store.js';
import { type Services, SourceLocks } from '../../pipeline/verbs.js';
import { buildDashboardData, END, GENERATOR_VERSION, SETS, TIMEZONE, TOPICS } from './dashboard-data.js';
import { runLoad } from './load.js';
import { openBenchStore } from './store.js';

const HOUR = 3_600_000;
const RANGES = [
  { name: '24h', ms: 24 * HOUR, grain: 'hour' },
  { name: '7d', ms: 7 * 24 * HOUR, grain: 'hour' },
  { name: '90d', ms: 90 * 24 * HOUR, grain: 'day' },
  { name: '1y', ms: 365 * 24 * HOUR, grain: 'day' },
] as const;
const WORDS = [
  'battery',
  'refund',
  'outage',
  'recall',
  'update',
  'camera',
  '배터리',
  '환불',
  '리콜',
  '업데이트',
];
const SOURCE_NAMES = ['x', 'naver', 'reddit', 'rss', 'youtube', 'bluesky'];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Request number k of a route: a different topic, range and end minute each time. */
function variant(k: number) {
  const range = RANGES[k % RANGES.length] as (typeof RANGES)[number];
  const topic = TOPICS[(k * 7) % TOPICS.length]?.id ?? '*';
  // The window ends up to two days before the data's end, on a different minute each time.
  const to = new Date(END.getTime() - ((k * 7919) % (48 * 60)) * 60_000);
  const from = new Date(to.getTime() - range.ms);
  return { range, topic, window: `from=${from.toISOString()}&to=${to.toISOString()}`, k };
}

type Route = { name: string; target: number; path: (k: number) => string };

function routes(cursors: string[]): Route[] {
  const chart = (name: string, extra: (v: ReturnType<typeof variant>) => string = () => ''): Route => ({
    name: `comms ${name}`,
    target: 100,
    path: (k) => {
      const v = variant(k);
      return `/api/mentions/${name}?topic=${v.topic}&grain=${v.range.grain}&${v.window}${extra(v)}`;
    },
  });
  const enc = encodeURIComponent;
  return [
    chart('volume', () => '&by=sentiment'),
    {
      name: 'comms share-of-voice',
      target: 100,
      path: (k) => {
        const v = variant(k);
        return `/api/mentions/share-of-voice?set=${SETS[k % SETS.length]}&grain=${v.range.grain}&${v.window}`;
      },
    },
    chart('sentiment'),
    chart('sources'),
    chart('trending'),
    chart('leaders'),
    chart(
      'stream',
      (v) =>
        [
          '',
          `&source=${SOURCE_NAMES[v.k % SOURCE_NAMES.length]}`,
          `&lang=${v.k % 2 === 0 ? 'ko' : 'en'}`,
          `&sentiment=${['negative', 'positive', 'neutral'][v.k % 3]}`,
          `&source=x&sentiment=negative&lang=${v.k % 2 === 0 ? 'ko' : 'en'}`,
        ][v.k % 5] ?? '',
    ),
    {
      name: 'comms stream, next page',
      target: 100,
      path: (k) =>
        `/api/mentions/stream?before=${enc(cursors[k % cursors.length] ?? '')}&${variant(k).window}`,
    },
    ...SECTIONS.map(
      (s): Route => ({
        name: `leadership ${s}`,
        target: 100,
        path: (k) =>
          `/api/adoption/${s}?window=${[7, 28, 56, 90][k % 4]}d${k % 3 === 0 ? '&by=department' : ''}`,
      }),
    ),
    { name: 'ops status', target: 100, path: () => '/api/status' },
    { name: 'ops alerts', target: 100, path: (k) => `/api/alerts?limit=${20 + (k % 30)}` },
    {
      name: 'search',
      target: 500,
      path: (k) => {
        const v = variant(k);
        const q =
          k % 3 === 0
            ? `${WORDS[k % WORDS.length]} ${WORDS[(k + 3) % WORDS.length]}`
            : WORDS[k % WORDS.length];
        return `/api/mentions/search?q=${enc(q ?? '')}&topic=${k % 2 === 0 ? '*' : v.topic}&${v.window}`;
      },
    },
    {
      name: 'stream with text search',
      target: 500,
      path: (k) => {
        const v = variant(k);
        return `/api/mentions/stream?q=${enc(WORDS[k % WORDS.length] ?? '')}&topic=${v.topic}&${v.window}`;
      },
    },
  ];
}

interface Measured {
  name: string;
  target: number;
  requests: number;
  errors: number;
  p50: number;
  p95: number;
  /** The server's process CPU (its JavaScript and DuckDB's threads) per answered request. */
  cpuMs: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function drive(
  base: string,
  cookie: string,
  route: Route,
  load: { seconds: number; connections: number },
  idle: () => Promise<void>,
): Promise<Measured> {
  // More paths than any run sends at these rates; each distinct from the one before.
  const paths = Array.from({ length: load.seconds * 2000 }, (_, k) => route.path(k));
  const cpu = process.cpuUsage();
  const { times, errors } = await runLoad({ base, cookie, paths, ...load });
  // Requests cut off at the end are still queued in the server: let them finish before the next
  // route, so one route's backlog is never measured against another.
  await idle();
  const used = process.cpuUsage(cpu);
  times.sort((a, b) => a - b);
  return {
    name: route.name,
    target: route.target,
    requests: times.length,
    errors,
    p50: Math.round(percentile(times, 50)),
    p95: Math.round(percentile(times, 95)),
    cpuMs: (used.user + used.system) / 1000 / Math.max(1, times.length),
  };
}

/** HTML + same-origin JS and CSS of the comms view, gzipped; null when the app serves no page. */
async function firstLoad(base: string, cookie: string): Promise<string | null> {
  const auth = { cookie };
  const page = await fetch(`${base}/comms`, { headers: auth });
  if (!page.ok || !(page.headers.get('content-type') ?? '').includes('html')) return null;
  const html = await page.text();
  const assets = [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*\shref)="(\/[^"]+)"/g)].map(
    (m) => m[1] as string,
  );
  let total = gzipSync(html).length;
  const parts = [`html ${gzipSync(html).length} B`];
  for (const a of assets.filter((x) => /\.(m?js|css)(\?|$)/.test(x))) {
    const body = Buffer.from(await (await fetch(`${base}${a}`, { headers: auth })).arrayBuffer());
    total += gzipSync(body).length;
    parts.push(`${a} ${gzipSync(body).length} B`);
  }
  return `${(total / 1024).toFixed(1)} KB gzipped (target < 300 KB): ${parts.join(', ')}`;
}

/** The cached database for N mentions, built first when missing or from another generator version. */
async function benchStore(mentions: number): Promise<{ store: Store; path: string }> {
  const dir = join(projectRoot, 'data', 'bench');
  mkdirSync(dir, { recursive: true });
  const name = `dashboard-v${GENERATOR_VERSION}-${mentions}.duckdb`;
  const path = join(dir, name);
  // Databases of older generator versions are never read again.
  for (const f of readdirSync(dir)) {
    if (/^(building-)?dashboard-v\d+-/.test(f) && !f.includes(`dashboard-v${GENERATOR_VERSION}-`))
      rmSync(join(dir, f), { force: true });
  }
  if (!existsSync(path)) {
    const building = join(dir, `building-${name}`);
    rmSync(building, { force: true });
    rmSync(`${building}.wal`, { force: true });
    process.stderr.write(`building ${mentions.toLocaleString('en')} mentions into ${path} (once)...\n`);
    const store = await openBenchStore(building);
    await buildDashboardData(store, config(building), mentions, (line) => process.stderr.write(`${line}\n`));
    await store.closeGracefully();
    // Only a finished build gets the name the next run looks for.
    renameSync(building, path);
  }
  return { store: await openBenchStore(path), path };
}

/** The session cookie of user "bench", an admin (added, or given a new password), signed in at END. */
async function adminCookie(store: Store): Promise<string> {
  const name = 'bench';
  const password = randomBytes(18).toString('base64url');
  if ((await listUsers(store)).some((u) => u.name === name)) {
    await updateUser(store, name, { password }, name, END);
  } else {
    await addUser(store, { name, role: 'admin', password }, name, END);
  }
  const session = await signIn(store, { name, password }, END);
  if (session === null) throw new Error('bench: could not sign in');
  return `${SESSION_COOKIE}=${session.token}`;
}

function config(path: string) {
  return { ...loadConfig({ EARSHOT_DB: path, EARSHOT_CONFIG: '' }), timezone: TIMEZONE };
}

async function main(): Promise<void> {
  const mentions = Number(arg('mentions') ?? 10_000_000);
  const seconds = Number(arg('seconds') ?? 10);
  const connections = Number(arg('connections') ?? 20);
  if (!Number.isInteger(connections) || connections < 1)
    throw new Error('--connections: give a whole number >= 1');
  // Whole words of a route's name: "leaders" picks the comms chart, not the leadership routes.
  const only = arg('only')
    ?.split(',')
    .map((o) => new RegExp(`\\b${o.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`));
  const { store, path } = await benchStore(mentions);
  const [count] = await store.query('SELECT count(*) AS n FROM mentions');
  const services: Services = {
    config: config(path),
    store,
    logger: silentLogger,
    fetch,
    now: () => END,
    sleep,
    signal: new AbortController().signal,
    locks: new SourceLocks(),
  };
  const app = createApp({ services, logger: silentLogger, getLocalToken: () => '' });
  const cookie = await adminCookie(store);
  // Counts requests until their handler answers (even a client autocannon has abandoned), to wait
  // for a route's backlog to drain before the next one.
  let busy = 0;
  const drained: Array<() => void> = [];
  const server = createServer((req, res) => {
    busy++;
    const end = res.end.bind(res);
    res.end = ((...args: Parameters<typeof end>) => {
      if (--busy === 0) for (const done of drained.splice(0)) done();
      return end(...args);
    }) as typeof res.end;
    app(req, res);
  }).listen(0, '127.0.0.1');
  const idle = () => (busy === 0 ? Promise.resolve() : new Promise<void>((r) => drained.push(r)));
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // Second pages need cursors the server gave out.
  const cursors: string[] = [];
  for (let k = 0; k < 12; k++) {
    const res = await fetch(`${base}/api/mentions/stream?topic=${variant(k).topic}&${variant(k).window}`, {
      headers: { cookie },
    });
    const next = ((await res.json()) as { next?: string | null }).next;
    if (next) cursors.push(next);
  }
  const results: Measured[] = [];
  for (const route of routes(cursors).filter((r) => !only || only.some((o) => o.test(r.name)))) {
    const m = await drive(base, cookie, route, { seconds, connections }, idle);
    results.push(m);
    process.stderr.write(
      `${m.name}: p50 ${m.p50} ms, p95 ${m.p95} ms, CPU ${m.cpuMs.toFixed(1)} ms/request (${m.requests} requests, ${m.errors} errors)\n`,
    );
  }
  const load = await firstLoad(base, cookie);
  server.close();
  store.close();
  const met = (m: Measured) =>
    m.requests === 0
      ? '**none answered in time**'
      : m.errors > 0
        ? '**errors**'
        : m.p95 < m.target
          ? 'yes'
          : '**no**';
  process.stdout.write(
    [
      `dashboard benchmark: ${Number(count?.n).toLocaleString('en')} mentions over a year, ${TOPICS.length} topics, ` +
        `${connections} connections, ${seconds} s per route, reporting zone ${TIMEZONE}`,
      '',
      '| route | requests | errors | p50 ms | p95 ms | CPU ms/request | target p95 | met |',
      '|---|---|---|---|---|---|---|---|',
      ...results.map(
        (m) =>
          `| ${m.name} | ${m.requests} | ${m.errors} | ${m.p50} | ${m.p95} | ${m.cpuMs.toFixed(1)} | < ${m.target} | ${met(m)} |`,
      ),
      '',
      `first page load: ${load ?? 'no /comms page in this build (dashboard/web not present)'}`,
      '',
    ].join('\n'),
  );
  // Connections autocannon abandoned may hold the server open.
  process.exit(0);
}

await main();
