import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CollectorContext } from '../../collectors/contract.js';
import { reddit } from '../../collectors/reddit.js';
import { collectSource, type RunnerDeps } from '../../collectors/runner.js';
import type { SourceConfig } from '../../pipeline/config.js';
import { redact, Secret } from '../../pipeline/secrets.js';
import type { Store } from '../../pipeline/store.js';
import { FakeClock } from '../helpers/clock.js';
import {
  type Handler,
  json,
  type Loopback,
  type Reply,
  type Request,
  startLoopback,
} from '../helpers/loopback.js';
import {
  databaseText,
  insertTopic,
  mentionIds,
  sourceConfig,
  testContext,
  testDeps,
} from '../helpers/runner.js';
import { openTestStore } from '../helpers/store.js';
import { describeSource } from './suite.js';

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/listening/reddit_search.json', import.meta.url), 'utf8'),
);
const base = fixture.data.children[0];
const T0: number = base.data.created_utc; // 2018-04-06T21:10:24Z

const CLIENT_ID = 'cid-Xk29aB7qRt';
const CLIENT_SECRET = 'csecret-9hQ2mZ7tLpVw';
const BASIC = Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64');
const USER_AGENT = 'linux:earshot-test:0.1 (by /u/earshot_tests)';

const settings = (extra: Record<string, unknown> = {}) => ({
  clientId: new Secret('REDDIT_CLIENT_ID', CLIENT_ID),
  clientSecret: new Secret('REDDIT_CLIENT_SECRET', CLIENT_SECRET),
  userAgent: USER_AGENT,
  limit: 2,
  ...extra,
});

type Child = { kind: string; data: Record<string, unknown> };

/** A post varied from the fixture's: new id, time, subreddit and text. */
function post(id: string, ageSeconds: number, over: Record<string, unknown> = {}): Child {
  const sub = (over.subreddit as string | undefined) ?? 'golang';
  return {
    kind: 't3',
    data: {
      ...base.data,
      id,
      name: `t3_${id}`,
      subreddit: sub,
      subreddit_name_prefixed: `r/${sub}`,
      permalink: `/r/${sub}/comments/${id}/acme_post/`,
      created_utc: T0 - ageSeconds,
      created: T0 - ageSeconds + 28800,
      ...over,
    },
  };
}

/** Newest first, like sort=new. */
const posts: Child[] = [
  post('8ae001', -1800, {
    title: 'Acme 2.0 released',
    selftext: 'Release notes: **faster** builds & fewer <bugs>.',
    is_self: true,
    author: 'gopher_anne',
    author_fullname: 't2_anne1',
    score: 41,
    num_comments: 12,
    num_crossposts: 1,
  }),
  post('8ae002', -1200, {
    subreddit: 'programming',
    title: 'Acme 2.0 released',
    author: 'xposter',
    author_fullname: 't2_xpost',
    crosspost_parent: 't3_8ae001',
    crosspost_parent_list: [{ name: 't3_8ae001' }],
    score: 5,
    num_comments: 0,
  }),
  post('8ae003', -600, { title: 'Anyone tried acme for CLI tools?', author: '[deleted]', score: 0 }),
  base as Child,
  post('8ad001', 600, { title: 'acme vs the rest', author: 'oldtimer', author_fullname: 't2_old' }),
];
const allIds = posts.map((p) => String(p.data.name));

interface FakeReddit {
  handler: Handler;
  tokenRequests: Request[];
  dataRequests: Request[];
  /** Invalidates every token issued so far (as when one expires or the app's tokens are revoked). */
  revokeAll(): void;
  /** Data calls answered 401 even with a valid token. */
  reject401: { n: number };
  rateHeaders: Record<string, string>;
  children: Child[];
}

