import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CollectorContext } from '../../collectors/contract.js';
import { collectSource, type RunnerDeps } from '../../collectors/runner.js';
import { nextPacificMidnight, pacificDay, youtube } from '../../collectors/youtube.js';
import type { SourceConfig } from '../../pipeline/config.js';
import { Secret } from '../../pipeline/secrets.js';
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
import { databaseText, mentionIds, sourceConfig, testContext, testDeps } from '../helpers/runner.js';
import { openTestStore } from '../helpers/store.js';
import { describeSource } from './suite.js';

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/listening/youtube_commentThreads.json', import.meta.url), 'utf8'),
);
const base = fixture.items[0];

const API_KEY = 'AIzaSyTEST-k3y_9f8e7d6c5b4a';
const V1 = 'YzZUIYRCE38';
const V2 = 'fNk_zzaMoSs';
const CHANNEL = 'UCYO_jab_esuFRV4b17AJtAw';
const START = new Date('2022-12-06T12:00:00Z'); // 04:00 PST
const MIDNIGHT_PT = '2022-12-07T08:00:00.000Z';

const settings = (extra: Record<string, unknown> = {}) => ({
  apiKey: new Secret('YOUTUBE_API_KEY', API_KEY),
  videos: [V1],
  channels: [CHANNEL],
  maxResults: 2,
  ...extra,
});

type Thread = typeof base;

/** A thread varied from the fixture's: id, video, time, author and text. */
function thread(
  id: string,
  videoId: string,
  publishedAt: string,
  over: Record<string, unknown> = {},
): Thread {
  const top = base.snippet.topLevelComment;
  return {
    ...base,
    etag: `etag-${id}`,
    id,
    snippet: {
      ...base.snippet,
      videoId,
      totalReplyCount: (over.totalReplyCount as number | undefined) ?? 0,
      topLevelComment: {
        ...top,
        id,
        etag: `etag-c-${id}`,
        snippet: { ...top.snippet, videoId, publishedAt, updatedAt: publishedAt, ...over },
      },
    },
  };
}

const threads: Thread[] = [
  thread('UgzV1newest0000AaABAg', V1, '2022-12-06T09:30:00Z', {
    textOriginal: 'Acme should sponsor this channel',
    authorDisplayName: '@acmefan',
    authorChannelId: { value: 'UCacmefan000000000000000' },
    likeCount: 7,
    totalReplyCount: 2,
  }),
  thread('UgzV2second000AaABAg', V2, '2022-12-06T08:00:00Z', {
    textOriginal: 'Part 2 please',
    authorDisplayName: '@viewer2',
    authorChannelId: { value: 'UCviewer2000000000000000' },
  }),
  thread('UgzV1middle0000AaABAg', V1, '2022-12-06T07:15:00Z', {
    textOriginal: undefined,
    textDisplay: 'Great &amp; clear <b>video</b>',
    authorDisplayName: '@viewer3',
    authorChannelId: { value: 'UCviewer3000000000000000' },
    likeCount: 0,
  }),
  thread('UgzV2old0000000AaABAg', V2, '2022-12-05T22:00:00Z', {
    textOriginal: 'First!',
    authorDisplayName: '@early',
    authorChannelId: { value: 'UCearly00000000000000000' },
  }),
  base,
];
const v1Ids = threads.filter((t) => t.snippet.videoId === V1).map((t) => t.id);

const googleError = (
  code: number,
  reason: string,
  message: string,
  domain = 'youtube.commentThread',
): Reply => ({
  status: code,
  headers: { 'content-type': 'application/json; charset=UTF-8' },
  body: JSON.stringify({ error: { code, message, errors: [{ message, domain, reason }] } }),
});
const quotaExceeded = () =>
  googleError(
    403,
    'quotaExceeded',
    'The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.',
    'youtube.quota',
  );

interface FakeYoutube {
  handler: Handler;
  data: Request[];
  disabled: Set<string>;
}

