import { z } from 'zod';
import { RateLimitedError, SourceError } from '../pipeline/errors.js';
import { secretRef } from '../pipeline/secrets.js';
import type { Batch, Collector, CollectorContext, MentionRecord } from './contract.js';
import {
  type HttpResponse,
  parseJson,
  RetryableError,
  type RetryPolicy,
  request,
  withQuery,
  withRetries,
} from './http.js';
import { failedBatch, issuePathAndMessage, mapItems, parsePage } from './payload.js';
import { htmlToText } from './text.js';

const VIDEO_ID = /^[A-Za-z0-9_-]{11}$/;
const CHANNEL_ID = /^UC[A-Za-z0-9_-]{22}$/;

/** The id in a pasted video link (watch?v=, youtu.be/, /shorts/, /live/, /embed/), else the text itself. */
function videoIdOf(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  if (url.hostname === 'youtu.be') return url.pathname.slice(1);
  if (!/(^|\.)youtube\.com$/.test(url.hostname)) return text;
  return url.searchParams.get('v') ?? /^\/(?:shorts|live|embed)\/([^/]+)/.exec(url.pathname)?.[1] ?? text;
}

/** YouTube comment threads (Data API v3 commentThreads.list), per video or per channel. */
const configSchema = z
  .strictObject({
    apiKey: secretRef,
    /** Video ids (or links to them): every top-level comment on each. */
    videos: z
      .array(
        z
          .string()
          .trim()
          .transform(videoIdOf)
          .pipe(
            z.string().regex(VIDEO_ID, { message: 'must be a video id like "YzZUIYRCE38" or a video link' }),
          ),
      )
      .optional(),
    /** Channel ids: comments on all of the channel's videos (allThreadsRelatedToChannelId). */
    channels: z
      .array(
        z.string().trim().regex(CHANNEL_ID, {
          message:
            'must be a channel id: "UC" and 22 more characters (on the channel page: About > Share channel > Copy channel ID)',
        }),
      )
      .optional(),
    /** Threads per page (the API's maximum is 100); every page costs one quota unit. */
    maxResults: z.number().int().min(1).max(100).default(100),
    /** Units a day this project may spend (Google's default allocation is 10,000). */
    dailyQuota: z.number().int().min(1).default(10_000),
  })
  .refine((c) => (c.videos?.length ?? 0) + (c.channels?.length ?? 0) > 0, {
    message:
      'set videos (video ids or links) and/or channels (channel ids starting with UC): YouTube comments are collected per video or channel',
    path: ['videos'],
  });
type Config = z.infer<typeof configSchema>;

interface YoutubePartition {
  key: string;
  kind: 'video' | 'channel';
  id: string;
}

const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), { message: 'not a date-time' });

/**
 * `since`: publishedAt of the newest comment stored by a finished run; older comments end the next
 * run, comments of that very instant are seen again and deduplicated. `run`: the pageToken of an
 * unfinished run, the newest publishedAt it has seen and when it started.
 */
const bookmarkSchema = z.object({
  since: isoTime.optional(),
  run: z.object({ pageToken: z.string().min(1), newest: isoTime.optional(), startedAt: isoTime }).optional(),
});
type Bookmark = z.infer<typeof bookmarkSchema>;

const pageSchema = z.object({
  items: z.array(z.unknown()),
  nextPageToken: z.string().nullish(),
});

const threadSchema = z.object({
  id: z.string().min(1),
  snippet: z.object({
    videoId: z.string().nullish(),
    channelId: z.string().nullish(),
    totalReplyCount: z.number().nullish(),
    topLevelComment: z.object({
      id: z.string().min(1),
      snippet: z.object({
        videoId: z.string().nullish(),
        textOriginal: z.string().nullish(),
        textDisplay: z.string().nullish(),
        authorDisplayName: z.string().nullish(),
        authorChannelId: z.object({ value: z.string() }).nullish(),
        likeCount: z.number().nullish(),
        publishedAt: isoTime,
      }),
    }),
  }),
});
type Thread = z.infer<typeof threadSchema>;

