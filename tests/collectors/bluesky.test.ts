import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { bluesky } from '../../collectors/bluesky.js';
import { redact, Secret } from '../../pipeline/secrets.js';
import type { Store } from '../../pipeline/store.js';
import { type Handler, json, type Reply, type Request, startLoopback } from '../helpers/loopback.js';
import { databaseText, sourceHarness } from '../helpers/runner.js';
import { describeSource } from './suite.js';

// biome-ignore lint/suspicious/noExplicitAny: posts are plain JSON varied from the fixture.
type Post = Record<string, any>;
const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/listening/bluesky_searchPosts.json', import.meta.url), 'utf8'),
);
const base: Post = fixture.posts[0];
const BASE_TIME = Date.parse(base.record.createdAt);

const IDENTIFIER = 'acme-watch.bsky.social';
const PASSWORD = 'abcd-efgh-ijkl-mnop';
const SEARCH = '/xrpc/app.bsky.feed.searchPosts';

/** The fixture post moved `k` minutes later, with its own uri and text. */
function post(
  k: number,
  text: string,
  extra: { record?: Post; author?: Post; indexedAt?: string } = {},
): Post {
  if (k === 0) return structuredClone(base);
  const created = new Date(BASE_TIME + k * 60_000);
  const rkey = `3lvariant${k}`;
  const author = { ...base.author, ...extra.author };
  return {
    ...structuredClone(base),
    uri: `at://${author.did}/app.bsky.feed.post/${rkey}`,
    cid: `bafyreib2rxk3rh6kzwq3example${k}vtxnpcq5bhk2jgiuuuoexample`,
    author,
    record: {
      $type: 'app.bsky.feed.post',
      text,
      createdAt: created.toISOString(),
      langs: ['en'],
      ...extra.record,
    },
    likeCount: k,
    indexedAt: extra.indexedAt ?? new Date(created.getTime() + 656).toISOString(),
  };
}

const sortAt = (p: Post) => Math.min(Date.parse(p.record.createdAt), Date.parse(p.indexedAt));

interface FakeBluesky {
  posts: Post[];
  created: number;
  refreshed: number;
  /** Every token handed out, to prove none is logged or stored. */
  minted: string[];
  access: Set<string>;
  refresh: Set<string>;
  /** Access tokens expire after this many searches each. */
  expireAfter?: number;
  /** Mints one-character tokens, as no real server does. */
  shortTokens?: boolean;
  uses: Map<string, number>;
}

const newFake = (posts: Post[]): FakeBluesky => ({
  posts,
  created: 0,
  refreshed: 0,
  minted: [],
  access: new Set(),
  refresh: new Set(),
  uses: new Map(),
});

const xrpcError = (status: number, error: string, message: string): Reply => ({
  status,
  ...json({ error, message }),
});

function mint(f: FakeBluesky) {
  const accessJwt = f.shortTokens ? 'l' : `eyJ.access.${randomBytes(12).toString('hex')}`;
  const refreshJwt = f.shortTokens ? 'r' : `eyJ.refresh.${randomBytes(12).toString('hex')}`;
  f.minted.push(accessJwt, refreshJwt);
  f.access.add(accessJwt);
  f.refresh.add(refreshJwt);
  return json({
    did: 'did:plc:acmewatch000000000000000',
    handle: IDENTIFIER,
    accessJwt,
    refreshJwt,
    active: true,
  });
}

