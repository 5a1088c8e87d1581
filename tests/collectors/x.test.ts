import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CollectorContext } from '../../collectors/contract.js';
import { collectSource, type PartitionResult, type RunnerDeps } from '../../collectors/runner.js';
import { nextSinceId, x } from '../../collectors/x.js';
import type { SourceConfig } from '../../pipeline/config.js';
import { Secret } from '../../pipeline/secrets.js';
import { type Row, type Store, timestamptz } from '../../pipeline/store.js';
import { FakeClock } from '../helpers/clock.js';
import {
  type Handler,
  json,
  type Loopback,
  type Reply,
  type Request,
  startLoopback,
} from '../helpers/loopback.js';
import { insertTopic, sourceConfig, testContext, testDeps } from '../helpers/runner.js';
import { openTestStore } from '../helpers/store.js';
import { describeSource, type FakeApi } from './suite.js';

const fixturePath = (name: string) => new URL(`../fixtures/listening/${name}`, import.meta.url);
const load = (name: string) => JSON.parse(readFileSync(fixturePath(name), 'utf8'));

interface Tweet {
  id: string;
  text: string;
  author_id: string;
  referenced_tweets?: Array<{ type: string; id: string }>;
}
interface User {
  id: string;
}
const page1 = load('x_search_recent_page1.json');
const page2 = load('x_search_recent_page2.json');
const extra = load('x_search_recent_retweet_reply.json');
const emptyPage = load('x_search_recent_empty.json');
const rateLimitedBody = readFileSync(fixturePath('x_search_recent_429.json'), 'utf8');
/** The fixture's headers, minus the status line. */
const rateLimitedHeaders = Object.fromEntries(
  readFileSync(fixturePath('x_search_recent_429.headers.txt'), 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.includes(':'))
    .map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
);

const allTweets: Tweet[] = [...page1.data, ...page2.data, ...extra.data].sort((a, b) =>
  BigInt(a.id) < BigInt(b.id) ? 1 : -1,
);
const allUsers = new Map<string, User>(
  [...page1.includes.users, ...page2.includes.users, ...extra.includes.users].map((u: User) => [u.id, u]),
);
const referenced = new Map<string, Tweet>(extra.includes.tweets.map((t: Tweet) => [t.id, t]));

const TOKEN = 'AAAAAAAAAAAAAAAAAAAAAFakeBearerToken0123456789abcdefXYZ';
const bearer = new Secret('X_BEARER_TOKEN', TOKEN);
const SEARCH = '/2/tweets/search/recent';
/** X rejects a since_id from before its 7-day window; ids below this stand for such posts. */
const STALE_BELOW = 1_867_000_000_000_000_000n;
const NEWEST = '1868000000000000005';
// Where the run after a finished one starts: NEWEST's time (id >> 22) minus one minute, shifted back
// into an id ((445365905761 - 60000) << 22), so posts X indexes late are still found.
const NEXT_SINCE = '1867999748338745344';
// A few minutes before the fixture's x-rate-limit-reset (1735812000 = 2025-01-02T10:00:00Z).
const START = new Date('2025-01-02T09:55:00Z');

const problem = (status: number, body: Record<string, unknown>): Reply => ({
  ...json(body),
  status,
  headers: { 'content-type': 'application/problem+json' },
});
const invalidRequest = (message: string, parameters: Record<string, string[]>) =>
  problem(400, {
    errors: [{ parameters, message }],
    title: 'Invalid Request',
    detail: 'One or more parameters to your request was invalid.',
    type: 'https://api.twitter.com/2/problems/invalid-request',
  });

const encodeToken = (before: string) => Buffer.from(`before:${before}`).toString('base64url');
function decodeToken(token: string): bigint | null {
  const m = /^before:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  return m?.[1] ? BigInt(m[1]) : null;
}

/**
 * Recent search as X serves it: bearer auth, newest first, ids above since_id, opaque next_token,
 * author and referenced-post expansions, 400 for a since_id outside the 7 days. It pages by 2 whatever
 * max_results asks (X too may return fewer than max_results), so every partition has several pages.
 */
