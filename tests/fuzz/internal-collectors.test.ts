/**
 * The internal-metrics collectors (Microsoft Graph reports, Slack analytics, Salesforce Chatter) run
 * through the real runner into a real database while their fake API, one answer at a time or from
 * one answer on, is damaged: token answers, report redirects, CSV downloads, gzip NDJSON files, error
 * bodies and SOQL pages. Each run ends ok, or with our own error and nothing written.
 */
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImportError } from '../../collectors/imports/csv.js';
import { collectorOf } from '../../collectors/registry.js';
import { collectSource, type PartitionResult } from '../../collectors/runner.js';
import { SourceError, UserError } from '../../pipeline/errors.js';
import { redact, Secret } from '../../pipeline/secrets.js';
import type { Store } from '../../pipeline/store.js';
import { FakeClock } from '../helpers/clock.js';
import * as graph from '../helpers/fake-graph.js';
import * as salesforce from '../helpers/fake-salesforce.js';
import * as slack from '../helpers/fake-slack.js';
import { type Handler, type Loopback, type Reply, type Request, startLoopback } from '../helpers/loopback.js';
import { sourceConfig, testDeps } from '../helpers/runner.js';
import { baseTables, tablesFingerprint } from '../helpers/store.js';
import { openWithDirectory } from '../imports/helpers.js';
import { weirdString, weirdValue } from './arbitraries.js';
import { apply, type Edit, edit, jsonMutation, type Mutation, mutate, type Wrap, wrap } from './mutations.js';
import { options, runs, settleAsync, timeoutFor } from './runs.js';

/** A copy of a credential: the bearer-token cache is keyed by the Secret object, so no token outlives its case. */
const fresh = (s: Secret) => new Secret(s.name, s.reveal());

interface Target {
  source: string;
  start: Date;
  /** One case's settings and partition; `pick` chooses among the collector's reports, modes or partitions. */
  settings: (pick: number) => { settings: Record<string, unknown>; partition: string };
  /** The source's fake API for one case, served at `url`; `pick` as for settings. */
  fake: (clock: FakeClock, url: string, pick: number) => Handler;
  /** The answers the collector reads with `redirect: 'manual'`: only their Location may point off the server. */
  manualRedirect: (req: Request) => boolean;
  /** How many requests a clean run of one partition makes (token included), so damage mostly lands on one. */
  requests: number;
  /** Field names of the source's JSON answers, for mutations. */
  keys: string[];
  /** Whether its answers link to a next page (nextRecordsUrl), which damage then points elsewhere. */
  paging: boolean;
}

const GRAPH_REPORTS = [
  'getYammerActivityUserDetail',
  'getYammerGroupsActivityDetail',
  'getTeamsUserActivityUserDetail',
];
const CHATTER_PARTITIONS = ['User', 'ChatterActivity', 'Feed'];

// Each case collects one partition whose clean run is one batch: a failed run must then write nothing.
const TARGETS: Target[] = [
  {
    source: 'graph-reports',
    start: new Date('2026-04-14T07:00:00Z'),
    settings: (pick) => {
      const report = GRAPH_REPORTS[pick % GRAPH_REPORTS.length] as string;
      return {
        settings: {
          tenant: graph.TENANT,
          clientId: 'app-1234',
          clientSecret: fresh(graph.CLIENT_SECRET),
          reports: [report],
          backfillDays: 1,
          ...(pick % 2 === 0 ? {} : { period: 'D7' }),
        },
        partition: report,
      };
    },
    fake: (clock, url) => graph.graphHandler({ concealedFrom: '9999-12-31', faults: [] }, () => url)(clock),
    manualRedirect: (req) => req.url.pathname.startsWith('/v1.0/reports/'),
    requests: 3,
    paging: false,
    keys: ['access_token', 'expires_in', 'token_type', 'error', 'error_description'],
  },
  {
    source: 'slack-analytics',
    start: new Date('2026-04-18T03:00:00Z'),
    settings: () => ({ settings: { token: fresh(slack.TOKEN), backfillDays: 1 }, partition: 'member' }),
    // The day's file, or one of the JSON answers the collector reads as "not yet" or "never".
    fake: (clock, _url, pick) =>
      slack.slackHandler({
        ready: () => pick % 3 === 0,
        ...(pick % 3 === 2 ? { error: 'data_not_available' } : {}),
        faults: [],
      })(clock),
    manualRedirect: () => false,
    requests: 1,
    paging: false,
    keys: ['ok', 'error', 'date', 'user_id', 'email_address', 'messages_posted_count'],
  },
  {
    source: 'chatter',
    start: new Date('2026-04-10T06:00:00Z'),
    settings: (pick) => ({
      settings: { clientId: fresh(salesforce.CLIENT_ID), clientSecret: fresh(salesforce.CLIENT_SECRET) },
      partition: CHATTER_PARTITIONS[pick % CHATTER_PARTITIONS.length] as string,
    }),
    fake: () =>
      salesforce.salesforceHandler({ data: salesforce.org(), faults: [], staticValid: true, queries: [] })(),
    manualRedirect: () => false,
    requests: 7,
    paging: true,
    keys: [
      'access_token',
      'records',
      'done',
      'nextRecordsUrl',
      'totalSize',
      'Id',
      'Email',
      'CreatedDate',
      'CreatedById',
      'FeedItemId',
      'PostCount',
      'SystemModstamp',
    ],
  },
];

