import { z } from 'zod';
import { RateLimitedError, SourceError } from '../pipeline/errors.js';
import { issuedToken, Secret, secretRef } from '../pipeline/secrets.js';
import type { Batch, Collector, CollectorContext, MentionRecord } from './contract.js';
import { type HttpResponse, parseJson, type RetryPolicy, request, withQuery } from './http.js';
import { failedBatch, type ItemSchema, issuePathAndMessage, mapItems, parsePage } from './payload.js';

const DEFAULT_API = 'https://oauth.reddit.com';
const DEFAULT_AUTH = 'https://www.reddit.com';

// Reddit's API rules ask for "<platform>:<app ID>:<version string> (by /u/<reddit username>)" and
// throttle or block generic agents, so a vague one fails here rather than as mysterious 429s.
const USER_AGENT = /^[^\s:]+:[^\s:]+:[^\s:]+ \(by \/?u\/[A-Za-z0-9_-]{3,20}\)$/;
const SUBREDDIT = /^\/?(?:r\/)?([A-Za-z0-9][A-Za-z0-9_]{1,20})\/?$/;

/** Reddit search (sort=new) with an app-only OAuth token. */
const configSchema = z.strictObject({
  clientId: secretRef,
  clientSecret: secretRef,
  userAgent: z
    .string()
    .trim()
    .regex(USER_AGENT, {
      message:
        'must name this app and its Reddit account as "<platform>:<app id>:<version> (by /u/<username>)", ' +
        'e.g. "linux:earshot:0.1 (by /u/yourname)"; Reddit throttles or blocks generic user agents',
    })
    .refine((ua) => !/\/u\/yourname\)$/i.test(ua), {
      message: 'replace "yourname" with the Reddit username that owns the app',
    }),
  /** Search only these subreddits (one partition per subreddit and query); default: all of Reddit. */
  subreddits: z
    .array(
      z
        .string()
        .trim()
        .regex(SUBREDDIT, { message: 'must be a subreddit name like "golang" or "r/golang"' })
        .transform((s) => SUBREDDIT.exec(s)?.[1] ?? s),
    )
    .optional(),
  /** Search terms; default: every topic keyword. */
  queries: z.array(z.string().trim().min(1)).optional(),
  /** Posts per page (Reddit's maximum is 100). */
  limit: z.number().int().min(1).max(100).default(100),
  /** Origin of the token endpoint; default www.reddit.com, or the source's baseUrl when that is overridden. */
  authBaseUrl: z
    .url({ message: 'must be an http(s) URL like "https://www.reddit.com"' })
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
});
type Config = z.infer<typeof configSchema>;

interface RedditPartition {
  key: string;
  query: string;
  subreddit?: string;
}

/**
 * `since`: created_utc (seconds) of the newest post stored by a finished run; posts older than it
 * end the next run, posts of that very second are seen again and deduplicated. `run`: the `after`
 * cursor of an unfinished run (Reddit's cursors are post fullnames, so they do not shift when new
 * posts arrive), the newest created_utc it has seen and when it started.
 */
const bookmarkSchema = z.object({
  since: z.number().optional(),
  run: z
    .object({ after: z.string().min(1), newest: z.number().optional(), startedAt: z.number().int() })
    .optional(),
});
type Bookmark = z.infer<typeof bookmarkSchema>;

const listingSchema = z.object({
  kind: z.literal('Listing'),
  data: z.object({
    after: z.string().nullish(),
    children: z.array(z.unknown()),
  }),
});

const childSchema = z.object({ kind: z.string(), data: z.unknown() });

const postSchema = z.object({
  name: z.string().regex(/^t3_[a-z0-9]+$/),
  created_utc: z.number(),
  permalink: z.string().startsWith('/'),
  title: z.string(),
  subreddit: z.string().nullish(),
  selftext: z.string().nullish(),
  author: z.string().nullish(),
  author_fullname: z.string().nullish(),
  score: z.number().nullish(),
  num_comments: z.number().nullish(),
  num_crossposts: z.number().nullish(),
  crosspost_parent: z.string().nullish(),
});
type Post = z.infer<typeof postSchema>;