const errorSchema = z.object({
  error: z.object({
    code: z.number().optional(),
    message: z.string().optional(),
    errors: z.array(z.object({ reason: z.string().optional(), message: z.string().optional() })).optional(),
  }),
});

/** Google's error body: the first reason (quotaExceeded, commentsDisabled, videoNotFound...) and message. */
function googleError(res: HttpResponse): { reason: string; message: string } {
  const json = parseJson(res);
  const parsed = json.ok ? errorSchema.safeParse(json.value) : null;
  if (!parsed?.success) {
    const excerpt = res.body.toString('utf8', 0, Math.min(res.body.length, 200)).replace(/\s+/g, ' ').trim();
    return { reason: 'unknown', message: excerpt };
  }
  const first = parsed.data.error.errors?.[0];
  const message = (parsed.data.error.message ?? first?.message ?? '').replace(/<[^>]*>/g, '');
  return { reason: first?.reason ?? 'unknown', message };
}

const PACIFIC = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/Los_Angeles',
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

function pacificParts(at: Date): { y: number; m: number; d: number; offsetMs: number } {
  const p = Object.fromEntries(PACIFIC.formatToParts(at).map((x) => [x.type, Number(x.value)]));
  const asUtc = Date.UTC(
    p.year ?? 0,
    (p.month ?? 1) - 1,
    p.day ?? 1,
    p.hour ?? 0,
    p.minute ?? 0,
    p.second ?? 0,
  );
  return {
    y: p.year ?? 0,
    m: p.month ?? 1,
    d: p.day ?? 1,
    offsetMs: asUtc - Math.floor(at.getTime() / 1000) * 1000,
  };
}

