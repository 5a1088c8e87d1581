import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Batch, MentionRecord, QuarantineItem } from '../../collectors/contract.js';
import { collectorOf } from '../../collectors/registry.js';
import { RateLimitedError, SourceError } from '../../pipeline/errors.js';
import { storeBatch } from '../../pipeline/ingest.js';
import { projectRoot } from '../../pipeline/paths.js';
import { Secret } from '../../pipeline/secrets.js';
import type { Store } from '../../pipeline/store.js';
import { FakeClock } from '../helpers/clock.js';
import { json, type Loopback, type Reply, startLoopback } from '../helpers/loopback.js';
import { mentionRecord } from '../helpers/mention.js';
import { testContext } from '../helpers/runner.js';
import { openTestStore } from '../helpers/store.js';
import { jsonMutation, mutate } from './mutations.js';
import { options, runs, settleAsync, timeoutFor } from './runs.js';

const listening = (name: string) =>
  readFileSync(join(projectRoot, 'tests', 'fixtures', 'listening', name), 'utf8');

interface Target {
  source: string;
  /** The source's settings as its configSchema takes them, against the loopback server. */
  settings: (url: string) => Record<string, unknown>;
  /** Recorded payloads one of which, mutated, answers every data request. */
  fixtures: string[];
  contentType?: string;
}

const secret = (name: string) => new Secret(name, `${name.toLowerCase()}-fuzz-value-123456`);

const TARGETS: Target[] = [
  {
    source: 'x',
    settings: () => ({ bearerToken: secret('X_BEARER') }),
    fixtures: ['x_search_recent_page1.json', 'x_search_recent_retweet_reply.json'],
  },
  { source: 'hackernews', settings: () => ({}), fixtures: ['hn_algolia_search_by_date.json'] },
  {
    source: 'mastodon',
    settings: (url) => ({ instances: [url], tags: ['acme'] }),
    fixtures: ['mastodon_tag_timeline.json'],
  },
  {
    source: 'bluesky',
    settings: () => ({ identifier: 'acme.bsky.social', appPassword: secret('BSKY_APP_PASSWORD') }),
    fixtures: ['bluesky_searchPosts.json'],
  },
  {
    source: 'reddit',
    settings: (url) => ({
      clientId: secret('REDDIT_CLIENT_ID'),
      clientSecret: secret('REDDIT_CLIENT_SECRET'),
      userAgent: 'linux:earshot-fuzz:0.1 (by /u/earshot_tests)',
      authBaseUrl: url,
    }),
    fixtures: ['reddit_search.json'],
  },
  {
    source: 'youtube',
    settings: () => ({ apiKey: secret('YOUTUBE_API_KEY'), videos: ['dQw4w9WgXcQ'] }),
    fixtures: ['youtube_commentThreads.json'],
  },
  {
    source: 'naver',
    settings: () => ({ clientId: secret('NAVER_CLIENT_ID'), clientSecret: secret('NAVER_CLIENT_SECRET') }),
    fixtures: ['naver_search_blog.json', 'naver_search_news.json', 'naver_search_cafearticle.json'],
  },
  {
    source: 'rss',
    settings: (url) => ({ feeds: [{ url: `${url}/feed.xml`, articles: false }] }),
    fixtures: ['google_news_rss_search.xml', 'generic_atom_feed.xml'],
    contentType: 'application/rss+xml',
  },
];

const KEYS = [
  'id',
  'data',
  'children',
  'hits',
  'items',
  'posts',
  'author',
  'record',
  'text',
  'created_at',
  'createdAt',
  'title',
  'link',
  'snippet',
  'topLevelComment',
  'publishedAt',
  'account',
  'content',
  'public_metrics',
  'includes',
  'users',
  'meta',
  'cursor',
  'nextPageToken',
  'postdate',
  'pubDate',
  'objectID',
  'created_at_i',
  'url',
  'likeCount',
  'ups',
];
const mutation = jsonMutation(KEYS);