/** A PDS that creates and refreshes sessions and proxies searchPosts: newest first, offset cursors. */
function fakeBluesky(f: FakeBluesky): Handler {
  return (req: Request): Reply => {
    const path = req.url.pathname;
    if (path === '/xrpc/com.atproto.server.createSession' && req.method === 'POST') {
      const body = JSON.parse(req.body || '{}');
      if (body.identifier !== IDENTIFIER || body.password !== PASSWORD) {
        return xrpcError(401, 'AuthenticationRequired', 'Invalid identifier or password');
      }
      f.created++;
      return mint(f);
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (path === '/xrpc/com.atproto.server.refreshSession' && req.method === 'POST') {
      if (!bearer || !f.refresh.delete(bearer))
        return xrpcError(400, 'ExpiredToken', 'Token has been revoked');
      f.refreshed++;
      return mint(f);
    }
    if (path !== SEARCH) return xrpcError(404, 'MethodNotImplemented', 'Method Not Implemented');
    if (!bearer) return xrpcError(401, 'AuthenticationRequired', 'Authentication Required');
    if (!f.access.has(bearer)) return xrpcError(401, 'InvalidToken', 'Token could not be verified');
    const used = (f.uses.get(bearer) ?? 0) + 1;
    f.uses.set(bearer, used);
    if (f.expireAfter !== undefined && used > f.expireAfter) {
      f.access.delete(bearer);
      return xrpcError(400, 'ExpiredToken', 'Token has expired');
    }
    const q = (req.url.searchParams.get('q') ?? '').toLowerCase();
    const since = req.url.searchParams.get('since');
    const per = Math.min(Number(req.url.searchParams.get('limit') ?? 25), 2);
    const offset = Number(req.url.searchParams.get('cursor') ?? 0);
    const matching = f.posts
      .filter((p) => String(p.record.text).toLowerCase().includes(q))
      .filter((p) => since === null || sortAt(p) >= Date.parse(since))
      .sort((a, b) => sortAt(b) - sortAt(a));
    const posts = matching.slice(offset, offset + per);
    return json({
      ...(offset + per < matching.length ? { cursor: String(offset + per) } : {}),
      hitsTotal: matching.length,
      posts,
    });
  };
}

const rateLimited = (now: Date): Reply => ({
  status: 429,
  headers: {
    'content-type': 'application/json; charset=utf-8',
    'ratelimit-limit': '3000',
    'ratelimit-remaining': '0',
    'ratelimit-reset': String(Math.floor(now.getTime() / 1000) + 300),
    'ratelimit-policy': '3000;w=300',
  },
  body: JSON.stringify({ error: 'RateLimitExceeded', message: 'Rate Limit Exceeded' }),
});

const other = { did: 'did:plc:otherperson0000000000000', handle: 'other.bsky.social', displayName: '' };
const suitePosts = (): Post[] => [
  post(0, ''),
  post(1, 'Acme support answered in five minutes, impressed'),
  post(2, 'same here, acme sync is down', {
    author: other,
    record: { reply: { root: { uri: base.uri, cid: base.cid }, parent: { uri: base.uri, cid: base.cid } } },
  }),
  post(3, 'Acme 신제품 출시 소식', {
    author: { did: 'did:plc:invalidhandle00000000000', handle: 'handle.invalid', displayName: '한빛' },
    record: { langs: ['ko', 'en'] },
  }),
  post(4, 'file sync tools compared'),
  post(5, 'sync or swim'),
];

describeSource({
  source: 'bluesky',
  settings: { identifier: IDENTIFIER, appPassword: new Secret('BSKY_APP_PASSWORD', PASSWORD) },
  keywords: ['acme', 'sync'],
  start: new Date('2025-01-03T00:00:00Z'),
  api: () => ({ isData: (req) => req.url.pathname === SEARCH, handler: fakeBluesky(newFake(suitePosts())) }),
  expectedIds: suitePosts().map((p) => String(p.uri)),
  checkRows(rows) {
    const byId = new Map(rows.map((r) => [String(r.native_id), r]));
    const first = byId.get(base.uri);
    expect(first).toMatchObject({
      url: 'https://bsky.app/profile/someone.bsky.social/post/3lexample2k2x',
      text: "Acme's new update broke my sync again #acme",
      lang: 'en',
      channel: null,
      author_id: 'did:plc:z72i7hdynmk6r22z27h6tvur',
      author_handle: 'someone.bsky.social',
      author_name: 'Someone',
      author_followers: null,
      likes: 7,
      reposts: 1,
      replies: 3,
      parent_id: null,
      conversation_id: null,
      is_repost: false,
      repost_of: null,
    });
    expect((first?.created_at as Date | undefined)?.toISOString()).toBe('2025-01-02T10:11:12.345Z');
    expect(JSON.parse(String(first?.raw)).cid).toBe(base.cid);
    const reply = byId.get(suitePosts()[2]?.uri);
    expect(reply).toMatchObject({
      parent_id: base.uri,
      conversation_id: base.uri,
      author_handle: 'other.bsky.social',
      author_name: null,
    });
    const korean = byId.get(suitePosts()[3]?.uri);
    expect(korean).toMatchObject({
      lang: 'ko',
      url: 'https://bsky.app/profile/did%3Aplc%3Ainvalidhandle00000000000/post/3lvariant3',
    });
  },
  farFutureBookmark: () => ({ since: '2100-01-01T00:00:00.000Z' }),
  rateLimited,
});

async function setUp(fake: FakeBluesky, settings: Record<string, unknown> = {}, keywords = ['acme']) {
  const h = await sourceHarness({
    id: 'bluesky',
    start: new Date('2025-01-03T00:00:00Z'),
    handler: () => fakeBluesky(fake),
    settings: () => ({
      identifier: IDENTIFIER,
      appPassword: new Secret('BSKY_APP_PASSWORD', PASSWORD),
      ...settings,
    }),
    keywords,
    ctx: { maxRateLimitWaitMs: 0 },
  });
  return { ...h, searches: () => h.server.requests.filter((r) => r.url.pathname === SEARCH) };
}

const bookmarkOf = async (store: Store, partition: string) => {
  const rows = await store.query("SELECT state FROM bookmarks WHERE source = 'bluesky' AND partition = $1", [
    partition,
  ]);
  return rows[0] ? JSON.parse(String(rows[0].state)) : undefined;
};

/** Everything stored as text, plus every log line. */
async function everything(store: Store, lines: string[]): Promise<string> {
  return (await databaseText(store)) + lines.join('\n');
}

describe('bluesky specifics', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('creates one session for every partition of a run and sends its Bearer token', async () => {
    const fake = newFake(suitePosts());
    const h = await setUp(fake, {}, ['acme', 'sync']);
    close = h.close;
    const results = await h.run();
    expect(results.map((r) => [r.partition, r.status])).toEqual([
      ['acme', 'ok'],
      ['sync', 'ok'],
    ]);
    expect(fake.created).toBe(1);
    const login = h.server.requests.find((r) => r.url.pathname.endsWith('createSession'));
    expect(JSON.parse(login?.body ?? '{}')).toEqual({ identifier: IDENTIFIER, password: PASSWORD });
    expect(h.searches().length).toBeGreaterThan(2);
    for (const r of h.searches()) {
      expect(r.headers.authorization).toBe(`Bearer ${fake.minted[0]}`);
      expect(r.url.searchParams.get('sort')).toBe('latest');
      expect(r.url.searchParams.get('limit')).toBe('100');
    }
    // The session lives in memory with the config: a later run does not log in again.
    await h.run();
    expect(fake.created).toBe(1);
  });

  it('is refused without auth, and a wrong app password fails clearly without showing it', async () => {
    const fake = newFake(suitePosts());
    const h = await setUp(fake, { appPassword: new Secret('BSKY_APP_PASSWORD', 'wrong-pass-0000') });
    close = h.close;
    const check = await bluesky.check(h.source.settings as never, h.ctx);
    expect(check.ok).toBe(false);
    expect(JSON.stringify(check)).toMatch(/refused the login of acme-watch\.bsky\.social/);
    const [result] = await h.run();
    expect(result?.status).toBe('error');
    expect(result?.error).toMatch(/app password/);
    expect(h.searches()).toEqual([]);
    const anonymous = await fetch(`${h.server.url}${SEARCH}?q=acme`);
    expect(anonymous.status).toBe(401);
    const all = await everything(h.store, h.mem.lines);
    expect(all).not.toContain('wrong-pass-0000');
  });

  it('refreshes an expired access token and carries on; logs in again when the refresh is refused', async () => {
    const fake = newFake(suitePosts());
    fake.expireAfter = 1;
    const h = await setUp(fake);
    close = h.close;
    const [result] = await h.run();
    expect(result).toMatchObject({ status: 'ok', newRows: 4 });
    expect(fake.created).toBe(1);
    expect(fake.refreshed).toBeGreaterThanOrEqual(1);
    const refreshCall = h.server.requests.find((r) => r.url.pathname.endsWith('refreshSession'));
    expect(refreshCall?.headers.authorization).toBe(`Bearer ${fake.minted[1]}`);
    // The page refused for an expired token was asked again with the new token.
    const [, expired, retried] = h.searches();
    expect(expired?.headers.authorization).toBe(`Bearer ${fake.minted[0]}`);
    expect(retried?.url.search).toBe(expired?.url.search);
    expect(retried?.headers.authorization).toBe(`Bearer ${fake.minted[2]}`);

    // Both tokens revoked (a password change): a fresh login.
    fake.access.clear();
    fake.refresh.clear();
    const [again] = await h.run();
    expect(again?.status).toBe('ok');
    expect(fake.created).toBe(2);
  });

  // As the fuzzing found for the OAuth sources: a one-character token registered as a secret was
  // redacted inside every later log line and stored error ("co[redacted][redacted]ection").
  it('refuses session tokens too short to be real, and the logs stay readable', async () => {
    const fake = newFake(suitePosts());
    fake.shortTokens = true;
    const h = await setUp(fake);
    close = h.close;
    const [result] = await h.run();
    expect(result?.status).toBe('error');
    expect(result?.error).toMatch(/createSession at .+ answered no tokens/);
    expect(redact('collection failed')).toBe('collection failed');
  });

  it('never writes the app password or the session tokens to logs or the database', async () => {
    const fake = newFake([...suitePosts(), { ...post(9, 'acme broken'), author: null }]);
    fake.expireAfter = 2;
    const h = await setUp(fake, {}, ['acme', 'sync']);
    close = h.close;
    await h.run();
    await h.run();
    expect(fake.minted.length).toBeGreaterThan(2);
    const all = await everything(h.store, h.mem.lines);
    expect(h.mem.lines.some((l) => l.includes('renewing'))).toBe(true);
    expect(all).not.toContain(PASSWORD);
    for (const token of fake.minted) expect(all).not.toContain(token);
  });

  it('sends the first run back backfillDays, then since = newest post less the lag on the next run', async () => {
    const fake = newFake(suitePosts());
    const h = await setUp(fake, { backfillDays: 2 });
    close = h.close;
    await h.run();
    expect(h.searches().map((r) => r.url.searchParams.get('since'))).toEqual([
      '2025-01-01T00:00:00.000Z',
      '2025-01-01T00:00:00.000Z',
    ]);
    expect(h.searches()[1]?.url.searchParams.get('cursor')).toBe('2');
    // Newest acme post: k=3 at 10:14:12.345Z; the bookmark looks back 5 minutes from it.
    expect(await bookmarkOf(h.store, 'acme')).toEqual({ since: '2025-01-02T10:09:12.345Z' });
    h.server.requests.length = 0;
    fake.posts.push(post(30, 'acme at half past'));
    h.clock.advance(3_600_000);
    const [second] = await h.run();
    expect(second).toMatchObject({ status: 'ok', newRows: 1 });
    expect(h.searches()[0]?.url.searchParams.get('since')).toBe('2025-01-02T10:09:12.345Z');
    expect(await bookmarkOf(h.store, 'acme')).toEqual({ since: '2025-01-02T10:36:12.345Z' });
  });

  it('keeps since and the cursor through an interrupted run', async () => {
    const fake = newFake(suitePosts());
    const h = await setUp(fake);
    close = h.close;
    let calls = 0;
    const failing = await startLoopback((req) => {
      if (req.url.pathname === SEARCH && ++calls > 1)
        return { status: 400, ...json({ error: 'InvalidRequest' }) };
      return fakeBluesky(fake)(req);
    });
    h.source.baseUrl = failing.url;
    try {
      const [first] = await h.run();
      expect(first?.status).toBe('error');
    } finally {
      await failing.close();
    }
    expect(await bookmarkOf(h.store, 'acme')).toEqual({
      since: '2024-12-27T00:00:00.000Z',
      run: { cursor: '2', newest: '2025-01-02T10:14:12.345Z' },
    });
    h.source.baseUrl = h.server.url;
    await h.run();
    expect(h.searches().map((r) => r.url.searchParams.get('cursor'))).toEqual(['2']);
    const n = await h.store.query("SELECT count(*) AS n FROM mentions WHERE source = 'bluesky'");
    expect(Number(n[0]?.n)).toBe(4);
  });

  it('does not let a future createdAt push since past the run start', async () => {
    const start = Date.parse('2025-01-03T00:00:00Z');
    // Client clock in 2031, indexed normally: stored at its indexing time.
    const liar = post(40, 'acme from the future', { record: { createdAt: '2031-05-05T05:05:05.000Z' } });
    const fake = newFake([post(0, ''), liar]);
    const h = await setUp(fake);
    close = h.close;
    await h.run();
    const rows = await h.store.query('SELECT native_id, created_at FROM mentions WHERE native_id = $1', [
      liar.uri,
    ]);
    expect((rows[0]?.created_at as Date | undefined)?.toISOString()).toBe(liar.indexedAt);
    expect(Date.parse((await bookmarkOf(h.store, 'acme')).since)).toBeLessThanOrEqual(start);

    // Even a post the index dates after our own clock stops at the run's start.
    fake.posts.push(
      post(50, 'acme tomorrow', {
        record: { createdAt: '2025-01-04T00:00:00.000Z' },
        indexedAt: '2025-01-04T00:00:01.000Z',
      }),
    );
    await h.run();
    expect(await bookmarkOf(h.store, 'acme')).toEqual({ since: new Date(start - 5 * 60_000).toISOString() });
  });

  it('quarantines one bad post and keeps the page', async () => {
    const fake = newFake([post(0, ''), { ...post(1, 'acme broken'), author: null }, post(2, 'acme fine')]);
    const h = await setUp(fake);
    close = h.close;
    const [result] = await h.run();
    expect(result).toMatchObject({ status: 'ok', newRows: 2, quarantined: 1 });
    const q = await h.store.query('SELECT error FROM quarantine');
    expect(String(q[0]?.error)).toMatch(/author/);
  });

  it('checks the credentials with one search', async () => {
    const fake = newFake(suitePosts());
    const h = await setUp(fake);
    close = h.close;
    expect(await bluesky.check(h.source.settings as never, h.ctx)).toEqual({ ok: true });
    expect(h.searches().map((r) => r.url.searchParams.get('limit'))).toEqual(['1']);
  });
});
