import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { bluesky } from '../../collectors/bluesky.js';
import { SourceError } from '../../pipeline/errors.js';
import { Secret } from '../../pipeline/secrets.js';
import { collect } from '../../pipeline/verbs.js';
import { FakeClock } from '../helpers/clock.js';
import { type Handler, json, type Request, startLoopback } from '../helpers/loopback.js';
import {
  databaseText,
  harnessServices,
  type SourceHarness,
  sourceHarness,
  testContext,
} from '../helpers/runner.js';
import { rollupSnapshot } from '../scoring/helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: statuses are plain JSON varied from the recorded fixture.
type Status = Record<string, any>;
const fixture: Status = JSON.parse(
  readFileSync(new URL('../fixtures/listening/mastodon_tag_timeline.json', import.meta.url), 'utf8'),
)[0];
const START = new Date('2026-11-20T12:00:00Z');

/** Status `k`: its own id, uri, text and author, `k` minutes before START. */
function status(k: number): Status {
  const id = String(113_000_000_000_000_000n + BigInt(k));
  return {
    ...fixture,
    id,
    created_at: new Date(START.getTime() - (10 - k) * 60_000).toISOString(),
    uri: `https://mastodon.social/users/poster${k}/statuses/${id}`,
    url: `https://mastodon.social/@poster${k}/${id}`,
    content: `<p>acme note number ${k} from poster${k}</p>`,
    account: {
      ...fixture.account,
      acct: `poster${k}`,
      url: `https://mastodon.social/@poster${k}`,
      display_name: `Poster ${k}`,
    },
    reblog: null,
    card: null,
    tags: [{ name: 'acme', url: 'https://mastodon.social/tags/acme' }],
  };
}

/** A Mastodon instance: the tag timeline (max_id/min_id, newest first) and GET /api/v1/statuses/:id. */
function instance(statuses: Status[], deleted: Set<string>): Handler {
  return (req: Request) => {
    const live = statuses.filter((s) => !deleted.has(s.id));
    const one = /^\/api\/v1\/statuses\/(\d+)$/.exec(req.url.pathname);
    if (one) {
      const s = live.find((x) => x.id === one[1]);
      return s ? json(s) : { status: 404, ...json({ error: 'Record not found' }) };
    }
    if (req.url.pathname !== '/api/v1/timelines/tag/acme')
      return { status: 404, ...json({ error: 'Record not found' }) };
    const max = req.url.searchParams.get('max_id');
    const min = req.url.searchParams.get('min_id');
    const page = live
      .filter(
        (s) => (max === null || BigInt(s.id) < BigInt(max)) && (min === null || BigInt(s.id) > BigInt(min)),
      )
      .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1));
    return json(page);
  };
}

const harnesses: SourceHarness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
});

async function mastodonHarness(statuses: Status[], deleted: Set<string>): Promise<SourceHarness> {
  const h = await sourceHarness({
    id: 'mastodon',
    start: START,
    handler: () => instance(statuses, deleted),
    settings: () => ({ tags: ['acme'] }),
    keywords: ['acme'],
  });
  harnesses.push(h);
  return h;
}