/** The quota day: YouTube's quota resets at midnight Pacific time (PST or PDT). */
export function pacificDay(at: Date): string {
  const { y, m, d } = pacificParts(at);
  return `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

export function nextPacificMidnight(at: Date): Date {
  const { y, m, d } = pacificParts(at);
  const wall = Date.UTC(y, m - 1, d + 1);
  let instant = wall - pacificParts(new Date(wall)).offsetMs;
  // The offset at the guess can differ from the offset at midnight itself on a DST change day.
  const offset = pacificParts(new Date(instant)).offsetMs;
  instant = wall - offset;
  return new Date(instant);
}

function quotaExhausted(now: Date, why: string): RateLimitedError {
  const resumeAt = nextPacificMidnight(now);
  return new RateLimitedError(
    `${why}; it resets at midnight Pacific time (${resumeAt.toISOString()})`,
    resumeAt,
  );
}

/**
 * One page, through the retry layer. YouTube signals limits with 403, not 429: quotaExceeded waits
 * for midnight Pacific (a RateLimitedError when that is too far off), rateLimitExceeded is a short
 * burst limit waited out like a 429. Other 4xx come back for the caller to name.
 */
async function getPage(
  ctx: CollectorContext,
  url: string,
  shownUrl: string,
  policy?: RetryPolicy,
): Promise<HttpResponse> {
  let quota = false;
  try {
    return await withRetries(
      ctx,
      async () => {
        const res = await request(ctx, url, {
          headers: { Accept: 'application/json' },
          accept: [400, 403, 404],
          ...(policy ? { policy } : {}),
        });
        if (res.status !== 403) return res;
        const { reason } = googleError(res);
        const now = ctx.now();
        if (reason === 'quotaExceeded' || reason === 'dailyLimitExceeded') {
          quota = true;
          throw new RetryableError('YouTube quota used up', 403, shownUrl, true, nextPacificMidnight(now));
        }
        if (reason === 'rateLimitExceeded' || reason === 'userRateLimitExceeded') {
          throw new RetryableError(
            'YouTube rate limit',
            403,
            shownUrl,
            true,
            new Date(now.getTime() + 60_000),
          );
        }
        return res;
      },
      policy,
    );
  } catch (err) {
    if (quota && err instanceof RateLimitedError) {
      throw new RateLimitedError(
        `YouTube API daily quota exceeded (quotaExceeded); it resets at midnight Pacific time (${err.resumeAt.toISOString()})`,
        err.resumeAt,
      );
    }
    throw err;
  }
}

/** A clear error for a partition YouTube will not serve; the other partitions go on. */
function partitionError(res: HttpResponse, partition: YoutubePartition, shownUrl: string): SourceError {
  const { reason, message } = googleError(res);
  const what = `${partition.kind} ${partition.id}`;
  const text =
    reason === 'commentsDisabled'
      ? `comments are disabled on ${what}`
      : reason === 'videoNotFound' || reason === 'channelNotFound' || res.status === 404
        ? `${what} was not found (deleted, private, or a wrong id)`
        : reason === 'keyInvalid'
          ? 'YouTube rejected the API key (keyInvalid): check apiKey'
          : `YouTube refused the request for ${what}`;
  return new SourceError(`${text} (HTTP ${res.status} ${reason}: ${message})`, res.status, shownUrl);
}

function pageUrls(
  ctx: CollectorContext,
  config: Config,
  partition: YoutubePartition,
  maxResults: number,
  pageToken: string | undefined,
): { url: string; shownUrl: string } {
  const shownUrl = withQuery(`${ctx.baseUrl}/youtube/v3/commentThreads`, {
    part: 'snippet',
    [partition.kind === 'video' ? 'videoId' : 'allThreadsRelatedToChannelId']: partition.id,
    maxResults,
    order: 'time',
    textFormat: 'plainText',
    pageToken,
  });
  // The key has to travel in the URL; `shownUrl` is the one errors, logs and quarantine rows get.
  return { url: withQuery(shownUrl, { key: config.apiKey.reveal() }), shownUrl };
}

function toRecord(thread: Thread, raw: unknown): MentionRecord {
  const top = thread.snippet.topLevelComment.snippet;
  const videoId = thread.snippet.videoId ?? top.videoId ?? null;
  const text = top.textOriginal ?? htmlToText(top.textDisplay ?? '');
  return {
    nativeId: thread.id,
    url: videoId
      ? `https://www.youtube.com/watch?v=${encodeURIComponent(videoId)}&lc=${encodeURIComponent(thread.id)}`
      : thread.snippet.channelId
        ? `https://www.youtube.com/channel/${encodeURIComponent(thread.snippet.channelId)}`
        : null,
    title: null,
    text,
    lang: null,
    channel: videoId ?? thread.snippet.channelId ?? null,
    authorId: top.authorChannelId?.value ?? null,
    authorHandle: top.authorDisplayName ?? null,
    authorName: null,
    authorFollowers: null,
    createdAt: new Date(top.publishedAt),
    createdAtEstimated: false,
    likes: top.likeCount ?? null,
    reposts: null,
    replies: thread.snippet.totalReplyCount ?? null,
    views: null,
    parentId: null,
    conversationId: null,
    repostOf: null,
    raw,
  };
}

