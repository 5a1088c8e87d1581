import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { linkParams, mastodon } from '../../collectors/mastodon.js';
import { Secret } from '../../pipeline/secrets.js';
import type { Store } from '../../pipeline/store.js';
import { type Handler, json, type Reply, type Request, startLoopback } from '../helpers/loopback.js';
import { databaseText, sourceHarness } from '../helpers/runner.js';
import { describeSource } from './suite.js';

const fixtureUrl = (name: string) => new URL(`../fixtures/listening/${name}`, import.meta.url);
// biome-ignore lint/suspicious/noExplicitAny: statuses are plain JSON varied from the fixture.
type Status = Record<string, any>;
const fixture: Status = JSON.parse(readFileSync(fixtureUrl('mastodon_tag_timeline.json'), 'utf8'))[0];
/** The fixture's response headers (rate-limit names and Link format), lower-cased. */
const fixtureHeaders: Record<string, string> = Object.fromEntries(
  readFileSync(fixtureUrl('mastodon_tag_timeline.headers.txt'), 'utf8')
    .split(/\r?\n/)
    .slice(1)
    .filter((l) => l.includes(':'))
    .map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
);

const BASE_ID = BigInt(fixture.id);
/** Mastodon ids are snowflakes: milliseconds << 16. */
const MINUTE = 60_000n << 16n;

/** The fixture status moved `k` minutes later, with its own id, uri and text. */
function status(k: number, tags: string[], extra: Status = {}): Status {
  const id = (BASE_ID + BigInt(k) * MINUTE).toString();
  const base: Status =
    k === 0
      ? { ...fixture }
      : {
          ...fixture,
          id,
          created_at: new Date(Date.parse(fixture.created_at) + k * 60_000).toISOString(),
          uri: `https://mastodon.social/users/Gargron/statuses/${id}`,
          url: `https://mastodon.social/@Gargron/${id}`,
          content: `<p>Update ${k} on <a href="https://mastodon.social/tags/acme" class="mention hashtag">#<span>acme</span></a> &amp; friends</p>`,
          card: null,
        };
  return {
    ...base,
    tags: tags.map((name) => ({ name, url: `https://mastodon.social/tags/${name}` })),
    ...extra,
  };
}

const remoteAccount = {
  ...fixture.account,
  id: '109',
  username: 'alice',
  acct: 'alice@example.org',
  display_name: 'Alice',
  url: 'https://example.org/@alice',
  followers_count: 12,
};

interface Timeline {
  statuses: Status[];
  /** Bearer token the fake requires, when set. */
  token?: string;
}

/** Mastodon's tag timeline: newest first, max_id / min_id / since_id, Link header, at most 2 a page. */
function tagTimeline(t: Timeline): Handler {
  return (req: Request): Reply => {
    const m = /^\/api\/v1\/timelines\/tag\/([^/]+)$/.exec(req.url.pathname);
    if (!m) return { status: 404, body: '{"error":"Record not found"}' };
    if (t.token && req.headers.authorization !== `Bearer ${t.token}`) {
      return { status: 401, ...json({ error: 'The access token is invalid' }) };
    }
    const tag = decodeURIComponent(m[1] ?? '').toLowerCase();
    const q = req.url.searchParams;
    const per = Math.min(Number(q.get('limit') ?? 20), 40, 2);
    const maxId = q.get('max_id');
    const minId = q.get('min_id');
    const sinceId = q.get('since_id');
    let list = t.statuses
      .filter((s) => (s.tags as Array<{ name: string }>).some((x) => x.name === tag))
      .filter((s) => maxId === null || BigInt(s.id) < BigInt(maxId))
      .filter((s) => sinceId === null || BigInt(s.id) > BigInt(sinceId))
      .filter((s) => minId === null || BigInt(s.id) > BigInt(minId))
      .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? 1 : -1));
    // min_id answers the statuses immediately above it, still newest first.
    list = minId !== null ? list.slice(-per) : list.slice(0, per);
    const headers: Record<string, string> = {
      'x-ratelimit-limit': fixtureHeaders['x-ratelimit-limit'] ?? '300',
      'x-ratelimit-remaining': '299',
      'x-ratelimit-reset': fixtureHeaders['x-ratelimit-reset'] ?? new Date().toISOString(),
    };
    const first = list[0];
    const last = list.at(-1);
    if (first && last) {
      const self = `https://mastodon.social/api/v1/timelines/tag/${tag}`;
      headers.link = `<${self}?max_id=${last.id}>; rel="next", <${self}?min_id=${first.id}>; rel="prev"`;
    }
    return json(list, headers);
  };
}