/**
 * Where a damaged Location or nextRecordsUrl points: the request itself or the one before (loops),
 * a missing page, another host, a path climbing out, or any string.
 */
const place = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'self',
      'self',
      'self',
      'previous',
      'previous',
      '/nowhere',
      '/services/data/v60.0/query/01gNOSUCHCURSOR-2',
      '/services/data/../oauth2/token',
      'https://graph.example.invalid/download?sig=preauth',
      'http://10.0.0.1/',
      '//evil.example/services/data/',
      'file:///etc/passwd',
      'http://',
      '//',
      'https://[::1',
    ),
  },
  { weight: 1, arbitrary: weirdString },
);

type Damage =
  | { kind: 'status'; status: number }
  | { kind: 'content-type'; value: string }
  | { kind: 'cut'; at: number }
  | { kind: 'bytes'; flips: [number, number][] }
  | { kind: 'json'; mutations: Mutation[] }
  | { kind: 'text'; edits: Edit[]; wrap: Wrap }
  | { kind: 'redirect'; status: number; to: string }
  | { kind: 'next-page'; to: string; done: unknown };

const damage = (t: Target): fc.Arbitrary<Damage> =>
  fc.oneof(
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('status' as const),
        status: fc.constantFrom(200, 201, 204, 304, 400, 401, 403, 404, 408, 410, 429, 500, 503),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('content-type' as const),
        value: fc.constantFrom('text/html', 'application/gzip', 'application/json; charset=euc-kr', ''),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('cut' as const), at: fc.nat(4000) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('bytes' as const),
        flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('json' as const),
        mutations: fc.array(jsonMutation(t.keys), { minLength: 1, maxLength: 4 }),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('text' as const),
        edits: fc.array(edit, { minLength: 1, maxLength: 4 }),
        wrap: fc.constantFrom<Wrap>(
          'plain',
          'plain',
          'gzip',
          'gzip',
          'bom',
          'broken-gzip',
          'euc-kr',
          'utf16le',
        ),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('redirect' as const),
        status: fc.constantFrom(301, 302, 303, 307, 308),
        to: place,
      }),
    },
    {
      weight: t.paging ? 3 : 0,
      arbitrary: fc.record({
        kind: fc.constant('next-page' as const),
        to: place,
        done: fc.oneof(fc.constant(false), weirdValue),
      }),
    },
  );

interface Case {
  pick: number;
  /** The request damaged (counting from 0, token request included), or the first damaged when sticky. */
  at: number;
  /** Every answer from `at` on is damaged alike: retries meet the same fault, a loop never ends by itself. */
  sticky: boolean;
  damage: Damage;
}

const caseOf = (t: Target): fc.Arbitrary<Case> =>
  fc.record({ pick: fc.nat(5), at: fc.nat(t.requests), sticky: fc.boolean(), damage: damage(t) });

let server: Loopback;
let answer: Handler = () => ({ status: 404 });
/** Addresses the collectors asked for that the guard refused: anything but the loopback server. */
const refused: string[] = [];

/** fetch limited to the loopback server; any other address fails as an unreachable host does. */
const guardedFetch: typeof fetch = async (input, init) => {
  const href = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  if (new URL(href).origin !== new URL(server.url).origin) {
    refused.push(href);
    throw new TypeError('fetch failed', { cause: new Error(`the fuzz test reaches only ${server.url}`) });
  }
  return fetch(input, init);
};