describe('upstream deletions (Mastodon)', () => {
  it('purges a recently stored status the instance no longer has, after the next collection', async () => {
    const statuses = [status(1), status(2), status(3)];
    const deleted = new Set<string>();
    const h = await mastodonHarness(statuses, deleted);
    const svc = harnessServices(h, 'UTC');
    await collect(svc, { source: 'mastodon' });
    expect(Number((await h.store.query('SELECT count(*) AS n FROM mentions'))[0]?.n)).toBe(3);

    deleted.add(status(2).id);
    h.clock.advance(15 * 60_000);
    await collect(svc, { source: 'mastodon' });
    const text = await databaseText(h.store);
    expect(text).not.toContain('poster2');
    expect(text).not.toContain('acme note number 2');
    expect(text).toContain('poster3');
    const [audit] = await h.store.query(
      "SELECT actor, target, detail->>'$.mentions' AS n FROM audit_log WHERE action = 'compliance.upstream'",
    );
    expect(audit).toEqual({ actor: 'system:collect', target: 'mastodon', n: '1' });
    const checks = h.server.requests.filter((r) => r.url.pathname.startsWith('/api/v1/statuses/'));
    expect(checks.length).toBeGreaterThanOrEqual(6);

    const twin = await mastodonHarness([status(1), status(3)], new Set());
    await collect(harnessServices(twin, 'UTC'), { source: 'mastodon' });
    expect(await rollupSnapshot(h.store)).toEqual(await rollupSnapshot(twin.store));
  });

  it('asks only about posts stored in the last day', async () => {
    const statuses = [status(1), status(2)];
    const deleted = new Set<string>();
    const h = await mastodonHarness(statuses, deleted);
    const svc = harnessServices(h, 'UTC');
    await collect(svc, { source: 'mastodon' });
    h.clock.advance(2 * 86_400_000);
    deleted.add(status(1).id);
    const before = h.server.requests.length;
    await collect(svc, { source: 'mastodon' });
    expect(
      h.server.requests.slice(before).filter((r) => r.url.pathname.startsWith('/api/v1/statuses/')),
    ).toEqual([]);
    expect(Number((await h.store.query('SELECT count(*) AS n FROM mentions'))[0]?.n)).toBe(2);
  });

  it("purges nothing when a 404 is not Mastodon's own answer (a proxy or a wrong host)", async () => {
    const statuses = [status(1), status(2)];
    const timeline = instance(statuses, new Set());
    const h = await sourceHarness({
      id: 'mastodon',
      start: START,
      handler: () => (req) =>
        req.url.pathname.startsWith('/api/v1/statuses/')
          ? { status: 404, body: '<html>Not Found</html>' }
          : timeline(req),
      settings: () => ({ tags: ['acme'] }),
      keywords: ['acme'],
    });
    harnesses.push(h);
    await collect(harnessServices(h, 'UTC'), { source: 'mastodon' });
    expect(Number((await h.store.query('SELECT count(*) AS n FROM mentions'))[0]?.n)).toBe(2);
    expect(h.mem.lines.join('')).toContain("without Mastodon's error body");
  });
});

describe('upstream deletions (Bluesky)', () => {
  it('names the stored posts getPosts leaves out, 25 uris a call, with the session token', async () => {
    const uris = Array.from({ length: 27 }, (_, i) => `at://did:plc:poster${i}/app.bsky.feed.post/3lk${i}`);
    const gone = new Set([uris[3], uris[26]]);
    let answer: 'posts' | 'garbage' = 'posts';
    const server = await startLoopback((req) => {
      if (req.url.pathname === '/xrpc/com.atproto.server.createSession')
        return json({
          did: 'did:plc:me',
          handle: 'me.bsky.social',
          accessJwt: 'eyJ.access.t1',
          refreshJwt: 'eyJ.refresh.t1',
        });
      if (
        req.url.pathname !== '/xrpc/app.bsky.feed.getPosts' ||
        req.headers.authorization !== 'Bearer eyJ.access.t1'
      )
        return { status: 401, ...json({ error: 'AuthenticationRequired', message: 'no' }) };
      if (answer === 'garbage') return json({ feed: [] });
      const asked = req.url.searchParams.getAll('uris');
      return json({
        posts: asked.filter((u) => !gone.has(u)).map((uri) => ({ uri, cid: 'bafy', author: {}, record: {} })),
      });
    });
    try {
      const config = bluesky.configSchema.parse({
        identifier: 'me.bsky.social',
        appPassword: new Secret('BSKY_APP_PASSWORD', 'abcd-efgh-ijkl-mnop'),
      });
      const ctx = testContext(new FakeClock(START.getTime()), server.url);
      const stored = uris.map((nativeId) => ({ nativeId, channel: null, raw: null }));
      expect(await bluesky.deleted?.(config, stored, ctx)).toEqual([uris[3], uris[26]]);
      const calls = server.requests.filter((r) => r.url.pathname.endsWith('getPosts'));
      expect(calls.map((c) => c.url.searchParams.getAll('uris').length)).toEqual([25, 2]);
      answer = 'garbage';
      await expect(bluesky.deleted?.(config, stored, ctx)).rejects.toThrow(SourceError);
    } finally {
      await server.close();
    }
  });
});