const rateLimited = (now: Date, waitMs = 5 * 60_000): Reply => ({
  status: 429,
  headers: {
    'content-type': 'application/json; charset=utf-8',
    'x-ratelimit-limit': fixtureHeaders['x-ratelimit-limit'] ?? '300',
    'x-ratelimit-remaining': '0',
    'x-ratelimit-reset': new Date(now.getTime() + waitMs).toISOString(),
  },
  body: JSON.stringify({ error: 'Too many requests' }),
});

const suiteStatuses = (): Status[] => [
  status(0, ['acme']),
  status(1, ['acme'], { spoiler_text: 'CW: outage', language: 'de', content: '<p>Acme ist down</p>' }),
  status(2, ['acme'], {
    account: remoteAccount,
    uri: 'https://example.org/users/alice/statuses/42',
    url: 'https://example.org/@alice/42',
    in_reply_to_id: BASE_ID.toString(),
  }),
  status(3, ['acme', 'acmecorp']),
  status(4, ['acme', 'acmecorp']),
  status(5, ['acmecorp']),
];
const suiteIds = suiteStatuses().map((s) => String(s.uri));

describeSource({
  source: 'mastodon',
  settings: { backfillPages: 10 },
  keywords: ['acme', 'Acme Corp'],
  start: new Date('2019-12-09T00:00:00Z'),
  api: () => {
    const statuses = suiteStatuses();
    return {
      isData: (req) => req.url.pathname.startsWith('/api/v1/timelines/tag/'),
      handler: tagTimeline({ statuses }),
    };
  },
  expectedIds: suiteIds,
  checkRows(rows) {
    const byId = new Map(rows.map((r) => [String(r.native_id), r]));
    const first = byId.get(String(fixture.uri));
    expect(first).toMatchObject({
      url: fixture.url,
      lang: 'en',
      author_id: 'https://mastodon.social/@Gargron',
      author_handle: 'Gargron@mastodon.social',
      author_name: 'Eugen',
      likes: 11,
      reposts: 6,
      replies: 5,
      parent_id: null,
      is_repost: false,
      repost_of: null,
    });
    expect(Number(first?.author_followers)).toBe(322930);
    expect(String(first?.channel)).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(first?.text).toBe(
      '"I lost my inheritance with one wrong digit on my sort code"\nhttps://www.theguardian.com/money/2019/dec/07/i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code',
    );
    expect((first?.created_at as Date | undefined)?.toISOString()).toBe('2019-12-08T03:48:33.901Z');
    expect(JSON.parse(String(first?.raw)).id).toBe(fixture.id);

    const spoiler = rows.find((r) => r.lang === 'de');
    expect(spoiler?.text).toBe('CW: outage\nAcme ist down');

    const reply = byId.get('https://example.org/users/alice/statuses/42');
    expect(reply).toMatchObject({
      author_handle: 'alice@example.org',
      author_id: 'https://example.org/@alice',
      author_name: 'Alice',
      parent_id: fixture.id,
      url: 'https://example.org/@alice/42',
    });
    expect(reply?.text).toBe('Update 2 on #acme & friends');
  },
  farFutureBookmark: () => ({ minId: '999999999999999999999' }),
  rateLimited: (now) => rateLimited(now),
});

/** A store, a fake instance and a runner for the source-specific tests. */
async function setUp(timeline: Timeline, settings: (url: string) => Record<string, unknown> = () => ({})) {
  return sourceHarness({
    id: 'mastodon',
    start: new Date('2019-12-09T00:00:00Z'),
    handler: () => tagTimeline(timeline),
    settings,
    keywords: ['acme'],
    ctx: { maxRateLimitWaitMs: 0 },
  });
}

const rowsOf = (store: Store) =>
  store.query("SELECT * FROM mentions WHERE source = 'mastodon' ORDER BY created_at");