/** `keepOrder`: serve `items` in the given order, as when YouTube puts an older comment out of place. */
function fakeYoutube(items: Thread[] = threads, keepOrder = false): FakeYoutube {
  const fake: FakeYoutube = {
    data: [],
    disabled: new Set(),
    handler: (req) => {
      if (req.url.pathname !== '/youtube/v3/commentThreads') return googleError(404, 'notFound', 'Not Found');
      fake.data.push(req);
      const q = req.url.searchParams;
      const key = q.get('key');
      if (!key) {
        return googleError(403, 'forbidden', 'The request is missing a valid API key.', 'global');
      }
      if (key !== API_KEY) {
        return googleError(400, 'keyInvalid', 'API key not valid. Please pass a valid API key.', 'global');
      }
      if (q.get('part') !== 'snippet' || q.get('order') !== 'time' || q.get('textFormat') !== 'plainText') {
        return googleError(400, 'invalidParameter', 'unexpected parameters');
      }
      const videoId = q.get('videoId');
      const channelId = q.get('allThreadsRelatedToChannelId');
      if (!!videoId === !!channelId) return googleError(400, 'incompatibleParameters', 'one filter please');
      if (videoId && fake.disabled.has(videoId)) {
        return googleError(
          403,
          'commentsDisabled',
          'The video identified by the <code><a href="/youtube/v3/docs/commentThreads/list#videoId">videoId</a></code> parameter has disabled comments.',
        );
      }
      if (videoId && !items.some((t) => t.snippet.videoId === videoId)) {
        return googleError(
          404,
          'videoNotFound',
          'The video identified by the videoId parameter could not be found.',
        );
      }
      if (channelId && channelId !== CHANNEL) {
        return googleError(404, 'channelNotFound', 'The channel could not be found.');
      }
      const matching = items
        .filter((t) => (videoId ? t.snippet.videoId === videoId : t.snippet.channelId === channelId))
        .sort((a, b) =>
          keepOrder
            ? 0
            : b.snippet.topLevelComment.snippet.publishedAt.localeCompare(
                a.snippet.topLevelComment.snippet.publishedAt,
              ),
        );
      const per = Number(q.get('maxResults') ?? 20);
      const token = q.get('pageToken');
      let from = 0;
      if (token) {
        try {
          from = JSON.parse(Buffer.from(token, 'base64').toString('utf8')).o;
        } catch {
          return googleError(
            400,
            'invalidPageToken',
            'The request specifies an invalid page token.',
            'youtube.parameter',
          );
        }
      }
      const page = matching.slice(from, from + per);
      const more = from + per < matching.length;
      return json({
        kind: 'youtube#commentThreadListResponse',
        etag: `etag-page-${from}`,
        ...(more ? { nextPageToken: Buffer.from(JSON.stringify({ o: from + per })).toString('base64') } : {}),
        pageInfo: { totalResults: page.length, resultsPerPage: per },
        items: page,
      });
    },
  };
  return fake;
}

describeSource({
  source: 'youtube',
  settings: settings(),
  keywords: ['acme'],
  start: START,
  api: () => {
    const fake = fakeYoutube();
    return { handler: fake.handler, isData: (req) => req.url.pathname === '/youtube/v3/commentThreads' };
  },
  expectedIds: threads.map((t) => t.id),
  checkRows(rows) {
    const byId = new Map(rows.map((r) => [String(r.native_id), r]));
    const fromFixture = byId.get('Ugwye5aOxwvHdAmzpzB4AaABAg');
    expect(fromFixture).toMatchObject({
      url: `https://www.youtube.com/watch?v=${V1}&lc=Ugwye5aOxwvHdAmzpzB4AaABAg`,
      title: null,
      text: 'Why are row vectors written as v^T?',
      channel: V1,
      author_id: 'UCulzFPTd4ygqJ7Yt3MhuBiA',
      author_handle: '@someviewer',
      likes: 3,
      replies: 1,
      reposts: null,
      is_repost: false,
    });
    expect((fromFixture?.created_at as Date | undefined)?.toISOString()).toBe('2022-12-05T10:02:11.000Z');
    expect(JSON.parse(String(fromFixture?.raw))).toEqual(base);
    expect(byId.get('UgzV1middle0000AaABAg')?.text).toBe('Great & clear video');
    expect(byId.get('UgzV2second000AaABAg')).toMatchObject({
      channel: V2,
      url: `https://www.youtube.com/watch?v=${V2}&lc=UgzV2second000AaABAg`,
    });
    expect(byId.get('UgzV1newest0000AaABAg')).toMatchObject({
      likes: 7,
      replies: 2,
      author_handle: '@acmefan',
    });
  },
  farFutureBookmark: () => ({ since: '2100-01-01T00:00:00Z' }),
  rateLimited: () => quotaExceeded(),
});

