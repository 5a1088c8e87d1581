import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import {
  ApiPartialResponseError,
  ApiRequestError,
  ApiResponseError,
  type IGetHttpRequestArgs,
  type ITwitterApiClientPlugin,
  TwitterApi,
} from 'twitter-api-v2';
import { z } from 'zod';
import { SourceError } from '../pipeline/errors.js';
import { type Secret, secretRef } from '../pipeline/secrets.js';
import type { Batch, Collector, CollectorContext, MentionRecord } from './contract.js';
import {
  defaultRetryPolicy,
  RetryableError,
  type RetryPolicy,
  retryAtFromHeaders,
  withRetries,
} from './http.js';
import { failedBatch, issuePathAndMessage, mapItems, parsePage } from './payload.js';

/**
 * X (Twitter) recent search (GET /2/tweets/search/recent, the last 7 days) through twitter-api-v2.
 * Newest first; `since_id` bounds a run from below and `next_token` pages down within it.
 */
const configSchema = z.strictObject({
  /** App-only bearer token of an X developer app on a tier that includes recent search. */
  bearerToken: secretRef,
  /** X search queries (operators allowed); default: every topic keyword, multi-word ones quoted. */
  queries: z.array(z.string().trim().min(1)).optional(),
  /** Posts per page; X accepts 10-100. */
  maxResults: z.number().int().min(10).max(100).default(100),
});
type Config = z.infer<typeof configSchema>;
type XPartition = { key: string; query: string };

const tweetId = z.string().regex(/^\d{1,20}$/, 'not a post id');

/**
 * `sinceId`: newest post id stored by the last finished run (X returns ids strictly above it).
 * `run`: an unfinished run: the next page's token and the newest id seen so far in that run.
 */
const bookmarkSchema = z.object({
  sinceId: tweetId.optional(),
  run: z.object({ nextToken: z.string().min(1), newestId: tweetId.optional() }).optional(),
});
type Bookmark = z.infer<typeof bookmarkSchema>;

const SEARCH_PATH = 'tweets/search/recent';
const SEARCH = 'recent search';
const TWEET_FIELDS = 'created_at,lang,public_metrics,conversation_id,referenced_tweets,in_reply_to_user_id';
const USER_FIELDS = 'username,name,public_metrics,verified';
const EXPANSIONS = 'author_id,referenced_tweets.id';
const TIMEOUT_MS = 30_000;
const MAX_BYTES = 10 * 1024 * 1024;

const count = z.number().int().nonnegative().nullish();
const tweetSchema = z.object({
  id: tweetId,
  text: z.string(),
  created_at: z.iso.datetime({ offset: true }),
  author_id: z.string().nullish(),
  lang: z.string().nullish(),
  conversation_id: z.string().nullish(),
  in_reply_to_user_id: z.string().nullish(),
  referenced_tweets: z
    .array(z.object({ type: z.string(), id: z.string() }))
    .nullish()
    .transform((v) => v ?? []),
  public_metrics: z
    .object({
      retweet_count: count,
      reply_count: count,
      like_count: count,
      quote_count: count,
      impression_count: count,
    })
    .nullish(),
});
type Tweet = z.infer<typeof tweetSchema>;

const userSchema = z.object({
  id: z.string(),
  username: z.string().nullish(),
  name: z.string().nullish(),
  public_metrics: z.object({ followers_count: count }).nullish(),
});
type User = z.infer<typeof userSchema>;

const pageSchema = z.object({
  data: z.array(z.unknown()).optional(),
  includes: z.object({ users: z.array(z.unknown()).optional() }).optional(),
  meta: z.object({ result_count: z.number().int(), next_token: z.string().min(1).optional() }),
});

/** X's problem+json error body; loose because v1-style and v2-style bodies differ. */
const errorBodySchema = z.object({
  title: z.string().optional(),
  detail: z.string().optional(),
  reason: z.string().optional(),
  errors: z
    .array(
      z.object({ message: z.string().optional(), parameters: z.record(z.string(), z.unknown()).optional() }),
    )
    .optional(),
});

/** X answered 400 because since_id is older than the 7 days recent search covers. */
class StaleSinceIdError extends Error {
  override name = 'StaleSinceIdError';
}

// Our own agents without keep-alive: the per-request event hook below adds socket listeners that
// a reused socket would accumulate. A TLS handshake per page is nothing next to X's rate limits.
const plainAgent = new http.Agent();
const tlsAgent = new https.Agent();