function fakeReddit(children: Child[] = posts): FakeReddit {
  const valid = new Set<string>();
  let issued = 0;
  const fake: FakeReddit = {
    tokenRequests: [],
    dataRequests: [],
    reject401: { n: 0 },
    rateHeaders: { 'x-ratelimit-used': '3', 'x-ratelimit-remaining': '597.0', 'x-ratelimit-reset': '420' },
    children,
    revokeAll: () => valid.clear(),
    handler: (req) => {
      const unauthorized: Reply = {
        status: 401,
        headers: {
          'content-type': 'application/json; charset=UTF-8',
          'www-authenticate': 'Bearer realm="reddit"',
        },
        body: JSON.stringify({ message: 'Unauthorized', error: 401 }),
      };
      if (req.url.pathname === '/api/v1/access_token') {
        fake.tokenRequests.push(req);
        if (req.method !== 'POST' || req.headers.authorization !== `Basic ${BASIC}`) return unauthorized;
        if (new URLSearchParams(req.body).get('grant_type') !== 'client_credentials') {
          return json({ error: 'unsupported_grant_type' });
        }
        issued++;
        const token = `-apponly-token-${issued}-Zq81xPw`;
        valid.add(token);
        return json({ access_token: token, token_type: 'bearer', expires_in: 86400, scope: '*' });
      }
      const m = /^(?:\/r\/([A-Za-z0-9_]+))?\/search$/.exec(req.url.pathname);
      if (!m) return { status: 404, body: '{"message": "Not Found", "error": 404}' };
      fake.dataRequests.push(req);
      const token = /^bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
      if (!token || !valid.has(token) || req.headers['user-agent'] !== USER_AGENT) return unauthorized;
      if (fake.reject401.n > 0) {
        fake.reject401.n--;
        return unauthorized;
      }
      const q = req.url.searchParams;
      const sub = m[1];
      if (q.get('sort') !== 'new' || q.get('raw_json') !== '1') return { status: 400, body: '{}' };
      if (sub && q.get('restrict_sr') !== '1') return { status: 400, body: '{}' };
      const matching = fake.children
        .filter((c) => !sub || c.data.subreddit === sub)
        .sort((a, b) => Number(b.data.created_utc) - Number(a.data.created_utc));
      const limit = Number(q.get('limit') ?? 25);
      const after = q.get('after');
      const from = after ? matching.findIndex((c) => c.data.name === after) + 1 : 0;
      const page = matching.slice(from, from + limit);
      const more = from + limit < matching.length;
      return json(
        {
          kind: 'Listing',
          data: {
            ...fixture.data,
            after: more ? String(page.at(-1)?.data.name) : null,
            dist: page.length,
            children: page,
            before: null,
          },
        },
        fake.rateHeaders,
      );
    },
  };
  return fake;
}

describeSource({
  source: 'reddit',
  settings: settings(),
  keywords: ['acme'],
  start: new Date('2018-04-07T00:00:00Z'),
  api: () => {
    const fake = fakeReddit();
    return { handler: fake.handler, isData: (req) => req.url.pathname.endsWith('/search') };
  },
  expectedIds: allIds,
  checkRows(rows) {
    const byId = new Map(rows.map((r) => [String(r.native_id), r]));
    expect(byId.get('t3_8ad4v0')).toMatchObject({
      url: 'https://www.reddit.com/r/golang/comments/8ad4v0/is_there_a_better_way_to_do_the_following_ty_i_am/',
      title: 'Test',
      text: 'Test',
      channel: 'golang',
      author_id: 'kaveman98',
      author_handle: 'kaveman98',
      likes: 2,
      replies: 4,
      reposts: 0,
      is_repost: false,
      repost_of: null,
    });
    expect((byId.get('t3_8ad4v0')?.created_at as Date | undefined)?.toISOString()).toBe(
      '2018-04-06T21:10:24.000Z',
    );
    expect(byId.get('t3_8ae001')).toMatchObject({
      title: 'Acme 2.0 released',
      text: 'Acme 2.0 released\nRelease notes: **faster** builds & fewer <bugs>.',
      author_id: 't2_anne1',
      author_handle: 'gopher_anne',
      likes: 41,
      replies: 12,
      reposts: 1,
    });
    expect(byId.get('t3_8ae002')).toMatchObject({
      channel: 'programming',
      is_repost: true,
      repost_of: 't3_8ae001',
    });
    expect(byId.get('t3_8ae003')).toMatchObject({ author_id: null, author_handle: null });
    const raw = JSON.parse(String(byId.get('t3_8ad001')?.raw));
    expect(raw).toMatchObject({ kind: 't3', data: { name: 't3_8ad001' } });
  },
  farFutureBookmark: () => ({ since: 4_000_000_000 }),
  rateLimited: () => ({
    status: 429,
    headers: {
      'content-type': 'application/json; charset=UTF-8',
      'x-ratelimit-used': '600',
      'x-ratelimit-remaining': '0.0',
      'x-ratelimit-reset': '30',
    },
    body: JSON.stringify({ message: 'Too Many Requests', error: 429 }),
  }),
});