const path = (req: Request) => req.url.pathname + req.url.search;

/**
 * `reply` damaged as `d` says. A Location on an answer fetch follows by itself never leaves the
 * server (fetch would follow it before the guard saw it); answers read with redirect 'manual' may
 * point anywhere, since the collector's own request for it goes through the guard.
 */
function damaged(reply: Reply, req: Request, d: Damage, previous: string, manual: boolean): Reply {
  const body = Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(reply.body ?? '');
  const target = (to: string) => (to === 'self' ? path(req) : to === 'previous' ? previous : to);
  const json = (change: (value: unknown) => unknown): Reply => {
    try {
      return { ...reply, body: JSON.stringify(change(JSON.parse(body.toString('utf8')))) };
    } catch {
      return reply;
    }
  };
  switch (d.kind) {
    case 'status':
      return { ...reply, status: d.status };
    case 'content-type':
      return { ...reply, headers: { ...reply.headers, 'content-type': d.value } };
    case 'cut':
      return { ...reply, body, cutAfter: d.at % (body.length + 1) };
    case 'bytes': {
      const copy = Buffer.from(body);
      for (const [at, v] of d.flips) if (copy.length > 0) copy[at % copy.length] = v;
      return { ...reply, body: copy };
    }
    case 'json':
      return json((value) => d.mutations.reduce(mutate, value));
    case 'text': {
      const gzipped = body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b;
      const text = (gzipped ? gunzipSync(body) : body).toString('utf8');
      return { ...reply, body: wrap(d.edits.reduce(apply, text), d.wrap) };
    }
    case 'redirect': {
      let location = target(d.to);
      try {
        if (!manual && new URL(location, server.url).origin !== new URL(server.url).origin)
          location = path(req);
      } catch {
        // Not a URL: fetch cannot follow it anywhere either.
      }
      return { status: d.status, headers: { location }, body: '' };
    }
    case 'next-page':
      return json((value) =>
        value !== null && typeof value === 'object' && !Array.isArray(value)
          ? { ...value, done: d.done, nextRecordsUrl: target(d.to) }
          : value,
      );
  }
}

const OUR_ERRORS = new Set([SourceError.name, UserError.name, ImportError.name]);

/** The class and message of what the runner logged as the run's failure ("SourceError: ..."). */
function loggedFailure(lines: readonly string[]): string {
  for (const line of lines) {
    const entry = JSON.parse(line) as { msg?: string; err?: string };
    if (entry.msg === 'collection failed') return String(entry.err).split('\n')[0] ?? '';
  }
  return 'no failure logged';
}

let store: Store;
let cleanup: () => void;
/** Every table but collection_runs, which records each run, failed or not. */
let tables: string[];
let last: string;

/** Forgets the runs and bookmarks a case left, so every case starts as a first run. */
async function reset(): Promise<void> {
  await store.write(async (conn) => {
    await conn.run('DELETE FROM bookmarks');
    await conn.run('DELETE FROM collection_runs');
  });
}

beforeAll(async () => {
  // The org directory, so Salesforce users resolve to employees.
  ({ store, cleanup } = await openWithDirectory());
  tables = (await baseTables(store)).filter((t) => t !== 'collection_runs');
  last = await tablesFingerprint(store, tables);
  server = await startLoopback((req) => answer(req));
});
afterAll(async () => {
  await server.close();
  cleanup();
});

/** One run of case `c`'s partition against the damaged fake, under the hang guard; its result and log lines. */
async function collect(t: Target, c: Case) {
  const clock = new FakeClock(t.start.getTime());
  const fake = t.fake(clock, server.url, c.pick);
  let seen = 0;
  let hits = 0;
  let previous = '/';
  answer = async (req) => {
    const i = seen++;
    const reply = await fake(req);
    const hit = c.sticky ? i >= c.at : i === c.at;
    if (hit) hits++;
    const out = hit ? damaged(reply, req, c.damage, previous, t.manualRedirect(req)) : reply;
    previous = path(req);
    return out;
  };
  const { settings, partition } = t.settings(c.pick);
  const source = sourceConfig(t.source, server.url, collectorOf(t.source).configSchema.parse(settings));
  const controller = new AbortController();
  const { deps, lines } = testDeps(store, clock, { fetch: guardedFetch, signal: controller.signal });
  const outcome = await settleAsync(`${t.source} ${partition}`, () =>
    collectSource(source, deps, { partition }),
  );
  // A run the hang guard gave up on stops at its next request instead of paging on behind the next case.
  controller.abort();
  // collectSource records a source's failure and returns; throwing is a crash.
  if (!outcome.ok) throw outcome.error;
  const [result] = outcome.value;
  if (!result) throw new Error(`${t.source} ran no partition ${partition}`);
  return { result, lines, undamaged: hits === 0 };
}