function fakeX(pageSize = 2): FakeApi {
  return {
    isData: (req) => req.url.pathname === SEARCH,
    handler: (req) => {
      if (req.url.pathname !== SEARCH) return problem(404, { title: 'Not Found Error', status: 404 });
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        return problem(401, {
          title: 'Unauthorized',
          type: 'about:blank',
          status: 401,
          detail: 'Unauthorized',
        });
      }
      const p = req.url.searchParams;
      const query = p.get('query') ?? '';
      const max = Number(p.get('max_results') ?? 10);
      if (!query || !(max >= 10 && max <= 100)) {
        return invalidRequest('The query or max_results parameter is invalid', { query: [query] });
      }
      const since = p.get('since_id');
      if (since && BigInt(since) < STALE_BELOW) {
        return invalidRequest(
          `'since_id' must be a tweet id created after 2024-12-26T09:55Z. Please use a 'since_id' that is larger than ${STALE_BELOW}`,
          { since_id: [since] },
        );
      }
      const token = p.get('next_token');
      const before = token ? decodeToken(token) : undefined;
      if (before === null) return invalidRequest('Invalid next_token', { next_token: [token ?? ''] });
      const phrase = query.replace(/^"|"$/g, '').toLowerCase();
      const matching = allTweets.filter(
        (t) =>
          t.text.toLowerCase().includes(phrase) &&
          (!since || BigInt(t.id) > BigInt(since)) &&
          (before === undefined || BigInt(t.id) < before),
      );
      const items = matching.slice(0, Math.min(pageSize, max));
      if (items.length === 0) return json(emptyPage);
      const authors = [...new Set(items.map((t) => t.author_id))].flatMap((id) => allUsers.get(id) ?? []);
      const refs = items.flatMap((t) =>
        (t.referenced_tweets ?? []).flatMap((r) => referenced.get(r.id) ?? []),
      );
      const last = items.at(-1) as Tweet;
      return json({
        data: items,
        includes: { users: authors, ...(refs.length > 0 ? { tweets: refs } : {}) },
        meta: {
          newest_id: items[0]?.id,
          oldest_id: last.id,
          result_count: items.length,
          ...(matching.length > items.length ? { next_token: encodeToken(last.id) } : {}),
        },
      });
    },
  };
}

const rateLimited = (): Reply => ({ status: 429, headers: rateLimitedHeaders, body: rateLimitedBody });

describeSource({
  source: 'x',
  settings: { bearerToken: bearer },
  keywords: ['acme', 'acme support'],
  start: START,
  api: () => fakeX(),
  expectedIds: allTweets.map((t) => t.id),
  checkRows(rows) {
    const byId = new Map(rows.map((r) => [String(r.native_id), r]));
    expect(byId.get('1868000000000000003')).toMatchObject({
      url: 'https://x.com/devperson/status/1868000000000000003',
      text: 'Loving the new @acme headphones, battery lasts forever',
      lang: 'en',
      channel: 'post',
      author_id: '2244994945',
      author_handle: 'devperson',
      author_name: 'Dev Person',
      author_followers: 1320,
      likes: 31,
      reposts: 4,
      replies: 2,
      views: 2210,
      conversation_id: '1868000000000000003',
      parent_id: null,
      is_repost: false,
      repost_of: null,
      created_at_estimated: false,
    });
    expect((byId.get('1868000000000000003')?.created_at as Date | undefined)?.toISOString()).toBe(
      '2025-01-02T10:15:00.000Z',
    );
    expect(byId.get('1868000000000000002')).toMatchObject({
      author_handle: 'bigaccount',
      author_name: 'Big Account',
      author_followers: 250000,
      reposts: 12,
      views: 15403,
    });
    // page2's post has no conversation_id: null, not a guess.
    expect(byId.get('1868000000000000001')).toMatchObject({ conversation_id: null, likes: 2, replies: 1 });
    expect(byId.get('1868000000000000004')).toMatchObject({
      channel: 'reply',
      parent_id: '1868000000000000002',
      conversation_id: '1868000000000000002',
      text: '@bigaccount @acme same here, opened one on Monday\nstill nothing',
      author_handle: 'jo_writes',
    });
    expect(byId.get(NEWEST)).toMatchObject({
      channel: 'retweet',
      is_repost: true,
      repost_of: '1867990000000000001',
      author_handle: 'acmefan',
      author_name: 'Acme Fan ★',
      text: "RT @acmeofficial: Our spring lineup is here & it's loud. Headphones, speakers & more >> acme.example/spring",
    });
    expect(JSON.parse(String(byId.get(NEWEST)?.raw))).toMatchObject({
      id: NEWEST,
      referenced_tweets: [{ type: 'retweeted' }],
    });
  },
  farFutureBookmark: () => ({ sinceId: '9999999999999999999' }),
  rateLimited,
});

