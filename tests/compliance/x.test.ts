import { afterEach, describe, expect, it } from 'vitest';
import { collectorOf } from '../../collectors/registry.js';
import { xCompliance } from '../../pipeline/compliance/x.js';
import { SourceError, UserError } from '../../pipeline/errors.js';
import { scoreNew } from '../../pipeline/scoring/score.js';
import { Secret } from '../../pipeline/secrets.js';
import type { Store } from '../../pipeline/store.js';
import { type Services, SourceLocks } from '../../pipeline/verbs.js';
import { FakeClock } from '../helpers/clock.js';
import { json, type Loopback, type Request, startLoopback } from '../helpers/loopback.js';
import { mentionRecord } from '../helpers/mention.js';
import { databaseText, sourceConfig } from '../helpers/runner.js';
import { memoryLogger, openTestStore } from '../helpers/store.js';
import { addTopic, collect, rollupSnapshot, scoringDeps } from '../scoring/helpers.js';

const TOKEN = 'x-bearer-for-compliance-tests-0042';
const TZ = 'UTC';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const at = (m: number) => new Date(Date.UTC(2026, 10, 20, 9, m));
const posts = [
  mentionRecord({
    nativeId: '1860000000000000001',
    text: 'acme launch day',
    createdAt: at(1),
    authorId: 'u1',
    authorHandle: 'keeper',
  }),
  mentionRecord({
    nativeId: '1860000000000000002',
    text: 'acme ruined it, deleting later',
    createdAt: at(2),
    authorId: 'u2',
    authorHandle: 'regretful',
  }),
  mentionRecord({
    nativeId: '1860000000000000003',
    text: 'acme from a suspended account',
    createdAt: at(3),
    authorId: 'u3',
    authorHandle: 'spammy',
  }),
  mentionRecord({
    nativeId: '1860000000000000004',
    text: 'acme with a location',
    createdAt: at(4),
    authorId: 'u1',
    authorHandle: 'keeper',
    raw: { geo: { place_id: 'abc' } },
  }),
];

async function seeded(records = posts): Promise<Store> {
  const { store, cleanup } = await openTestStore();
  cleanups.push(cleanup);
  await addTopic(store, 'acme', 'acme', null, new Date('2026-11-01T00:00:00Z'));
  await collect(store, 'x', records, at(30));
  await scoreNew(scoringDeps(store, TZ));
  return store;
}

/**
 * X's batch compliance as documented: POST /2/compliance/jobs answers a job with signed upload and
 * download URLs; GET /2/compliance/jobs/:id reports its status (in_progress once, then complete);
 * the download is one JSON object a line.
 */
function fakeX(results: string, final: 'complete' | 'failed' = 'complete') {
  let polls = 0;
  let server: Loopback | undefined;
  const job = (status: string) => ({
    data: {
      id: '1372966999991541762',
      type: 'tweets',
      name: 'earshot',
      status,
      resumable: false,
      created_at: '2026-11-21T00:00:00.000Z',
      upload_url: `${server?.url}/storage/upload?X-Goog-Signature=abc`,
      upload_expires_at: '2026-11-21T00:15:00.000Z',
      download_url: `${server?.url}/storage/download?X-Goog-Signature=def`,
      download_expires_at: '2026-11-28T00:00:00.000Z',
    },
  });
  const handler = (req: Request) => {
    const path = req.url.pathname;
    if (req.method === 'POST' && path === '/2/compliance/jobs') return json(job('created'));
    if (req.method === 'GET' && path === '/2/compliance/jobs/1372966999991541762')
      return json(job(++polls < 2 ? 'in_progress' : final));
    if (req.method === 'PUT' && path === '/storage/upload') return { status: 200 };
    if (req.method === 'GET' && path === '/storage/download') return { body: results };
    return { status: 404 };
  };
  return {
    start: async () => {
      server = await startLoopback(handler);
      cleanups.push(() => server?.close());
      return server;
    },
  };
}

function services(store: Store, baseUrl: string | null, clock: FakeClock): Services {
  const sources =
    baseUrl === null
      ? []
      : [
          sourceConfig(
            'x',
            baseUrl,
            collectorOf('x').configSchema.parse({ bearerToken: new Secret('X_BEARER', TOKEN) }),
          ),
        ];
  return {
    config: {
      configPath: null,
      databasePath: store.path,
      host: '127.0.0.1',
      port: 0,
      timezone: TZ,
      logLevel: 'debug',
      topics: [],
      sources,
      maxRateLimitWaitMs: 0,
      minGroupSize: 5,
    },
    store,
    logger: memoryLogger().logger,
    fetch,
    now: clock.now,
    sleep: clock.sleep,
    signal: new AbortController().signal,
    locks: new SourceLocks(),
  };
}