/** A listing child as the post it wraps; a child without a kind fails with the child's own issue. */
const postInChild: ItemSchema<Post> = {
  safeParse(raw) {
    const child = childSchema.safeParse(raw);
    return child.success ? postSchema.safeParse(child.data.data) : child;
  },
};

const tokenSchema = z.object({
  access_token: issuedToken,
  expires_in: z.number().positive().optional(),
});

/** What one app (client id) has with one Reddit: its token and the rate-limit window it is in. */
interface ClientState {
  token: { value: Secret; expiresAt: number } | null;
  /** When X-Ratelimit-Remaining reached 0: the next call waits for the reset. */
  pauseUntil: number | null;
}

// In memory only: tokens live an hour or a day and a new one costs one call. Keyed by the Secret
// object (a config reload makes new ones) and the auth origin (tests run many fake Reddits).
const clients = new WeakMap<Secret, Map<string, ClientState>>();

function clientState(config: Config, authOrigin: string): ClientState {
  const byOrigin = clients.get(config.clientSecret) ?? new Map<string, ClientState>();
  clients.set(config.clientSecret, byOrigin);
  const key = `${authOrigin} ${config.clientId.name}`;
  let state = byOrigin.get(key);
  if (!state) {
    state = { token: null, pauseUntil: null };
    byOrigin.set(key, state);
  }
  return state;
}

function authOriginOf(config: Config, ctx: CollectorContext): string {
  if (config.authBaseUrl) return config.authBaseUrl;
  return ctx.baseUrl === DEFAULT_API ? DEFAULT_AUTH : ctx.baseUrl;
}

const checkPolicy: RetryPolicy = { retries: 1, baseDelayMs: 500, maxDelayMs: 2000, rateLimitWaits: 0 };