/** A payload: the fixture with JSON mutations, or its text cut or spliced (unparseable, truncated). */
const payload = (t: Target) =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.constantFrom(...t.fixtures), fc.array(mutation, { minLength: 1, maxLength: 4 }))
        .map(([name, ms]) => {
          const text = listening(name);
          if (name.endsWith('.xml')) return text;
          return JSON.stringify(ms.reduce(mutate, JSON.parse(text)));
        }),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...t.fixtures), fc.nat(), fc.nat(200), fc.string({ maxLength: 5 }))
        .map(([name, at, cut, insert]) => {
          const text = listening(name);
          const i = at % text.length;
          return text.slice(0, i) + insert + text.slice(i + cut);
        }),
    },
  );

/** What a stored mention needs to be writable: the ids, a real instant, integers DuckDB's BIGINT holds. */
function recordProblem(r: MentionRecord): string | null {
  if (typeof r.nativeId !== 'string' || r.nativeId === '') return `native id ${JSON.stringify(r.nativeId)}`;
  if (!(r.createdAt instanceof Date) || Number.isNaN(r.createdAt.getTime()))
    return `createdAt ${String(r.createdAt)}`;
  if (typeof r.text !== 'string') return `text ${typeof r.text}`;
  for (const key of ['authorFollowers', 'likes', 'reposts', 'replies', 'views'] as const) {
    const v = r[key];
    // Any number: NaN, infinities and counts past BIGINT are stored as null (proved by storing them below).
    if (v !== null && typeof v !== 'number') return `${key} is ${typeof v}`;
  }
  for (const key of [
    'url',
    'title',
    'lang',
    'channel',
    'authorId',
    'authorHandle',
    'authorName',
    'parentId',
    'conversationId',
    'repostOf',
  ] as const) {
    const v = r[key];
    if (v !== null && typeof v !== 'string') return `${key} is ${typeof v}`;
  }
  try {
    JSON.stringify(r.raw);
  } catch (err) {
    return `raw is not JSON: ${(err as Error).message}`;
  }
  return null;
}

// Pages repeat the same payload, so a cursor in it would page forever; parsing is what is fuzzed here.
const MAX_BATCHES = 4;

let server: Loopback;
let body = '';
let contentType = 'application/json';
let store: Store;
let cleanup: () => void;

beforeAll(async () => {
  ({ store, cleanup } = await openTestStore());
  server = await startLoopback((req): Reply => {
    const p = req.url.pathname;
    if (p.endsWith('createSession') || p.endsWith('refreshSession'))
      return json({
        accessJwt: 'a'.repeat(20),
        refreshJwt: 'r'.repeat(20),
        did: 'did:plc:fuzz',
        handle: 'acme.bsky.social',
      });
    if (p.endsWith('/access_token'))
      return json({ access_token: 't'.repeat(20), token_type: 'bearer', expires_in: 86400 });
    return { headers: { 'content-type': contentType }, body };
  });
});
afterAll(async () => {
  await server.close();
  cleanup();
});

describe.each(TARGETS)('collector $source payload parsing (fuzz)', (t) => {
  const n = runs(200);
  it(
    'yields valid records and quarantine rows, or fails with a source error; what it yields can be stored',
    async () => {
      const collector = collectorOf(t.source);
      const config = collector.configSchema.parse(t.settings(server.url));
      const [partition] = collector.partitions(config, { keywords: ['acme'] });
      if (!partition) throw new Error(`${t.source} has no partition for keyword acme`);
      const yielded: Batch<unknown>[] = [];
      await fc.assert(
        fc.asyncProperty(payload(t), async (text) => {
          body = text;
          contentType = t.contentType ?? 'application/json';
          const clock = new FakeClock(Date.parse('2026-11-21T00:00:00Z'));
          const ctx = testContext(clock, server.url);
          const batches: Batch<unknown>[] = [];
          const outcome = await settleAsync(`${t.source}.read`, async () => {
            for await (const batch of collector.read(config, partition, undefined, ctx)) {
              batches.push(batch);
              if (batches.length >= MAX_BATCHES) break;
            }
          });
          if (
            !outcome.ok &&
            !(outcome.error instanceof SourceError || outcome.error instanceof RateLimitedError)
          )
            throw outcome.error;
          if (!outcome.ok) expect((outcome.error as Error).message).toMatch(/\S/);
          for (const batch of batches) {
            for (const r of batch.records)
              expect(recordProblem(r), JSON.stringify(r.raw)?.slice(0, 300)).toBeNull();
            for (const q of batch.quarantine ?? ([] as QuarantineItem[])) {
              expect(q.error).toMatch(/\S/);
              expect(typeof q.raw).toBe('string');
            }
          }
          yielded.push(...batches);
        }),
        options(n, 200),
      );
      // Everything the property saw yielded goes into a real database, one batch per transaction.
      let runId = 0;
      for (const batch of yielded) {
        await storeBatch(store, {
          source: t.source,
          partition: partition.key,
          runId: ++runId,
          records: batch.records,
          quarantine: batch.quarantine ?? [],
          bookmark: batch.bookmark,
          budget: new Map(),
          now: new Date('2026-11-21T00:00:00Z'),
        });
      }
    },
    timeoutFor(n, 200),
  );
});