export const youtube: Collector<Config, YoutubePartition, Bookmark> = {
  id: 'youtube',
  defaultBaseUrl: 'https://www.googleapis.com',
  configSchema,
  bookmarkSchema,

  partitions(config) {
    // Comments are collected per video or channel; topic keywords do not select them.
    const videos = [...new Set(config.videos ?? [])].map(
      (id): YoutubePartition => ({ key: `video:${id}`, kind: 'video', id }),
    );
    const channels = [...new Set(config.channels ?? [])].map(
      (id): YoutubePartition => ({ key: `channel:${id}`, kind: 'channel', id }),
    );
    return [...videos, ...channels];
  },

  async check(config, ctx) {
    try {
      const partition = youtube.partitions(config, { keywords: [] })[0];
      if (!partition) return { ok: false, reason: 'no videos or channels configured' };
      const { url, shownUrl } = pageUrls(ctx, config, partition, 1, undefined);
      const res = await getPage(ctx, url, shownUrl, {
        retries: 1,
        baseDelayMs: 500,
        maxDelayMs: 2000,
        rateLimitWaits: 0,
      });
      if (res.status !== 200) throw partitionError(res, partition, shownUrl);
      const json = parseJson(res);
      if (!json.ok) return { ok: false, reason: json.error };
      if (!pageSchema.safeParse(json.value).success) {
        return { ok: false, reason: 'commentThreads did not answer with a list of items' };
      }
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  },

  async *read(config, partition, bookmark, ctx): AsyncGenerator<Batch<Bookmark>> {
    const since = bookmark?.since;
    const sinceMs = since === undefined ? undefined : Date.parse(since);
    const startedAt = bookmark?.run?.startedAt ?? ctx.now().toISOString();
    let pageToken = bookmark?.run?.pageToken;
    let newest = bookmark?.run?.newest ?? since;
    let restarted = false;
    const position = (): Bookmark => ({
      ...(since !== undefined ? { since } : {}),
      ...(pageToken !== undefined
        ? { run: { pageToken, ...(newest !== undefined ? { newest } : {}), startedAt } }
        : {}),
    });
    for (;;) {
      const { url, shownUrl } = pageUrls(ctx, config, partition, config.maxResults, pageToken);
      const now = ctx.now();
      if (!ctx.budget.take('youtube', pacificDay(now), config.dailyQuota)) {
        throw quotaExhausted(
          now,
          `the YouTube daily quota of ${config.dailyQuota} units (dailyQuota) is used up`,
        );
      }
      const res = await getPage(ctx, url, shownUrl);
      if (res.status === 400 && pageToken !== undefined && !restarted) {
        // A saved pageToken can go stale; the run starts over (what it stored is deduplicated).
        ctx.logger.warn({ reason: googleError(res).reason }, 'page token refused; restarting the run');
        restarted = true;
        pageToken = undefined;
        continue;
      }
      if (res.status !== 200) throw partitionError(res, partition, shownUrl);
      // Quarantine rows get `shownUrl`: `url` carries the key.
      const parsed = parsePage(res, pageSchema, shownUrl);
      if (!parsed.ok) {
        yield failedBatch(parsed.quarantine, position());
        return;
      }
      const { items, nextPageToken } = parsed.value;
      // Set by the callback below, so typed wide: the check after it must not see it as always undefined.
      let tailMs = undefined as number | undefined;
      const { records, quarantine } = mapItems(
        items,
        threadSchema,
        (thread, raw) => {
          const publishedMs = Date.parse(thread.snippet.topLevelComment.snippet.publishedAt);
          tailMs = publishedMs;
          if (sinceMs !== undefined && publishedMs < sinceMs) return null;
          if (newest === undefined || publishedMs > Date.parse(newest))
            newest = new Date(publishedMs).toISOString();
          return toRecord(thread, raw);
        },
        shownUrl,
        'comment thread',
        issuePathAndMessage(),
      );
      // Newest first: once the page's tail is older than the watermark, the rest was stored before.
      // The tail, not any item, decides, so one out-of-order old comment does not end the run early.
      const reachedOld = sinceMs !== undefined && tailMs !== undefined && tailMs < sinceMs;
      const next = nextPageToken ?? undefined;
      const last = reachedOld || next === undefined || next === pageToken || items.length === 0;
      if (last) {
        const finalSince =
          newest === undefined
            ? undefined
            : new Date(Math.min(Date.parse(newest), Date.parse(startedAt))).toISOString();
        yield { records, quarantine, bookmark: finalSince === undefined ? {} : { since: finalSince } };
        return;
      }
      pageToken = next;
      yield { records, quarantine, bookmark: position() };
    }
  },
};