/**
 * twitter-api-v2 has no base-URL option and builds https://api.x.com/2/... URLs: rewrite them to
 * ctx.baseUrl (a proxy, or 127.0.0.1 in tests) and hand node's request the attempt's AbortSignal,
 * which the library itself has no option for (its `timeout` is only a socket idle timeout).
 */
function routeTo(baseUrl: string, signal: AbortSignal): ITwitterApiClientPlugin {
  const base = new URL(baseUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  return {
    onBeforeRequest({ computedParams, requestOptions }) {
      const url = computedParams.url;
      url.protocol = base.protocol;
      url.host = base.host;
      url.pathname = prefix + url.pathname;
      requestOptions.signal = signal;
    },
  };
}

/** `promise`, or the abort reason as soon as `signal` aborts, even if the library never settles. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(() => undefined);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

function toHeaders(raw: IncomingMessage['headers'] | undefined): Headers {
  const headers = new Headers();
  for (const [k, v] of Object.entries(raw ?? {})) {
    if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
  }
  return headers;
}

/** When a 429 ends: the latest exhausted window (15-minute, app 24-hour, user 24-hour), else any hint. */
function rateLimitResetAt(err: ApiResponseError, now: Date): Date | null {
  const rl = err.rateLimit;
  const windows = [rl, rl?.day, rl?.userDay].filter(
    (w): w is { limit: number; remaining: number; reset: number } =>
      w !== undefined && Number.isFinite(w.reset),
  );
  const exhausted = windows.filter((w) => w.remaining === 0).map((w) => w.reset);
  const reset = exhausted.length > 0 ? Math.max(...exhausted) : windows[0]?.reset;
  if (reset !== undefined && reset > 1e9) return new Date(reset * 1000);
  return retryAtFromHeaders(toHeaders(err.headers), now);
}

function errorBody(data: unknown): z.infer<typeof errorBodySchema> | null {
  if (typeof data !== 'string') return null;
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(data));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function isStaleSinceId(body: z.infer<typeof errorBodySchema> | null): boolean {
  return (body?.errors ?? []).some(
    (e) => (e.parameters && 'since_id' in e.parameters) || e.message?.includes("'since_id'"),
  );
}

/** A refusal a person can act on, about `what` (the endpoint's name); never includes request headers. */
function refusal(status: number, data: unknown, what: string): string {
  const body = errorBody(data);
  const said = [body?.title, body?.detail, body?.errors?.[0]?.message, body?.reason && `(${body.reason})`]
    .filter(Boolean)
    .join(' ');
  const detail = (said || (typeof data === 'string' ? data : '')).replace(/\s+/g, ' ').trim().slice(0, 300);
  if (status === 401) {
    return `X refused the bearer token (HTTP 401${detail ? `: ${detail}` : ''}); check that bearerToken names a current app-only token`;
  }
  if (status === 403) {
    return `X refused ${what} for this app (HTTP 403${detail ? `: ${detail}` : ''}); ${what} needs an API tier that includes it`;
  }
  return `X answered HTTP ${status} to ${what}${detail ? `: ${detail}` : ''}`;
}

type Query = Record<string, string | number | undefined>;

/** One X API v2 request: the path under /2/, its query (GET) or JSON body (POST), and what it is called in messages. */
export interface XCall {
  path: string;
  query?: Query;
  body?: Record<string, unknown>;
  what: string;
}

/** The URL the library will request, for error messages and quarantine rows (no secrets in it). */
function publicUrl(ctx: CollectorContext, path: string, query: Query): string {
  const url = new URL(`${ctx.baseUrl}/2/${path}`);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
  return url.toString();
}

/**
 * One request through twitter-api-v2 (GET with `query`, POST with `body`), retried by withRetries:
 * 429 -> rate limited until the reset X gives, 5xx/408/network/timeouts -> transient, other 4xx ->
 * SourceError (or StaleSinceIdError). The body comes back as text (forceParseMode) so an
 * unparseable page can be quarantined as received. Also used by `earshot compliance x`.
 */
export async function callX(
  ctx: CollectorContext,
  token: Secret,
  call: XCall,
  policy: RetryPolicy = defaultRetryPolicy,
): Promise<{ body: string; url: string }> {
  const query = call.query ?? {};
  const url = publicUrl(ctx, call.path, query);
  const plainHttp = new URL(ctx.baseUrl).protocol === 'http:';
  return withRetries(
    ctx,
    async (signal) => {
      const timeout = AbortSignal.timeout(TIMEOUT_MS);
      const tooLarge = new AbortController();
      const attemptSignal = AbortSignal.any([signal, timeout, tooLarge.signal]);
      let response: IncomingMessage | undefined;
      const onEvent: IGetHttpRequestArgs['requestEventDebugHandler'] = (event, data) => {
        if (event !== 'response') return;
        const res = (data as { res: IncomingMessage }).res;
        response = res;
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BYTES && !tooLarge.signal.aborted) tooLarge.abort(new Error('too large'));
        });
      };
      const client = new TwitterApi(token.reveal(), {
        plugins: [routeTo(ctx.baseUrl, attemptSignal)],
        httpAgent: plainHttp ? plainAgent : tlsAgent,
      });
      const args = {
        fullResponse: true as const,
        forceParseMode: 'text' as const,
        timeout: TIMEOUT_MS,
        enableRateLimitSave: false,
        requestEventDebugHandler: onEvent,
      };
      try {
        const request =
          call.body === undefined
            ? client.v2.get<unknown>(call.path, query, args)
            : client.v2.post<unknown>(call.path, call.body, args);
        const res = await untilAborted(request, attemptSignal);
        // In text mode the library resolves a body cut short by a dropped connection as if complete.
        if (response && !response.complete) {
          throw new RetryableError('X closed the connection before the page ended', null, url, false, null);
        }
        return { body: typeof res.data === 'string' ? res.data : String(res.data ?? ''), url };
      } catch (err) {
        if (err instanceof RetryableError) throw err;
        if (signal.aborted) throw signal.reason ?? err;
        if (tooLarge.signal.aborted) {
          throw new SourceError(`response is larger than the ${MAX_BYTES}-byte limit`, 200, url);
        }
        if (timeout.aborted) {
          throw new RetryableError(`request to X timed out after ${TIMEOUT_MS} ms`, null, url, false, null);
        }
        // The library's errors carry the request (with its Authorization header): never pass them on.
        if (err instanceof ApiResponseError) {
          const now = ctx.now();
          if (err.code === 429) {
            throw new RetryableError('HTTP 429 from X', 429, url, true, rateLimitResetAt(err, now));
          }
          if (err.code >= 500 || err.code === 408) {
            const retryAt = retryAtFromHeaders(toHeaders(err.headers), now);
            throw new RetryableError(`HTTP ${err.code} from X`, err.code, url, false, retryAt);
          }
          if (err.code === 400 && query.since_id !== undefined && isStaleSinceId(errorBody(err.data))) {
            throw new StaleSinceIdError(refusal(err.code, err.data, call.what));
          }
          throw new SourceError(refusal(err.code, err.data, call.what), err.code, url);
        }
        if (err instanceof ApiRequestError || err instanceof ApiPartialResponseError) {
          const reason = err instanceof ApiRequestError ? err.requestError?.message : err.message;
          throw new RetryableError(
            `request to X failed: ${reason ?? 'network error'}`,
            null,
            url,
            false,
            null,
          );
        }
        throw err;
      }
    },
    policy,
  );
}