// Found by the property above: a Hacker News item seen again with another created_at (a mutated
// created_at_i) could not be stored, so the partition failed on that page on every run.
describe('a mention re-dated by its source (regression)', () => {
  it('is stored once, its counts updated', async () => {
    const write = (r: MentionRecord) =>
      storeBatch(store, {
        source: 'fuzz-redate',
        partition: 'p',
        runId: 1,
        records: [r],
        quarantine: [],
        bookmark: {},
        budget: new Map(),
        now: new Date('2026-11-21T00:00:00Z'),
      });
    await write(mentionRecord({ nativeId: '13133437', createdAt: new Date('2016-12-08T19:39:07Z') }));
    await write(
      mentionRecord({ nativeId: '13133437', createdAt: new Date('2022-05-11T16:22:38Z'), likes: 1 }),
    );
    const rows = await store.query(`SELECT created_at, likes FROM mentions WHERE source = 'fuzz-redate'`);
    // Re-seen mentions keep their first date; only the engagement counts move.
    expect(rows).toEqual([{ created_at: new Date('2016-12-08T19:39:07Z'), likes: 1 }]);
  });
});

// Found by the property above: an id with a lone surrogate made encodeURIComponent throw a URIError
// out of read(), so the whole page failed on every run instead of quarantining the one item.
describe('an item the conversion cannot take (regression)', () => {
  it('is quarantined while the rest of the page is stored', async () => {
    const hn = JSON.parse(listening('hn_algolia_search_by_date.json')) as { hits: { objectID: string }[] };
    const first = hn.hits[0];
    if (!first) throw new Error('the fixture has no hits');
    first.objectID = 'bad\uD800id';
    body = JSON.stringify(hn);
    contentType = 'application/json';
    const config = collectorOf('hackernews').configSchema.parse({});
    const [partition] = collectorOf('hackernews').partitions(config, { keywords: ['acme'] });
    if (!partition) throw new Error('hackernews has no partition for keyword acme');
    const ctx = testContext(new FakeClock(Date.parse('2026-11-21T00:00:00Z')), server.url);
    const batches: Batch<unknown>[] = [];
    for await (const batch of collectorOf('hackernews').read(config, partition, undefined, ctx)) {
      batches.push(batch);
      if (batches.length >= MAX_BATCHES) break;
    }
    const [page] = batches;
    expect(page?.quarantine?.map((q) => q.error)).toEqual(['bad hit: URI malformed']);
    expect(page?.records.length).toBe(hn.hits.length - 1);
  });
});

// Found by the property above (npm run fuzz): a Mastodon reposts_count of 9.3e18 does not fit BIGINT,
// and the batch holding it failed on every run.
it('stores a count past BIGINT as unknown (regression)', async () => {
  await storeBatch(store, {
    source: 'fuzz-huge',
    partition: 'p',
    runId: 1,
    records: [mentionRecord({ nativeId: 'huge', reposts: 9.3e18, likes: 7 })],
    quarantine: [],
    bookmark: {},
    budget: new Map(),
    now: new Date('2026-11-21T00:00:00Z'),
  });
  expect(await store.query(`SELECT reposts, likes FROM mentions WHERE source = 'fuzz-huge'`)).toEqual([
    { reposts: null, likes: 7 },
  ]);
});