async function fetchToken(config: Config, ctx: CollectorContext, authOrigin: string, policy?: RetryPolicy) {
  const url = `${authOrigin}/api/v1/access_token`;
  // The encoded pair is as sensitive as the secret: registering it lets redact() hide it too.
  const basic = new Secret(
    'reddit basic auth',
    Buffer.from(`${config.clientId.reveal()}:${config.clientSecret.reveal()}`).toString('base64'),
  );
  const res = await request(ctx, url, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${basic.reveal()}`,
      'Content-Type': 'application/x-www-form-urlencoded',
      'User-Agent': config.userAgent,
      Accept: 'application/json',
    },
    body: 'grant_type=client_credentials',
    accept: [400, 401, 403],
    ...(policy ? { policy } : {}),
  });
  if (res.status === 401 || res.status === 403) {
    throw new SourceError(
      `Reddit refused the app credentials (HTTP ${res.status} from the token endpoint): check clientId and ` +
        'clientSecret against the app at https://www.reddit.com/prefs/apps',
      res.status,
      url,
    );
  }
  const json = parseJson(res);
  const token = json.ok ? tokenSchema.safeParse(json.value) : null;
  if (res.status !== 200 || !token?.success) {
    // Reddit reports some failures (unsupported_grant_type, invalid_grant) as 200 {"error": ...}.
    const reason = json.ok ? JSON.stringify(json.value).slice(0, 200) : json.error;
    throw new SourceError(`Reddit token request failed (HTTP ${res.status}): ${reason}`, res.status, url);
  }
  const expiresIn = token.data.expires_in ?? 3600;
  return {
    value: new Secret('reddit access token', token.data.access_token),
    // A minute early, so a token never expires between being read and being used.
    expiresAt: ctx.now().getTime() + Math.max(0, expiresIn - 60) * 1000,
  };
}

/**
 * One GET against the API with the bearer token. A 401 means the token expired or was revoked: it
 * is replaced once, and a second 401 is an error (a refresh loop would hammer the token endpoint).
 */
async function apiGet(
  config: Config,
  ctx: CollectorContext,
  url: string,
  policy?: RetryPolicy,
): Promise<HttpResponse> {
  const authOrigin = authOriginOf(config, ctx);
  const state = clientState(config, authOrigin);
  for (let attempt = 0; ; attempt++) {
    if (state.pauseUntil !== null) {
      const wait = state.pauseUntil - ctx.now().getTime();
      if (wait > 0) {
        if (wait > ctx.maxRateLimitWaitMs) {
          throw new RateLimitedError(
            `Reddit rate limit used up until ${new Date(state.pauseUntil).toISOString()}`,
            new Date(state.pauseUntil),
          );
        }
        ctx.logger.info({ waitMs: wait }, 'Reddit rate limit used up; waiting for the window to reset');
        await ctx.sleep(wait, ctx.signal);
      }
      state.pauseUntil = null;
    }
    if (!state.token || state.token.expiresAt <= ctx.now().getTime()) {
      state.token = await fetchToken(config, ctx, authOrigin, policy);
    }
    const res = await request(ctx, url, {
      headers: {
        Authorization: `bearer ${state.token.value.reveal()}`,
        'User-Agent': config.userAgent,
        Accept: 'application/json',
      },
      accept: [401, 403, 404],
      ...(policy ? { policy } : {}),
    });
    noteRateLimit(state, res, ctx.now());
    if (res.status !== 401) return res;
    state.token = null;
    if (attempt >= 1) {
      throw new SourceError(
        'Reddit rejected a freshly issued access token (HTTP 401 twice); check that the app is allowed to use the API',
        401,
        url,
      );
    }
    ctx.logger.info('Reddit access token rejected; fetching a new one');
  }
}

/** X-Ratelimit-Remaining is per 10-minute window; at 0 the next call would be a 429, so wait instead. */
function noteRateLimit(state: ClientState, res: HttpResponse, now: Date): void {
  const remaining = Number(res.headers.get('x-ratelimit-remaining') ?? Number.NaN);
  const reset = Number(res.headers.get('x-ratelimit-reset') ?? Number.NaN);
  if (Number.isFinite(remaining) && remaining < 1 && Number.isFinite(reset) && reset > 0) {
    state.pauseUntil = now.getTime() + reset * 1000 + 1000;
  }
}

function searchUrl(ctx: CollectorContext, partition: RedditPartition, limit: number, after?: string): string {
  const path = partition.subreddit ? `/r/${encodeURIComponent(partition.subreddit)}/search` : '/search';
  return withQuery(`${ctx.baseUrl}${path}`, {
    q: partition.query,
    sort: 'new',
    limit,
    after,
    raw_json: 1,
    type: 'link',
    restrict_sr: partition.subreddit ? 1 : undefined,
  });
}

/** A 403/404 on a search names the subreddit: private, quarantined, banned or misspelled. */
function searchError(res: HttpResponse, partition: RedditPartition, url: string): SourceError {
  const body = res.body.toString('utf8', 0, Math.min(res.body.length, 300)).replace(/\s+/g, ' ').trim();
  const where = partition.subreddit ? `r/${partition.subreddit}` : 'Reddit search';
  const why =
    res.status === 404
      ? 'not found (check the subreddit name)'
      : 'forbidden (the subreddit may be private, quarantined or banned)';
  return new SourceError(`${where}: ${why}, HTTP ${res.status}: ${body}`, res.status, url);
}

function toRecord(post: Post, raw: unknown): MentionRecord {
  const author = post.author && post.author !== '[deleted]' ? post.author : null;
  const selftext =
    post.selftext && post.selftext !== '[deleted]' && post.selftext !== '[removed]' ? post.selftext : '';
  return {
    nativeId: post.name,
    url: `https://www.reddit.com${post.permalink}`,
    title: post.title,
    // raw_json=1: title and selftext arrive unescaped, as the author wrote them (Markdown for self posts).
    text: [post.title, selftext.trim()].filter(Boolean).join('\n'),
    lang: null,
    channel: post.subreddit ?? null,
    authorId: post.author_fullname ?? author,
    authorHandle: author,
    authorName: null,
    authorFollowers: null,
    createdAt: new Date(post.created_utc * 1000),
    createdAtEstimated: false,
    likes: post.score ?? null,
    reposts: post.num_crossposts ?? null,
    replies: post.num_comments ?? null,
    views: null,
    parentId: null,
    conversationId: null,
    repostOf: post.crosspost_parent ?? null,
    raw,
  };
}