describe('youtube specifics', () => {
  let store: Store;
  let cleanup: () => void;
  let server: Loopback | undefined;
  let clock: FakeClock;
  let logLines: string[];

  beforeEach(async () => {
    ({ store, cleanup } = await openTestStore());
    clock = new FakeClock(START.getTime());
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    cleanup();
  });

  const start = async (handler: Handler): Promise<string> => {
    server = await startLoopback(handler);
    return server.url;
  };
  const deps = (): RunnerDeps => {
    const { deps, lines } = testDeps(store, clock);
    logLines = lines;
    return deps;
  };
  const source = (url: string, extra: Record<string, unknown> = {}): SourceConfig =>
    sourceConfig('youtube', url, youtube.configSchema.parse(settings(extra)));
  const ctxFor = (url: string): CollectorContext => testContext(clock, url);
  const ids = () => mentionIds(store, 'youtube');
  /** Every table as text, to prove a value never reached the database. */
  const dumpDb = () => databaseText(store);

  it('sends the key and never lets it reach logs, errors or the database', async () => {
    const fake = fakeYoutube();
    fake.disabled.add('dddddddddd1');
    let n = 0;
    // Retries (logged with their URL), a garbled page (quarantined with its URL) and a refused video.
    const url = await start((req) => {
      n++;
      if (n <= 2) return { status: 503, body: 'backend error' };
      if (n === 3) return { ...json({ items: 'garbled' }) };
      return fake.handler(req);
    });
    const first = await collectSource(source(url, { videos: [V1, 'dddddddddd1'] }), deps());
    const lines = [...logLines];
    const second = await collectSource(source(url, { videos: [V1, 'dddddddddd1'] }), deps());
    lines.push(...logLines);
    expect(fake.data.every((r) => r.url.searchParams.get('key') === API_KEY)).toBe(true);
    expect(second.find((r) => r.partition === 'video:dddddddddd1')?.error).toMatch(/comments are disabled/);
    expect(lines.join('\n')).toContain('key=[redacted]');
    const bad = youtube.configSchema.parse(
      settings({ apiKey: new Secret('YOUTUBE_API_KEY', 'AIzaWRONG-key-000111') }),
    );
    const refused = await youtube.check(bad, ctxFor(url));
    expect(refused).toMatchObject({ ok: false });
    expect(refused.ok ? '' : refused.reason).toMatch(/rejected the API key/);
    const text = [lines.join('\n'), await dumpDb(), JSON.stringify([first, second, refused])].join('\n');
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain('AIzaWRONG-key-000111');
    const q = await store.query('SELECT url FROM quarantine');
    expect(q.length).toBe(1);
    expect(String(q[0]?.url)).not.toContain('key=');
  });

  it('answers quotaExceeded with rate_limited until midnight Pacific time, then resumes', async () => {
    const fake = fakeYoutube();
    let calls = 0;
    const url = await start((req) => (++calls === 2 ? quotaExceeded() : fake.handler(req)));
    const results = await collectSource(source(url, { channels: [] }), deps());
    expect(results[0]).toMatchObject({ status: 'rate_limited', resumeAfter: MIDNIGHT_PT, rows: 2 });
    expect(results[0]?.error).toMatch(/quota exceeded.*midnight Pacific/);
    // Skipped until the reset, then the run picks up at its page token.
    expect((await collectSource(source(url, { channels: [] }), deps()))[0]?.status).toBe('skipped');
    clock.set(new Date(Date.parse(MIDNIGHT_PT) + 1000));
    const after = await collectSource(source(url, { channels: [] }), deps());
    expect(after[0]?.status).toBe('ok');
    expect(await ids()).toEqual([...v1Ids].sort());
    expect(fake.data.at(-1)?.url.searchParams.get('pageToken')).toBeTruthy();
  });

  it('waits out a short rateLimitExceeded 403 and goes on', async () => {
    const fake = fakeYoutube();
    let calls = 0;
    const url = await start((req) =>
      ++calls === 1
        ? googleError(403, 'rateLimitExceeded', 'Rate limit exceeded', 'youtube.quota')
        : fake.handler(req),
    );
    const results = await collectSource(source(url, { channels: [] }), deps());
    expect(results[0]?.status).toBe('ok');
    expect(clock.sleeps.some((ms) => ms >= 60_000)).toBe(true);
    expect(await ids()).toEqual([...v1Ids].sort());
  });

  it('ends a video with disabled comments with a clear error and collects the other partitions', async () => {
    const fake = fakeYoutube();
    fake.disabled.add(V1);
    const url = await start(fake.handler);
    const results = await collectSource(source(url, { videos: [V1, 'zzzzzzzzzz9'] }), deps());
    expect(results.map((r) => [r.partition, r.status])).toEqual([
      [`video:${V1}`, 'error'],
      ['video:zzzzzzzzzz9', 'error'],
      [`channel:${CHANNEL}`, 'ok'],
    ]);
    expect(results[0]?.error).toMatch(
      new RegExp(`^comments are disabled on video ${V1} \\(HTTP 403 commentsDisabled`),
    );
    expect(results[1]?.error).toMatch(/^video zzzzzzzzzz9 was not found .*videoNotFound/);
    expect(await ids()).toEqual(threads.map((t) => t.id).sort());
  });

  it('reads a channel with allThreadsRelatedToChannelId', async () => {
    const fake = fakeYoutube();
    const url = await start(fake.handler);
    const config = youtube.configSchema.parse(settings({ videos: undefined }));
    expect(youtube.partitions(config, { keywords: ['acme'] })).toEqual([
      { key: `channel:${CHANNEL}`, kind: 'channel', id: CHANNEL },
    ]);
    const results = await collectSource(source(url, { videos: undefined }), deps());
    expect(results).toMatchObject([{ partition: `channel:${CHANNEL}`, status: 'ok', newRows: 5 }]);
    expect(fake.data).toHaveLength(3);
    for (const req of fake.data) {
      expect(req.url.searchParams.get('allThreadsRelatedToChannelId')).toBe(CHANNEL);
      expect(req.url.searchParams.has('videoId')).toBe(false);
      expect(req.url.searchParams.get('maxResults')).toBe('2');
    }
    const channels = await store.query('SELECT DISTINCT channel FROM mentions ORDER BY 1');
    expect(channels.map((r) => r.channel)).toEqual([V1, V2].sort());
  });

  it('resumes from the saved page token and closes the run with since = min(newest, start)', async () => {
    const fake = fakeYoutube();
    const url = await start(fake.handler);
    const config = youtube.configSchema.parse(settings());
    const partition = { key: `channel:${CHANNEL}`, kind: 'channel' as const, id: CHANNEL };
    const pageToken = Buffer.from(JSON.stringify({ o: 2 })).toString('base64');
    const startedAt = '2022-12-06T09:00:00.000Z';
    const batches = [];
    for await (const b of youtube.read(
      config,
      partition,
      {
        since: '2022-12-01T00:00:00.000Z',
        run: { pageToken, newest: '2022-12-06T09:30:00.000Z', startedAt },
      },
      ctxFor(url),
    )) {
      batches.push(b);
    }
    expect(fake.data[0]?.url.searchParams.get('pageToken')).toBe(pageToken);
    expect(batches.flatMap((b) => b.records.map((r) => r.nativeId))).toEqual([
      'UgzV1middle0000AaABAg',
      'UgzV2old0000000AaABAg',
      'Ugwye5aOxwvHdAmzpzB4AaABAg',
    ]);
    expect(batches[0]?.bookmark).toMatchObject({
      since: '2022-12-01T00:00:00.000Z',
      run: { newest: '2022-12-06T09:30:00.000Z', startedAt },
    });
    expect(batches.at(-1)?.bookmark).toEqual({ since: startedAt });
  });

  it('stops at the page whose tail is older than the watermark', async () => {
    const fake = fakeYoutube();
    const url = await start(fake.handler);
    const config = youtube.configSchema.parse(settings());
    const partition = { key: `channel:${CHANNEL}`, kind: 'channel' as const, id: CHANNEL };
    const batches = [];
    for await (const b of youtube.read(config, partition, { since: '2022-12-06T08:00:00Z' }, ctxFor(url))) {
      batches.push(b);
    }
    expect(fake.data).toHaveLength(2);
    expect(batches.flatMap((b) => b.records.map((r) => r.nativeId))).toEqual([
      'UgzV1newest0000AaABAg',
      'UgzV2second000AaABAg',
    ]);
    expect(batches.at(-1)?.bookmark).toEqual({ since: '2022-12-06T09:30:00.000Z' });
  });

  it('does not end the run at one out-of-order old comment at the top of a page', async () => {
    const pinned = thread('UgzPinnedOld000AaABAg', V1, '2022-11-01T00:00:00Z');
    const items = [pinned, ...threads.filter((t) => t.snippet.videoId === V1)];
    const fake = fakeYoutube(items, true);
    const url = await start(fake.handler);
    const config = youtube.configSchema.parse(settings());
    const batches = [];
    for await (const b of youtube.read(
      config,
      { key: `video:${V1}`, kind: 'video', id: V1 },
      { since: '2022-12-05T00:00:00Z' },
      ctxFor(url),
    )) {
      batches.push(b);
    }
    expect(fake.data).toHaveLength(2);
    expect(batches.flatMap((b) => b.records.map((r) => r.nativeId)).sort()).toEqual([...v1Ids].sort());
  });

  it('starts the run over when a saved page token is refused', async () => {
    const fake = fakeYoutube();
    const url = await start(fake.handler);
    const config = youtube.configSchema.parse(settings());
    const batches = [];
    for await (const b of youtube.read(
      config,
      { key: `video:${V1}`, kind: 'video', id: V1 },
      { run: { pageToken: 'not-base64-json!', startedAt: START.toISOString() } },
      ctxFor(url),
    )) {
      batches.push(b);
    }
    expect(batches.flatMap((b) => b.records.map((r) => r.nativeId)).sort()).toEqual([...v1Ids].sort());
  });

  it('stops before the daily quota it is given and stores the calls it spent', async () => {
    const url = await start(fakeYoutube().handler);
    const results = await collectSource(source(url, { videos: [], dailyQuota: 2 }), deps());
    expect(results[0]).toMatchObject({ status: 'rate_limited', resumeAfter: MIDNIGHT_PT, rows: 4 });
    expect(results[0]?.error).toMatch(/dailyQuota/);
    const budget = await store.query(
      "SELECT provider, strftime(day, '%Y-%m-%d') AS day, calls FROM api_budget",
    );
    expect(budget).toEqual([{ provider: 'youtube', day: '2022-12-06', calls: 2 }]);
  });

  it('knows midnight Pacific in winter and summer', () => {
    expect(nextPacificMidnight(new Date('2022-12-06T12:00:00Z')).toISOString()).toBe(MIDNIGHT_PT);
    expect(nextPacificMidnight(new Date('2022-12-07T07:59:59Z')).toISOString()).toBe(MIDNIGHT_PT);
    expect(nextPacificMidnight(new Date('2023-07-01T06:59:00Z')).toISOString()).toBe(
      '2023-07-01T07:00:00.000Z',
    );
    expect(nextPacificMidnight(new Date('2023-07-01T07:00:00Z')).toISOString()).toBe(
      '2023-07-02T07:00:00.000Z',
    );
    // Spring forward: 12 March starts in PST, 13 March in PDT.
    expect(nextPacificMidnight(new Date('2023-03-11T20:00:00Z')).toISOString()).toBe(
      '2023-03-12T08:00:00.000Z',
    );
    expect(nextPacificMidnight(new Date('2023-03-12T20:00:00Z')).toISOString()).toBe(
      '2023-03-13T07:00:00.000Z',
    );
    // Fall back: 5 November starts in PDT, 6 November in PST.
    expect(nextPacificMidnight(new Date('2023-11-05T03:00:00Z')).toISOString()).toBe(
      '2023-11-05T07:00:00.000Z',
    );
    expect(nextPacificMidnight(new Date('2023-11-05T12:00:00Z')).toISOString()).toBe(
      '2023-11-06T08:00:00.000Z',
    );
    expect(pacificDay(new Date('2022-12-07T07:59:59Z'))).toBe('2022-12-06');
  });

  it('checks the key with one small request', async () => {
    const fake = fakeYoutube();
    const url = await start(fake.handler);
    expect(await youtube.check(youtube.configSchema.parse(settings()), ctxFor(url))).toEqual({ ok: true });
    expect(fake.data[0]?.url.searchParams.get('maxResults')).toBe('1');
  });

  it('requires videos or channels and explains ids', () => {
    const neither = youtube.configSchema.safeParse({ apiKey: new Secret('YOUTUBE_API_KEY', API_KEY) });
    expect(neither.success).toBe(false);
    expect(neither.error?.issues[0]?.message).toMatch(/set videos .* and\/or channels/);
    const empty = youtube.configSchema.safeParse(settings({ videos: [], channels: [] }));
    expect(empty.success).toBe(false);
    const badChannel = youtube.configSchema.safeParse(settings({ channels: ['@3blue1brown'] }));
    expect(badChannel.error?.issues[0]?.message).toMatch(/Copy channel ID/);
    const badVideo = youtube.configSchema.safeParse(settings({ videos: ['nope'] }));
    expect(badVideo.error?.issues[0]?.path).toEqual(['videos', 0]);
    const links = youtube.configSchema.parse(
      settings({
        videos: [
          `https://www.youtube.com/watch?v=${V1}&t=42s`,
          `https://youtu.be/${V2}`,
          'https://youtube.com/shorts/abcdefghijk',
        ],
      }),
    );
    expect(links.videos).toEqual([V1, V2, 'abcdefghijk']);
    const inline = youtube.configSchema.safeParse({ ...settings(), apiKey: API_KEY });
    expect(inline.error?.issues[0]?.path).toEqual(['apiKey']);
  });
});