describe('reddit specifics', () => {
  let store: Store;
  let cleanup: () => void;
  let server: Loopback | undefined;
  let clock: FakeClock;
  let logLines: string[];

  beforeEach(async () => {
    ({ store, cleanup } = await openTestStore());
    clock = new FakeClock(Date.parse('2018-04-07T00:00:00Z'));
    await insertTopic(store, ['acme']);
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    cleanup();
  });

  const start = async (fake: FakeReddit): Promise<string> => {
    server = await startLoopback(fake.handler);
    return server.url;
  };
  const deps = (): RunnerDeps => {
    const { deps, lines } = testDeps(store, clock);
    logLines = lines;
    return deps;
  };
  const source = (url: string, extra: Record<string, unknown> = {}): SourceConfig =>
    sourceConfig('reddit', url, reddit.configSchema.parse(settings(extra)));
  const ctxFor = (url: string): CollectorContext => testContext(clock, url);
  const ids = () => mentionIds(store, 'reddit');
  /** Every table as text, to prove a value never reached the database. */
  const dumpDb = () => databaseText(store);

  it('gets a token with Basic auth and client_credentials, then sends bearer and User-Agent on every call', async () => {
    const fake = fakeReddit();
    const url = await start(fake);
    const results = await collectSource(source(url, { subreddits: ['golang', 'programming'] }), deps());
    expect(results.map((r) => r.status)).toEqual(['ok', 'ok']);
    // One token serves every partition.
    expect(fake.tokenRequests).toHaveLength(1);
    const tokenReq = fake.tokenRequests[0] as Request;
    expect(tokenReq.method).toBe('POST');
    expect(tokenReq.headers.authorization).toBe(`Basic ${BASIC}`);
    expect(tokenReq.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(tokenReq.headers['user-agent']).toBe(USER_AGENT);
    expect(new URLSearchParams(tokenReq.body).get('grant_type')).toBe('client_credentials');
    expect(fake.dataRequests.length).toBeGreaterThanOrEqual(3);
    for (const req of fake.dataRequests) {
      expect(req.headers.authorization).toBe('bearer -apponly-token-1-Zq81xPw');
      expect(req.headers['user-agent']).toBe(USER_AGENT);
      expect(req.url.searchParams.get('type')).toBe('link');
      expect(req.url.searchParams.get('limit')).toBe('2');
    }
  });

  it('replaces a rejected token once and goes on', async () => {
    const fake = fakeReddit();
    const handler = fake.handler;
    let calls = 0;
    // The token dies after the first page, as an expired one does.
    fake.handler = (req) => {
      if (req.url.pathname.endsWith('/search') && ++calls === 2) fake.revokeAll();
      return handler(req);
    };
    const url = await start(fake);
    const results = await collectSource(source(url), deps());
    expect(results[0]).toMatchObject({ status: 'ok', error: null });
    expect(fake.tokenRequests).toHaveLength(2);
    expect(await ids()).toEqual([...allIds].sort());
  });

  // As the fuzzing found for the OAuth sources: a one-character token registered as a secret was
  // redacted inside every later log line and stored error ("co[redacted][redacted]ection").
  it('refuses an access token too short to be real, and the logs stay readable', async () => {
    const fake = fakeReddit();
    const handler = fake.handler;
    fake.handler = (req) =>
      req.url.pathname === '/api/v1/access_token'
        ? json({ access_token: 'l', token_type: 'bearer', expires_in: 86400, scope: '*' })
        : handler(req);
    const url = await start(fake);
    const [result] = await collectSource(source(url), deps());
    expect(result?.status).toBe('error');
    expect(result?.error).toMatch(/^Reddit token request failed \(HTTP 200\)/);
    expect(redact('collection failed')).toBe('collection failed');
  });

  it('gives up after a second 401 instead of looping on the token endpoint', async () => {
    const fake = fakeReddit();
    fake.reject401.n = 1000;
    const url = await start(fake);
    const results = await collectSource(source(url), deps());
    expect(results[0]?.status).toBe('error');
    expect(results[0]?.error).toMatch(/401 twice/);
    expect(fake.tokenRequests).toHaveLength(2);
    expect(fake.dataRequests).toHaveLength(2);
  });

  it('never lets the client secret, the Basic pair or a token reach logs, errors or the database', async () => {
    const fake = fakeReddit();
    const url = await start(fake);
    const lines: string[] = [];
    // A good run, a run whose token dies, then one the token endpoint refuses.
    await collectSource(source(url), deps());
    lines.push(...logLines);
    fake.revokeAll();
    fake.reject401.n = 5;
    const bad = await collectSource(source(url), deps());
    lines.push(...logLines);
    expect(bad[0]?.status).toBe('error');
    const wrong = reddit.configSchema.parse({
      ...settings(),
      clientSecret: new Secret('REDDIT_CLIENT_SECRET', 'wrong-secret-value-77'),
    });
    const refused = await collectSource({ ...source(url), settings: wrong }, deps());
    lines.push(...logLines);
    expect(refused[0]?.status).toBe('error');
    expect(refused[0]?.error).toMatch(/refused the app credentials/);
    const check = await reddit.check(wrong, ctxFor(url));
    expect(check.ok).toBe(false);
    const text = [lines.join('\n'), await dumpDb(), JSON.stringify([bad, refused, check])].join('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const value of [CLIENT_SECRET, 'wrong-secret-value-77', BASIC, '-apponly-token-1-Zq81xPw']) {
      expect(text).not.toContain(value);
    }
    // The Secret prints as a placeholder wherever a config is serialised.
    expect(JSON.stringify(source(url).settings)).not.toContain(CLIENT_SECRET);
  });

  it('resumes an unfinished run from its after cursor and closes it with since = min(newest, start)', async () => {
    const fake = fakeReddit();
    const url = await start(fake);
    const config = reddit.configSchema.parse(settings());
    const startedAt = T0 + 900;
    const batches = [];
    for await (const b of reddit.read(
      config,
      { key: 'acme', query: 'acme' },
      { since: T0 - 3600, run: { after: 't3_8ae002', newest: T0 + 2400, startedAt } },
      ctxFor(url),
    )) {
      batches.push(b);
    }
    expect(fake.dataRequests[0]?.url.searchParams.get('after')).toBe('t3_8ae002');
    expect(batches.flatMap((b) => b.records.map((r) => r.nativeId))).toEqual([
      't3_8ae003',
      't3_8ad4v0',
      't3_8ad001',
    ]);
    // Between pages the old watermark stays and the cursor moves on.
    expect(batches[0]?.bookmark).toEqual({
      since: T0 - 3600,
      run: { after: 't3_8ad4v0', newest: T0 + 2400, startedAt },
    });
    expect(batches.at(-1)?.bookmark).toEqual({ since: startedAt });
  });

  it('stops paging at posts older than the watermark', async () => {
    const fake = fakeReddit();
    const url = await start(fake);
    const config = reddit.configSchema.parse(settings());
    const batches = [];
    for await (const b of reddit.read(
      config,
      { key: 'acme', query: 'acme' },
      { since: T0 + 600 },
      ctxFor(url),
    )) {
      batches.push(b);
    }
    expect(fake.dataRequests).toHaveLength(2);
    expect(batches.flatMap((b) => b.records.map((r) => r.nativeId))).toEqual([
      't3_8ae001',
      't3_8ae002',
      't3_8ae003',
    ]);
    expect(batches.at(-1)?.bookmark).toEqual({ since: T0 + 1800 });
  });

  it('flags a crosspost with the fullname of its original', async () => {
    const url = await start(fakeReddit());
    await collectSource(source(url), deps());
    const rows = await store.query(
      'SELECT native_id, is_repost, repost_of FROM mentions WHERE is_repost ORDER BY native_id',
    );
    expect(rows).toEqual([{ native_id: 't3_8ae002', is_repost: true, repost_of: 't3_8ae001' }]);
  });

  it('makes one partition per subreddit and query, searching only inside the subreddit', async () => {
    const fake = fakeReddit();
    const url = await start(fake);
    const config = reddit.configSchema.parse(
      settings({ subreddits: ['golang', 'r/programming'], queries: ['acme', 'acme corp'] }),
    );
    expect(reddit.partitions(config, { keywords: ['ignored'] }).map((p) => p.key)).toEqual([
      'r/golang:acme',
      'r/golang:acme corp',
      'r/programming:acme',
      'r/programming:acme corp',
    ]);
    const results = await collectSource(source(url, { subreddits: ['golang', '/r/programming/'] }), deps());
    expect(results.map((r) => [r.partition, r.status])).toEqual([
      ['r/golang:acme', 'ok'],
      ['r/programming:acme', 'ok'],
    ]);
    expect(new Set(fake.dataRequests.map((r) => r.url.pathname))).toEqual(
      new Set(['/r/golang/search', '/r/programming/search']),
    );
    for (const req of fake.dataRequests) expect(req.url.searchParams.get('restrict_sr')).toBe('1');
    const rows = await store.query(
      'SELECT partition, channel, count(*) AS n FROM mentions GROUP BY ALL ORDER BY partition',
    );
    expect(rows).toEqual([
      { partition: 'r/golang:acme', channel: 'golang', n: 4 },
      { partition: 'r/programming:acme', channel: 'programming', n: 1 },
    ]);
  });

  it('names the subreddit when a search is forbidden or not found, and the other partitions go on', async () => {
    const fake = fakeReddit();
    const handler = fake.handler;
    fake.handler = (req) =>
      req.url.pathname === '/r/secretclub/search'
        ? {
            status: 403,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ reason: 'private', message: 'Forbidden', error: 403 }),
          }
        : handler(req);
    const url = await start(fake);
    const results = await collectSource(source(url, { subreddits: ['secretclub', 'golang'] }), deps());
    expect(results[0]).toMatchObject({ partition: 'r/secretclub:acme', status: 'error' });
    expect(results[0]?.error).toMatch(/r\/secretclub: forbidden .*private/);
    expect(results[1]).toMatchObject({ partition: 'r/golang:acme', status: 'ok' });
  });

  it('skips listing children that are not posts and quarantines a malformed post', async () => {
    const children: Child[] = [
      posts[0] as Child,
      { kind: 't5', data: { name: 't5_2rc7j', display_name: 'golang' } },
      { kind: 't3', data: { name: 't3_broken', title: 42 } },
      posts[3] as Child,
    ];
    const url = await start(fakeReddit(children));
    const results = await collectSource(source(url, { limit: 10 }), deps());
    expect(results[0]).toMatchObject({ status: 'ok', quarantined: 1 });
    expect(await ids()).toEqual(['t3_8ad4v0', 't3_8ae001']);
    const q = await store.query('SELECT error, raw FROM quarantine');
    expect(String(q[0]?.raw)).toContain('t3_broken');
  });

  it('waits for the window reset when X-Ratelimit-Remaining reaches 0', async () => {
    const fake = fakeReddit();
    fake.rateHeaders = {
      'x-ratelimit-used': '600',
      'x-ratelimit-remaining': '0.0',
      'x-ratelimit-reset': '42',
    };
    const url = await start(fake);
    const results = await collectSource(source(url), deps());
    expect(results[0]?.status).toBe('ok');
    expect(clock.sleeps).toContain(43_000);
    expect(await ids()).toEqual([...allIds].sort());
  });

  it('uses authBaseUrl for the token when set', async () => {
    const auth = fakeReddit();
    const authServer = await startLoopback(auth.handler);
    try {
      server = await startLoopback((req) =>
        req.headers.authorization === 'bearer -apponly-token-1-Zq81xPw'
          ? json(fixture)
          : { status: 401, body: '{"message": "Unauthorized", "error": 401}' },
      );
      const check = await reddit.check(
        reddit.configSchema.parse(settings({ authBaseUrl: `${authServer.url}/` })),
        ctxFor(server.url),
      );
      expect(check).toEqual({ ok: true });
      expect(auth.tokenRequests).toHaveLength(1);
      expect(server.requests.map((r) => r.url.pathname)).toEqual(['/search']);
    } finally {
      await authServer.close();
    }
  });

  it('checks credentials with one small search', async () => {
    const url = await start(fakeReddit());
    expect(await reddit.check(reddit.configSchema.parse(settings()), ctxFor(url))).toEqual({ ok: true });
  });

  it('refuses a vague User-Agent and a bad subreddit with messages that say what to write', () => {
    const ua = reddit.configSchema.safeParse(settings({ userAgent: 'Mozilla/5.0' }));
    expect(ua.success).toBe(false);
    expect(ua.error?.issues[0]?.path).toEqual(['userAgent']);
    expect(ua.error?.issues[0]?.message).toMatch(/linux:earshot:0\.1 \(by \/u\/yourname\)/);
    const example = reddit.configSchema.safeParse(
      settings({ userAgent: 'linux:earshot:0.1 (by /u/yourname)' }),
    );
    expect(example.error?.issues[0]?.message).toMatch(/replace "yourname"/);
    const sub = reddit.configSchema.safeParse(settings({ subreddits: ['not a sub!'] }));
    expect(sub.error?.issues[0]?.message).toMatch(/subreddit name/);
    const plain = reddit.configSchema.safeParse({ ...settings(), clientSecret: 'inline-secret' });
    expect(plain.error?.issues[0]?.path).toEqual(['clientSecret']);
    expect(reddit.configSchema.parse(settings({ subreddits: ['r/golang'] })).subreddits).toEqual(['golang']);
  });
});