describe('mastodon specifics', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('derives tags from keywords and keys partitions by instance and tag', () => {
    const settings = mastodon.configSchema.parse({});
    expect(mastodon.partitions(settings, { keywords: ['#Acme', 'Acme Corp', 'acme', '한빛 전자'] })).toEqual([
      { key: 'mastodon.social#acme', instance: null, tag: 'acme' },
      { key: 'mastodon.social#acmecorp', instance: null, tag: 'acmecorp' },
      { key: 'mastodon.social#한빛전자', instance: null, tag: '한빛전자' },
    ]);
    const two = mastodon.configSchema.parse({
      instances: ['https://fosstodon.org/', 'https://mastodon.social'],
      tags: ['#Acme'],
    });
    expect(mastodon.partitions(two, { keywords: ['ignored'] }).map((p) => p.key)).toEqual([
      'fosstodon.org#Acme',
      'mastodon.social#Acme',
    ]);
    expect(() => mastodon.configSchema.parse({ token: 'plain-text-token' })).toThrow(/secret/);
  });

  it('reads max_id and min_id from the Link header', () => {
    expect(linkParams(fixtureHeaders.link ?? null)).toEqual({
      next: '103270115826048975',
      prev: '103270115826048975',
    });
    expect(linkParams(null)).toEqual({});
  });

  it('stores a boost flagged, pointing at the original, with its text', async () => {
    const original = status(0, ['acme']);
    const boost = {
      ...status(1, ['acme']),
      uri: 'https://example.org/users/alice/statuses/43/activity',
      url: null,
      content: '',
      language: null,
      account: remoteAccount,
      replies_count: 0,
      reblogs_count: 0,
      favourites_count: 0,
      reblog: original,
    };
    const h = await setUp({ statuses: [boost] });
    close = h.close;
    const [result] = await h.run();
    expect(result?.status).toBe('ok');
    const [row] = await rowsOf(h.store);
    expect(row).toMatchObject({
      native_id: boost.uri,
      is_repost: true,
      repost_of: fixture.uri,
      url: fixture.url,
      lang: 'en',
      author_handle: 'alice@example.org',
      parent_id: null,
      likes: 0,
    });
    expect(row?.text).toContain('I lost my inheritance');
  });

  it('pages forward with min_id on the second run, following the Link header', async () => {
    const statuses = [0, 1, 2].map((k) => status(k, ['acme']));
    const h = await setUp({ statuses });
    close = h.close;
    await h.run();
    expect((await rowsOf(h.store)).length).toBe(3);
    const newest = statuses[2]?.id as string;
    const bm = await h.store.query("SELECT state FROM bookmarks WHERE source = 'mastodon'");
    expect(JSON.parse(String(bm[0]?.state))).toEqual({ minId: newest });

    for (const k of [3, 4, 5, 6, 7]) statuses.push(status(k, ['acme']));
    h.server.requests.length = 0;
    const [second] = await h.run();
    expect(second).toMatchObject({ status: 'ok', newRows: 5 });
    const sent = h.server.requests.map((r) => r.url.searchParams);
    expect(sent.every((p) => p.get('max_id') === null && p.get('limit') === '40')).toBe(true);
    // Pages of two, oldest first: each min_id is the newest id of the page before.
    expect(sent.map((p) => p.get('min_id'))).toEqual([
      newest,
      statuses[4]?.id,
      statuses[6]?.id,
      statuses[7]?.id,
    ]);
    expect((await rowsOf(h.store)).length).toBe(8);
    const after = await h.store.query("SELECT state FROM bookmarks WHERE source = 'mastodon'");
    expect(JSON.parse(String(after[0]?.state))).toEqual({ minId: statuses[7]?.id });
  });

  it('keeps the first run within backfillPages and sets minId to the newest status', async () => {
    const statuses = [0, 1, 2, 3, 4, 5, 6].map((k) => status(k, ['acme']));
    const h = await setUp({ statuses }, () => ({ backfillPages: 2 }));
    close = h.close;
    await h.run();
    expect((await rowsOf(h.store)).map((r) => r.native_id)).toEqual(statuses.slice(3).map((s) => s.uri));
    expect(h.server.requests.map((r) => r.url.searchParams.get('max_id'))).toEqual([null, statuses[5]?.id]);
    const bm = await h.store.query("SELECT state FROM bookmarks WHERE source = 'mastodon'");
    expect(JSON.parse(String(bm[0]?.state))).toEqual({ minId: statuses[6]?.id });
  });

  it('maps accounts: the url is the id, bare accts get the home host, explicit instances key partitions', async () => {
    const local = status(0, ['acme']);
    const remote = status(1, ['acme'], {
      account: remoteAccount,
      uri: 'https://example.org/users/alice/statuses/1',
    });
    const h = await setUp({ statuses: [local, remote] }, (url) => ({ instances: [url], tags: ['acme'] }));
    close = h.close;
    const [result] = await h.run();
    const host = new URL(h.server.url).host;
    expect(result).toMatchObject({ status: 'ok', partition: `${host}#acme`, newRows: 2 });
    const rows = await rowsOf(h.store);
    expect(
      rows.map((r) => [r.author_id, r.author_handle, r.author_name, Number(r.author_followers)]),
    ).toEqual([
      ['https://mastodon.social/@Gargron', 'Gargron@mastodon.social', 'Eugen', 322930],
      ['https://example.org/@alice', 'alice@example.org', 'Alice', 12],
    ]);
    expect(rows.every((r) => r.channel === host)).toBe(true);
    const authors = await h.store.query("SELECT count(*) AS n FROM authors WHERE source = 'mastodon'");
    expect(Number(authors[0]?.n)).toBe(2);
  });

  it('sends the optional token as a Bearer header and never logs or stores it', async () => {
    const value = 'mtok-0123456789abcdef-secret';
    const token = new Secret('MASTODON_TOKEN', value);
    const h = await setUp({ statuses: [status(0, ['acme']), status(1, ['acme'])], token: value }, () => ({
      token,
    }));
    close = h.close;
    const [result] = await h.run();
    expect(result?.status).toBe('ok');
    expect(h.server.requests.length).toBeGreaterThan(0);
    for (const r of h.server.requests) expect(r.headers.authorization).toBe(`Bearer ${value}`);
    expect(await mastodon.check(h.source.settings as never, h.ctx)).toEqual({ ok: true });

    // A refused token: the run fails with a clear message that does not carry it.
    const wrong = mastodon.configSchema.parse({ token: new Secret('MASTODON_TOKEN', 'mtok-wrong-000000') });
    const refused = await mastodon.check(wrong, h.ctx);
    expect(refused.ok).toBe(false);
    expect(JSON.stringify(refused)).toMatch(/token was refused/);
    h.source.settings = wrong;
    const [failed] = await h.run();
    expect(failed?.status).toBe('error');
    expect(failed?.error).toMatch(/HTTP 401/);

    const everything = (await databaseText(h.store)) + h.mem.lines.join('\n');
    expect(everything).not.toContain(value);
    expect(everything).not.toContain('mtok-wrong-000000');
    expect(h.mem.lines.length).toBeGreaterThan(0);
  });

  it('says a token is needed when an instance refuses anonymous readers', async () => {
    const h = await setUp({ statuses: [status(0, ['acme'])], token: 'mtok-required-123456' });
    close = h.close;
    const check = await mastodon.check(mastodon.configSchema.parse({}), h.ctx);
    expect(check.ok).toBe(false);
    expect(JSON.stringify(check)).toMatch(/set `token`/);
    const [result] = await h.run();
    expect(result?.status).toBe('error');
  });

  it('reschedules the partition at the ISO X-RateLimit-Reset when it is too far away', async () => {
    const h = await setUp({ statuses: [status(0, ['acme'])] });
    close = h.close;
    await h.server.close();
    const reset = new Date(h.clock.now().getTime() + 3_600_000);
    const limited = await startLoopback(() => rateLimited(h.clock.now(), 3_600_000));
    h.source.baseUrl = limited.url;
    try {
      const [result] = await h.run();
      expect(result).toMatchObject({ status: 'rate_limited', resumeAfter: reset.toISOString() });
    } finally {
      await limited.close();
    }
  });

  it('quarantines one bad status and keeps the rest of the page', async () => {
    const bad: Status = { ...status(1, ['acme']), account: null };
    const h = await setUp({ statuses: [status(0, ['acme']), bad, status(2, ['acme'])] });
    close = h.close;
    const [result] = await h.run();
    expect(result).toMatchObject({ status: 'ok', newRows: 2, quarantined: 1 });
    const q = await h.store.query('SELECT error, raw FROM quarantine');
    expect(String(q[0]?.error)).toMatch(/account/);
    expect(JSON.parse(String(q[0]?.raw)).id).toBe(bad.id);
    const bm = await h.store.query("SELECT state FROM bookmarks WHERE source = 'mastodon'");
    expect(JSON.parse(String(bm[0]?.state))).toEqual({ minId: status(2, []).id });
  });
});