const RESULTS = [
  '{"id":"1860000000000000002","action":"delete","created_at":"2026-11-20T09:02:00.000Z","redacted_at":"2026-11-21T10:00:00.000Z","reason":"deleted"}',
  '{"id":"1860000000000000003","action":"delete","created_at":"2026-11-20T09:03:00.000Z","redacted_at":"2026-11-21T10:00:00.000Z","reason":"suspended"}',
  '{"id":"1860000000000000004","action":"scrub_geo","created_at":"2026-11-20T09:04:00.000Z","redacted_at":"2026-11-21T10:00:00.000Z","reason":"scrub_geo"}',
  '{"id":"1999999999999999999","action":"delete","created_at":"2026-11-20T09:05:00.000Z","redacted_at":"2026-11-21T10:00:00.000Z","reason":"deleted"}',
  '',
].join('\n');

describe('earshot compliance x', () => {
  it('uploads the stored ids, waits for the job, purges what X says went, and leaves rollups as if never stored', async () => {
    const store = await seeded();
    const server = await fakeX(RESULTS).start();
    const clock = new FakeClock(Date.UTC(2026, 10, 21));
    const r = await xCompliance(services(store, server.url, clock), { actor: 'cli:tester', pollMs: 30_000 });
    expect(r).toMatchObject({
      jobs: ['1372966999991541762'],
      checked: 4,
      reasons: { deleted: 1, suspended: 1 },
      scrubbedGeo: 1,
      purged: { mentions: 2, reposts: 0 },
    });

    const api = server.requests.filter((q) => q.url.pathname.startsWith('/2/'));
    expect(api.map((q) => `${q.method} ${q.url.pathname}`)).toEqual([
      'POST /2/compliance/jobs',
      'GET /2/compliance/jobs/1372966999991541762',
      'GET /2/compliance/jobs/1372966999991541762',
    ]);
    expect(JSON.parse(api[0]?.body ?? '{}')).toMatchObject({ type: 'tweets' });
    for (const q of api) expect(q.headers.authorization).toBe(`Bearer ${TOKEN}`);
    const upload = server.requests.find((q) => q.method === 'PUT');
    expect(upload?.body.trim().split('\n')).toEqual(posts.map((p) => p.nativeId));
    // The signed storage URLs never see the X token.
    for (const q of server.requests.filter((q) => q.url.pathname.startsWith('/storage/')))
      expect(q.headers.authorization).toBeUndefined();
    expect(clock.sleeps).toEqual([30_000, 30_000]);

    const text = await databaseText(store);
    for (const gone of ['regretful', 'spammy', 'deleting later', 'suspended account', 'place_id'])
      expect(text).not.toContain(gone);
    expect(text).not.toContain(TOKEN);
    expect(await store.query('SELECT native_id FROM mentions ORDER BY 1')).toEqual([
      { native_id: '1860000000000000001' },
      { native_id: '1860000000000000004' },
    ]);
    const twin = await seeded([posts[0], { ...posts[3], raw: null }] as typeof posts);
    expect(await rollupSnapshot(store)).toEqual(await rollupSnapshot(twin));
    const [audit] = await store.query("SELECT action, detail->>'$.checked' AS checked FROM audit_log");
    expect(audit).toEqual({ action: 'compliance.x', checked: '4' });
  });

  it('changes nothing when the job fails, a result line is garbage, or X is not configured', async () => {
    const store = await seeded();
    const before = await databaseText(store);
    const clock = new FakeClock(Date.UTC(2026, 10, 21));
    const failed = await fakeX(RESULTS, 'failed').start();
    await expect(xCompliance(services(store, failed.url, clock), { actor: 'cli' })).rejects.toThrow(
      /the X compliance job 1372966999991541762 failed/,
    );
    const garbage = await fakeX(`${RESULTS.split('\n')[0]}\n{"id": "not a number"}\n`).start();
    const err = await xCompliance(services(store, garbage.url, clock), { actor: 'cli' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toMatch(/line 2, is not a result object/);
    await expect(xCompliance(services(store, null, clock), { actor: 'cli' })).rejects.toThrow(UserError);
    await expect(xCompliance(services(store, null, clock), { actor: 'cli' })).rejects.toThrow(
      /X is not configured/,
    );
    expect(await databaseText(store)).toBe(before);
  });
});