/** X escapes &, < and > in post text; it is otherwise plain text whose line breaks matter. */
function unescapeText(text: string): string {
  return text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

function maxId(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return BigInt(a) >= BigInt(b) ? a : b;
}

// X post ids are snowflakes: the bits above the lowest 22 count milliseconds (since X's own epoch,
// which cancels out when moving back by a duration).
/** Posts can reach the search index a little after newer ones: the next run looks back this far. */
const INDEX_LAG_MS = 60_000n;

/**
 * The since_id for the next run: the id of the newest stored post moved back by INDEX_LAG_MS, so a
 * post indexed late is still found (re-seen posts are deduplicated), never below the old since_id.
 */
export function nextSinceId(newest: string | undefined, old: string | undefined): string | undefined {
  if (newest === undefined) return old;
  const ms = (BigInt(newest) >> 22n) - INDEX_LAG_MS;
  const back = ms > 0n ? ms << 22n : 0n;
  return maxId(back.toString(), old);
}

function toRecord(tweet: Tweet, author: User | undefined, raw: unknown): MentionRecord {
  const ref = (type: string) => tweet.referenced_tweets.find((r) => r.type === type)?.id ?? null;
  const repostOf = ref('retweeted');
  const parentId = ref('replied_to');
  const quoted = ref('quoted');
  const handle = author?.username ?? null;
  const m = tweet.public_metrics;
  return {
    nativeId: tweet.id,
    url: handle ? `https://x.com/${handle}/status/${tweet.id}` : `https://x.com/i/web/status/${tweet.id}`,
    title: null,
    text: unescapeText(tweet.text),
    lang: tweet.lang ?? null,
    channel: repostOf ? 'retweet' : parentId ? 'reply' : quoted ? 'quote' : 'post',
    authorId: tweet.author_id ?? null,
    authorHandle: handle,
    authorName: author?.name ?? null,
    authorFollowers: author?.public_metrics?.followers_count ?? null,
    createdAt: new Date(tweet.created_at),
    createdAtEstimated: false,
    likes: m?.like_count ?? null,
    // Quotes are posts of their own (and found by search when they match): not counted as reposts.
    reposts: m?.retweet_count ?? null,
    replies: m?.reply_count ?? null,
    views: m?.impression_count ?? null,
    parentId,
    conversationId: tweet.conversation_id ?? null,
    repostOf,
    raw,
  };
}

/** Topic keywords as X queries: multi-word keywords become exact phrases. */
function keywordQuery(keyword: string): string {
  const k = keyword.trim();
  if (!/\s/.test(k) || /^".*"$/.test(k)) return k;
  return `"${k.replaceAll('"', '')}"`;
}

export const x: Collector<Config, XPartition, Bookmark> = {
  id: 'x',
  defaultBaseUrl: 'https://api.x.com',
  configSchema,
  bookmarkSchema,

  partitions(config, targets) {
    const queries = config.queries ?? targets.keywords.map(keywordQuery).filter(Boolean);
    return [...new Set(queries)].map((query) => ({ key: query, query }));
  },

  async check(config, ctx) {
    try {
      // Proves the token AND the tier's access to recent search; counts at most 10 posts of the cap.
      await callX(
        ctx,
        config.bearerToken,
        { path: SEARCH_PATH, query: { query: config.queries?.[0] ?? 'news', max_results: 10 }, what: SEARCH },
        { retries: 1, baseDelayMs: 500, maxDelayMs: 2000, rateLimitWaits: 0 },
      );
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  },

  async *read(config, partition, bookmark, ctx): AsyncGenerator<Batch<Bookmark>> {
    let since = bookmark?.sinceId;
    let nextToken = bookmark?.run?.nextToken;
    let newest = maxId(bookmark?.run?.newestId, since);
    const position = (): Bookmark => ({
      ...(since !== undefined ? { sinceId: since } : {}),
      ...(nextToken !== undefined
        ? { run: { nextToken, ...(newest !== undefined ? { newestId: newest } : {}) } }
        : {}),
    });
    for (;;) {
      const query: Query = {
        query: partition.query,
        max_results: config.maxResults,
        since_id: since,
        next_token: nextToken,
        expansions: EXPANSIONS,
        'tweet.fields': TWEET_FIELDS,
        'user.fields': USER_FIELDS,
      };
      let page: { body: string; url: string };
      try {
        page = await callX(ctx, config.bearerToken, { path: SEARCH_PATH, query, what: SEARCH });
      } catch (err) {
        if (!(err instanceof StaleSinceIdError)) throw err;
        // Older than recent search's 7 days: everything X still has is newer than since_id anyway, so
        // restart this run from the top without it; re-seen posts are deduplicated by the runner.
        ctx.logger.warn(
          { sinceId: since },
          'since_id is outside the 7-day search window; searching without it',
        );
        since = undefined;
        nextToken = undefined;
        continue;
      }

      const parsed = parsePage({ text: page.body, from: 'X' }, pageSchema, page.url);
      if (!parsed.ok) {
        yield failedBatch(parsed.quarantine, position());
        return;
      }

      const users = new Map<string, User>();
      for (const raw of parsed.value.includes?.users ?? []) {
        const user = userSchema.safeParse(raw);
        if (user.success) users.set(user.data.id, user.data);
      }
      const { records, quarantine } = mapItems(
        parsed.value.data ?? [],
        tweetSchema,
        (tweet, raw) => {
          newest = maxId(newest, tweet.id);
          return toRecord(tweet, tweet.author_id ? users.get(tweet.author_id) : undefined, raw);
        },
        page.url,
        'post',
        issuePathAndMessage(': '),
      );

      const token = parsed.value.meta.next_token;
      // A token equal to the one just sent would loop forever: treat it as the end.
      const last = token === undefined || token === nextToken;
      ctx.logger.debug({ posts: records.length, last }, 'X search page');
      if (last) {
        since = nextSinceId(newest, since);
        nextToken = undefined;
      } else {
        nextToken = token;
      }
      yield { records, quarantine, bookmark: position() };
      if (last) return;
    }
  },
};