// ---- X-specific behaviour -------------------------------------------------------------------------

describe('collector x: specifics', () => {
  let store: Store;
  let cleanup: () => void;
  let server: Loopback;
  let clock: FakeClock;
  let logs: string[][];
  const logLines = () => logs.flat();
  let route: Handler;
  const results: PartitionResult[][] = [];

  const settingsWith = (extraSettings: Record<string, unknown> = {}) =>
    x.configSchema.parse({ bearerToken: bearer, ...extraSettings });
  const sourceWith = (settings: unknown): SourceConfig => sourceConfig('x', server.url, settings);
  const deps = (signal = new AbortController().signal): RunnerDeps => {
    const { deps, lines } = testDeps(store, clock, { signal });
    logs.push(lines);
    return deps;
  };
  const run = async (settings: unknown = settingsWith()) => {
    const r = await collectSource(sourceWith(settings), deps());
    results.push(r);
    return r;
  };
  const rows = () => store.query("SELECT * FROM mentions WHERE source = 'x' ORDER BY native_id");
  const bookmarkOf = async (partition: string) => {
    const r = await store.query("SELECT state FROM bookmarks WHERE source = 'x' AND partition = $1", [
      partition,
    ]);
    return r[0] ? JSON.parse(String(r[0].state)) : undefined;
  };
  const setBookmark = (partition: string, state: unknown) =>
    store.write((conn) =>
      conn.run('INSERT OR REPLACE INTO bookmarks VALUES ($1, $2, $3, $4)', [
        'x',
        partition,
        JSON.stringify(state),
        timestamptz(clock.now()),
      ]),
    );
  const dataRequests = () => server.requests.filter((r) => r.url.pathname === SEARCH);
  const ctxFor = (signal: AbortSignal = new AbortController().signal): CollectorContext =>
    testContext(clock, server.url, { signal });

  beforeEach(async () => {
    ({ store, cleanup } = await openTestStore());
    clock = new FakeClock(START.getTime());
    logs = [];
    results.length = 0;
    const api = fakeX();
    route = api.handler;
    server = await startLoopback((req) => route(req));
    await insertTopic(store, ['acme']);
  });
  afterEach(async () => {
    await server.close();
    cleanup();
  });

  /** Answers `replies` to the next data requests in turn, then behaves. */
  const inject = (...replies: Array<(req: Request) => Reply | Promise<Reply>>) => {
    const good = route;
    route = (req) => {
      const next = req.url.pathname === SEARCH ? replies.shift() : undefined;
      return next ? next(req) : good(req);
    };
  };

  it('turns topic keywords into queries, quoting multi-word ones; `queries` overrides them', () => {
    const targets = { keywords: ['acme', 'acme support', '"acme buds"', 'acme'] };
    expect(x.partitions(settingsWith(), targets)).toEqual([
      { key: 'acme', query: 'acme' },
      { key: '"acme support"', query: '"acme support"' },
      { key: '"acme buds"', query: '"acme buds"' },
    ]);
    expect(x.partitions(settingsWith({ queries: ['acme -is:retweet lang:en'] }), targets)).toEqual([
      { key: 'acme -is:retweet lang:en', query: 'acme -is:retweet lang:en' },
    ]);
    expect(settingsWith().maxResults).toBe(100);
    expect(() => settingsWith({ maxResults: 5 })).toThrow();
    expect(() => x.configSchema.parse({ bearerToken: TOKEN })).toThrow(/secret/);
    expect(() => x.configSchema.parse({ bearerToken: bearer, bogus: 1 })).toThrow();
  });

  it('sends the bearer token and the search parameters through the library', async () => {
    const [result] = await run(settingsWith({ maxResults: 50 }));
    expect(result).toMatchObject({ status: 'ok', rows: 5, newRows: 5 });
    const reqs = dataRequests();
    expect(reqs.length).toBe(3);
    for (const req of reqs) {
      expect(req.headers.authorization).toBe(`Bearer ${TOKEN}`);
      const p = req.url.searchParams;
      expect(p.get('query')).toBe('acme');
      expect(p.get('max_results')).toBe('50');
      expect(p.get('expansions')).toBe('author_id,referenced_tweets.id');
      expect(p.get('tweet.fields')).toBe(
        'created_at,lang,public_metrics,conversation_id,referenced_tweets,in_reply_to_user_id',
      );
      expect(p.get('user.fields')).toBe('username,name,public_metrics,verified');
      expect(p.has('since_id')).toBe(false);
    }
    expect(reqs[0]?.url.searchParams.has('next_token')).toBe(false);
    expect(reqs[1]?.url.searchParams.get('next_token')).toBe(encodeToken('1868000000000000004'));
    expect(await bookmarkOf('acme')).toEqual({ sinceId: NEXT_SINCE });
  });

  it('fills author fields from the users expansion and refreshes the authors table', async () => {
    await run();
    const byId = new Map((await rows()).map((r) => [String(r.native_id), r]));
    expect(byId.get('1868000000000000001')).toMatchObject({
      author_id: '2244994945',
      author_handle: 'devperson',
      author_name: 'Dev Person',
      author_followers: 1320,
      url: 'https://x.com/devperson/status/1868000000000000001',
    });
    const authors = await store.query(
      "SELECT author_id, handle, followers, mentions FROM authors WHERE source = 'x' ORDER BY author_id",
    );
    expect(authors.map((a) => [a.author_id, a.handle, a.followers, a.mentions])).toEqual([
      ['1122334455', 'acmefan', 87, 1],
      ['2244994945', 'devperson', 1320, 2],
      ['783214', 'bigaccount', 250000, 1],
      ['99887766', 'jo_writes', 512, 1],
    ]);
  });

  it('links an author-less post to x.com/i/web and keeps the rest of it', async () => {
    inject(() =>
      json({
        data: [{ ...page2.data[0], id: '1868000000000000009', author_id: '404404' }],
        meta: { result_count: 1 },
      }),
    );
    await run();
    const [row] = (await rows()).filter((r) => r.native_id === '1868000000000000009');
    expect(row).toMatchObject({
      url: 'https://x.com/i/web/status/1868000000000000009',
      author_id: '404404',
      author_handle: null,
      author_followers: null,
    });
  });

  it('stores a retweet flagged as a repost of the original', async () => {
    await run();
    const [rt] = (await rows()).filter((r) => r.native_id === NEWEST);
    expect(rt).toMatchObject({ is_repost: true, repost_of: '1867990000000000001', channel: 'retweet' });
    // The original only came as an expansion: it is not a mention of its own.
    expect((await rows()).some((r) => r.native_id === '1867990000000000001')).toBe(false);
  });

  it('keeps since_id fixed while paging, resumes by next_token, and sends the newest id next run', async () => {
    await setBookmark('acme', { sinceId: '1868000000000000001' });
    const controller = new AbortController();
    const first = await collectSource(sourceWith(settingsWith()), {
      ...deps(controller.signal),
      onProgress: (e) => {
        if (e.status === 'running' && e.rows > 0) controller.abort(new Error('simulated crash'));
      },
    });
    expect(first[0]?.status).toBe('aborted');
    // Interrupted after page 1: the floor is unchanged and the run's cursor is kept.
    expect(await bookmarkOf('acme')).toEqual({
      sinceId: '1868000000000000001',
      run: { nextToken: encodeToken('1868000000000000004'), newestId: NEWEST },
    });
    const before = dataRequests().length;
    await run();
    const resumed = dataRequests().slice(before);
    expect(resumed.map((r) => r.url.searchParams.get('since_id'))).toEqual(['1868000000000000001']);
    expect(resumed[0]?.url.searchParams.get('next_token')).toBe(encodeToken('1868000000000000004'));
    expect((await rows()).map((r) => r.native_id)).toEqual([
      '1868000000000000002',
      '1868000000000000003',
      '1868000000000000004',
      NEWEST,
    ]);
    // The look-back point is below the old since_id, which never moves backwards.
    expect(await bookmarkOf('acme')).toEqual({ sinceId: '1868000000000000001' });

    const mark = dataRequests().length;
    const [again] = await run();
    expect(again).toMatchObject({ status: 'ok', newRows: 0 });
    const next = dataRequests().slice(mark);
    // The same floor again, so the same two pages come back and add nothing.
    expect(next.map((r) => r.url.searchParams.get('since_id'))).toEqual([
      '1868000000000000001',
      '1868000000000000001',
    ]);
    expect(await bookmarkOf('acme')).toEqual({ sinceId: '1868000000000000001' });
  });

  it('drops a since_id older than the 7-day window after X answers 400, and collects everything', async () => {
    await setBookmark('acme', { sinceId: '1866000000000000000' });
    const [result] = await run();
    expect(result).toMatchObject({ status: 'ok', newRows: 5, error: null });
    const reqs = dataRequests();
    expect(reqs[0]?.url.searchParams.get('since_id')).toBe('1866000000000000000');
    expect(reqs.slice(1).every((r) => !r.url.searchParams.has('since_id'))).toBe(true);
    expect(reqs.length).toBe(4);
    expect(await bookmarkOf('acme')).toEqual({ sinceId: NEXT_SINCE });
    expect(logLines().some((l) => l.includes('7-day search window'))).toBe(true);
  });

  it('drops a stale since_id in a resumed run too, restarting it from the top', async () => {
    await setBookmark('acme', {
      sinceId: '1866000000000000000',
      run: { nextToken: encodeToken('1868000000000000003'), newestId: '1868000000000000004' },
    });
    const [result] = await run();
    expect(result).toMatchObject({ status: 'ok', newRows: 5 });
    const reqs = dataRequests();
    expect(reqs[1]?.url.searchParams.has('since_id')).toBe(false);
    expect(reqs[1]?.url.searchParams.has('next_token')).toBe(false);
    expect(await bookmarkOf('acme')).toEqual({ sinceId: NEXT_SINCE });
  });

  it('reports any other 400 with what X said', async () => {
    inject(() =>
      invalidRequest('There were errors processing your request: Ambiguous use of and', {
        query: ['acme AND'],
      }),
    );
    const [result] = await run();
    expect(result?.status).toBe('error');
    expect(result?.error).toContain('X answered HTTP 400 to recent search: Invalid Request');
    expect(result?.error).toContain('Ambiguous use of and');
  });

  it('reports a refused token (401) clearly and does not retry it', async () => {
    const [result] = await run(
      x.configSchema.parse({
        bearerToken: new Secret('X_BEARER_TOKEN', 'AAAAAAAAAAAAAAAAAAAAArevokedToken99'),
      }),
    );
    expect(result?.status).toBe('error');
    expect(result?.error).toMatch(/X refused the bearer token \(HTTP 401/);
    expect(dataRequests().length).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('ends rate limited until x-rate-limit-reset when the reset is too far to wait for', async () => {
    clock.set(new Date('2025-01-02T09:00:00Z'));
    inject(() => rateLimited());
    const [result] = await run();
    expect(result).toMatchObject({ status: 'rate_limited', resumeAfter: '2025-01-02T10:00:00.000Z' });
    expect(clock.sleeps).toEqual([]);
    // Before the reset the partition is skipped; after it, collected in full.
    expect((await run())[0]?.status).toBe('skipped');
    clock.set(new Date('2025-01-02T10:00:01Z'));
    expect((await run())[0]).toMatchObject({ status: 'ok', newRows: 5 });
  });

  it('waits a near 429 out until the reset X gives', async () => {
    inject(() => rateLimited());
    const [result] = await run();
    expect(result).toMatchObject({ status: 'ok', newRows: 5 });
    // 09:55 -> 10:00 plus the second of margin withRetries adds.
    expect(clock.sleeps).toEqual([5 * 60_000 + 1000]);
  });

  it('retries a page cut off mid-body instead of quarantining it', async () => {
    // The loopback helper's cutAfter drops the socket before the headers leave, which only tests a
    // refused connection: this server sends the status and headers first, then half the body.
    const api = fakeX();
    let cut = false;
    const raw = createNetServer((socket) => {
      let head = '';
      socket.on('data', async (chunk: Buffer) => {
        head += chunk.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        const [line = '', ...lines] = head.slice(0, head.indexOf('\r\n\r\n')).split('\r\n');
        head = '';
        const headers = Object.fromEntries(
          lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
        );
        const req: Request = {
          method: line.split(' ')[0] ?? 'GET',
          url: new URL(line.split(' ')[1] ?? '/', 'http://127.0.0.1'),
          headers,
          body: '',
        };
        const reply = await api.handler(req);
        const body = Buffer.from(String(reply.body ?? ''));
        const status = `HTTP/1.1 ${reply.status ?? 200} X\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`;
        if (cut || req.url.pathname !== SEARCH) {
          socket.end(Buffer.concat([Buffer.from(status), body]));
          return;
        }
        cut = true;
        socket.write(status);
        await new Promise((r) => setTimeout(r, 30));
        socket.write(body.subarray(0, Math.floor(body.length / 2)));
        await new Promise((r) => setTimeout(r, 30));
        socket.destroy();
      });
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = raw.address() as AddressInfo;
      const source = { ...sourceWith(settingsWith()), baseUrl: `http://127.0.0.1:${port}` };
      const [result] = await collectSource(source, deps());
      expect(cut).toBe(true);
      expect(result).toMatchObject({ status: 'ok', newRows: 5, quarantined: 0 });
      expect(clock.sleeps.length).toBe(1);
      expect(await store.query('SELECT * FROM quarantine')).toEqual([]);
    } finally {
      await new Promise((resolve) => raw.close(resolve));
    }
  });

  it('refuses a page larger than 10 MB instead of buffering it', async () => {
    const huge = JSON.stringify({ data: [], meta: { result_count: 0 }, pad: 'x'.repeat(11 * 1024 * 1024) });
    inject(() => ({ headers: { 'content-type': 'application/json' }, body: huge }));
    const [result] = await run();
    expect(result?.status).toBe('error');
    expect(result?.error).toContain('larger than the 10485760-byte limit');
  });

  it('quarantines one malformed post and stores the rest of its page', async () => {
    inject(() =>
      json({
        data: [page1.data[0], { id: '1868000000000000042', text: 'no date on this one' }],
        includes: page1.includes,
        meta: { result_count: 2, next_token: encodeToken('1868000000000000003') },
      }),
    );
    const [result] = await run();
    expect(result).toMatchObject({ status: 'ok', quarantined: 1 });
    const q = await store.query('SELECT error, raw, url FROM quarantine');
    expect(q).toHaveLength(1);
    expect(String(q[0]?.error)).toContain('created_at');
    expect(JSON.parse(String(q[0]?.raw)).id).toBe('1868000000000000042');
    expect(String(q[0]?.url)).toContain(`${server.url}${SEARCH}?query=acme`);
    expect((await rows()).map((r) => r.native_id)).toEqual([
      '1868000000000000001',
      '1868000000000000002',
      '1868000000000000003',
    ]);
  });

  it('quarantines a well-formed JSON page of the wrong shape as received, keeping the bookmark', async () => {
    await setBookmark('acme', { sinceId: '1868000000000000001' });
    const body = '{"data":{"id":"1"},"meta":"nope"}';
    inject(() => ({ headers: { 'content-type': 'application/json' }, body }));
    const [result] = await run();
    expect(result?.status).toBe('error');
    expect(result?.error).toMatch(/unexpected page shape/);
    const q = await store.query('SELECT raw, error FROM quarantine');
    expect(q.map((r) => r.raw)).toEqual([body]);
    expect(await bookmarkOf('acme')).toEqual({ sinceId: '1868000000000000001' });
  });

  it('never lets the token reach log lines, the database or results', async () => {
    inject(
      () => ({ status: 503, body: 'busy' }),
      async (req) => {
        const good = await fakeX().handler(req);
        return { ...good, body: String(good.body).slice(0, 30) };
      },
    );
    await run();
    await run();
    await run(
      x.configSchema.parse({ bearerToken: new Secret('X_OTHER', 'AAAAAAAAAAAAAAAAAAAAAwrongTokenZZZ') }),
    );
    await run(settingsWith({ queries: ['"acme support"'] }));
    expect(dataRequests().some((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(Number((await store.query('SELECT count(*) AS n FROM quarantine'))[0]?.n)).toBeGreaterThan(0);
    expect(
      Number((await store.query('SELECT count(*) AS n FROM collection_runs WHERE error IS NOT NULL'))[0]?.n),
    ).toBeGreaterThan(0);

    // '[redacted]' too: the runner's redact() would hide a leak, so prove nothing even tried.
    const needles = [TOKEN, 'FakeBearerToken', 'wrongTokenZZZ', 'Bearer ', '[redacted]'];
    const columns = await store.query(
      `SELECT table_name, column_name FROM information_schema.columns
       WHERE table_name IN ('mentions', 'quarantine', 'collection_runs', 'bookmarks', 'authors')
         AND data_type IN ('VARCHAR', 'JSON')`,
    );
    expect(columns.length).toBeGreaterThan(15);
    for (const { table_name, column_name } of columns as Array<
      Row & { table_name: string; column_name: string }
    >) {
      for (const needle of needles) {
        const hits = await store.query(
          `SELECT count(*) AS n FROM ${table_name} WHERE contains(CAST("${column_name}" AS VARCHAR), $1)`,
          [needle],
        );
        expect(Number(hits[0]?.n), `${needle} in ${table_name}.${column_name}`).toBe(0);
      }
    }
    expect(logLines().length).toBeGreaterThan(0);
    const text = [...logLines(), JSON.stringify(results)].join('\n');
    for (const needle of needles) expect(text).not.toContain(needle);
  });

  it('check() passes with a good token and explains a refused one', async () => {
    expect(await x.check(settingsWith(), ctxFor())).toEqual({ ok: true });
    const check = dataRequests().at(-1);
    expect(check?.url.searchParams.get('max_results')).toBe('10');
    expect(check?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    const refused = await x.check(
      x.configSchema.parse({ bearerToken: new Secret('X_BAD', 'AAAAAAAAAAAAAAAAAAAAAnotTheToken') }),
      ctxFor(),
    );
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.reason).toMatch(/X refused the bearer token \(HTTP 401: Unauthorized/);
    expect(!refused.ok && refused.reason).not.toContain('notTheToken');
  });

  it('check() reports a rate limit instead of waiting for it', async () => {
    inject(() => rateLimited());
    const result = await x.check(settingsWith(), ctxFor());
    expect(result).toEqual({
      ok: false,
      reason: `rate limited by ${new URL(server.url).host} until 2025-01-02T10:00:00.000Z`,
    });
    expect(clock.sleeps).toEqual([]);
  });

  it('stops at once when ctx.signal aborts a request X does not answer', async () => {
    let release: () => void = () => undefined;
    inject(
      () =>
        new Promise<Reply>((resolve) => {
          release = () => resolve({ status: 500 });
        }),
    );
    const controller = new AbortController();
    const iterator = x.read(
      settingsWith(),
      { key: 'acme', query: 'acme' },
      undefined,
      ctxFor(controller.signal),
    );
    const next = iterator[Symbol.asyncIterator]().next();
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    controller.abort(new Error('shutting down'));
    await expect(next).rejects.toThrow('shutting down');
    expect(Date.now() - started).toBeLessThan(1000);
    release();
  });
});

describe('x since_id look-back', () => {
  it('moves the next floor one minute before the newest post, never below the old floor', () => {
    const at = (ms: bigint) => ((ms << 22n) + 123n).toString();
    const newest = at(445_365_905_761n);
    expect(nextSinceId(newest, undefined)).toBe((445_365_845_761n << 22n).toString());
    // A post stamped 30 s before the newest, indexed late, is above the floor and found next run.
    expect(BigInt(at(445_365_875_761n)) > BigInt(nextSinceId(newest, undefined) ?? '0')).toBe(true);
    expect(nextSinceId(newest, at(445_365_900_000n))).toBe(at(445_365_900_000n));
    expect(nextSinceId(undefined, '42')).toBe('42');
  });
});