export const reddit: Collector<Config, RedditPartition, Bookmark> = {
  id: 'reddit',
  defaultBaseUrl: DEFAULT_API,
  configSchema,
  bookmarkSchema,

  partitions(config, targets) {
    const queries = config.queries ?? targets.keywords;
    if (!config.subreddits?.length) return queries.map((query) => ({ key: query, query }));
    return config.subreddits.flatMap((subreddit) =>
      queries.map((query) => ({ key: `r/${subreddit}:${query}`, query, subreddit })),
    );
  },

  async check(config, ctx) {
    try {
      const sub = config.subreddits?.[0];
      const partition: RedditPartition = sub
        ? { key: 'check', query: 'test', subreddit: sub }
        : { key: 'check', query: 'test' };
      const url = searchUrl(ctx, partition, 1);
      const res = await apiGet(config, ctx, url, checkPolicy);
      if (res.status !== 200) throw searchError(res, partition, url);
      const json = parseJson(res);
      if (!json.ok) return { ok: false, reason: json.error };
      if (!listingSchema.safeParse(json.value).success) {
        return { ok: false, reason: 'Reddit search did not answer with a Listing' };
      }
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  },

  async *read(config, partition, bookmark, ctx): AsyncGenerator<Batch<Bookmark>> {
    const since = bookmark?.since;
    const startedAt = bookmark?.run?.startedAt ?? Math.floor(ctx.now().getTime() / 1000);
    let after = bookmark?.run?.after;
    let newest = bookmark?.run?.newest ?? since;
    /** The bookmark for "the next page to read is `after`" (or a fresh run when there is none). */
    const position = (): Bookmark => ({
      ...(since !== undefined ? { since } : {}),
      ...(after !== undefined
        ? { run: { after, ...(newest !== undefined ? { newest } : {}), startedAt } }
        : {}),
    });
    for (;;) {
      const url = searchUrl(ctx, partition, config.limit, after);
      const res = await apiGet(config, ctx, url);
      if (res.status !== 200) throw searchError(res, partition, url);
      const parsed = parsePage(res, listingSchema, url, { what: 'listing' });
      if (!parsed.ok) {
        yield failedBatch(parsed.quarantine, position());
        return;
      }
      const { children } = parsed.value.data;
      // Only posts are searched (type=link); anything else is not a mention of ours.
      const postChildren = children.filter((raw) => {
        const child = childSchema.safeParse(raw);
        return !child.success || child.data.kind === 't3';
      });
      const otherKinds = children.length - postChildren.length;
      let reachedOld = false;
      const { records, quarantine } = mapItems(
        postChildren,
        postInChild,
        (post, raw) => {
          // Newest first: a post older than the watermark means the rest were stored by an earlier run.
          if (since !== undefined && post.created_utc < since) {
            reachedOld = true;
            return null;
          }
          newest = Math.max(newest ?? post.created_utc, post.created_utc);
          return toRecord(post, raw);
        },
        url,
        'post',
        issuePathAndMessage(),
      );
      if (otherKinds > 0) ctx.logger.debug({ otherKinds }, 'skipped listing children that are not posts');
      const next = parsed.value.data.after ?? undefined;
      const last = reachedOld || next === undefined || next === after || children.length === 0;
      if (last) {
        const finalSince = newest === undefined ? undefined : Math.min(newest, startedAt);
        yield { records, quarantine, bookmark: finalSince === undefined ? {} : { since: finalSince } };
        return;
      }
      after = next;
      yield { records, quarantine, bookmark: position() };
    }
  },
};