/** How the cases of the property running now ended. */
const outcomes = new Set<string>();

/** Runs case `c` and checks how it ended: ok, or our error (logged as such) with nothing written. */
async function check(t: Target, c: Case): Promise<PartitionResult> {
  const { result, lines, undamaged } = await collect(t, c);
  outcomes.add(result.status);
  // Else a fake that stopped matching its collector would fail every case, and pass.
  if (undamaged) expect(result.status, result.error ?? '').toBe('ok');
  if (result.status === 'ok') {
    await reset();
    last = await tablesFingerprint(store, tables);
    return result;
  }
  expect(result.status, result.error ?? '').toMatch(/^(error|rate_limited)$/);
  expect(result.error).toMatch(/\S/);
  if (result.status === 'error') {
    const failure = loggedFailure(lines);
    expect(OUR_ERRORS.has(failure.split(':')[0] ?? ''), failure).toBe(true);
  }
  expect(await tablesFingerprint(store, tables), `after: ${result.error}`).toBe(last);
  await reset();
  return result;
}

describe.each(TARGETS)('collector $source against a damaged API (fuzz)', (t) => {
  const n = runs(200);
  it(
    'ends ok, or with our error writing nothing, within the time limit',
    async () => {
      outcomes.clear();
      await fc.assert(
        fc.asyncProperty(caseOf(t), async (c) => {
          await check(t, c);
        }),
        options(n, 100),
      );
      // The damage is neither too weak nor too strong: some runs end ok, some in an error.
      if (n >= 50) expect([...outcomes].sort()).toEqual(expect.arrayContaining(['error', 'ok']));
    },
    timeoutFor(n, 100),
  );
});

const target = (source: string) => TARGETS.find((t) => t.source === source) as Target;

it('follows a Graph download location off the loopback server only as far as the guard, which refuses it', async () => {
  const c: Case = {
    pick: 0,
    at: 1,
    sticky: false,
    damage: { kind: 'redirect', status: 302, to: 'http://10.0.0.1/report.csv' },
  };
  refused.length = 0;
  expect((await check(target('graph-reports'), c)).error).toBe(
    'request to 10.0.0.1 failed: fetch failed (gave up after 6 tries)',
  );
  expect(refused).toEqual(Array(6).fill('http://10.0.0.1/report.csv'));
});

// Found by the property above: a report answer whose Location is no URL ("//") failed the run with a
// bare TypeError "Invalid URL", naming neither Graph nor the report.
it('refuses a Graph report redirect to a location that is not a URL, writing nothing (regression)', async () => {
  const c: Case = { pick: 0, at: 1, sticky: false, damage: { kind: 'redirect', status: 302, to: '//' } };
  expect((await check(target('graph-reports'), c)).error).toBe(
    'Microsoft Graph answered 302 with a download location that is not a URL: //',
  );
});

// Found by the property above: a nextRecordsUrl leading back to a page already read made the query
// page forever (the case hung), its records piling up in memory.
it('stops a Salesforce query whose next-records links loop, writing nothing (regression)', async () => {
  const c: Case = {
    pick: 0,
    at: 2,
    sticky: true,
    damage: { kind: 'next-page', to: 'previous', done: false },
  };
  expect((await check(target('chatter'), c)).error).toMatch(
    /^Salesforce query paged back to a page already read \(\/services\/data\/.+\): its next-records links loop$/,
  );
});

// Found by the property above: a token endpoint answering a one-character access_token had it
// registered as a secret, and from then on that character was redacted from every log line and
// stored error of the process ("co[redacted][redacted]ection fai[redacted]ed").
it('refuses an access token too short to be real, and the logs stay readable (regression)', async () => {
  const c: Case = {
    pick: 0,
    at: 0,
    sticky: false,
    damage: { kind: 'json', mutations: [{ op: 'set', path: ['access_token'], value: 'l' }] },
  };
  expect((await check(target('chatter'), c)).error).toMatch(
    /^Salesforce refused the client credentials \(HTTP 200 from the token endpoint\)/,
  );
  expect(redact('collection failed')).toBe('collection failed');
});
