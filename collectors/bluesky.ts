import { z } from 'zod';
import { SourceError } from '../pipeline/errors.js';
import { issuedToken, Secret, secretRef } from '../pipeline/secrets.js';
import type { Batch, Collector, CollectorContext, MentionRecord } from './contract.js';
import { type HttpResponse, parseJson, type RequestOptions, request, withQuery } from './http.js';
import { failedBatch, issuePathAndMessage, mapItems, parsePage } from './payload.js';

/**
 * Bluesky post search (app.bsky.feed.searchPosts, sort=latest) with an app-password session.
 *
 * The default origin is the PDS entryway https://bsky.social, not the AppView: Bluesky stopped
 * serving post search to anonymous callers (public.api.bsky.app answers 403, atproto#3423, and
 * the lexicon now says search may require auth), and its docs route authenticated app.bsky.*
 * calls through the user's PDS, which proxies them to the AppView. `service` is where sessions
 * are created; it defaults to the same origin, so set it when baseUrl points elsewhere.
 */
const configSchema = z.strictObject({
  /** Handle (acme.bsky.social), DID or account email. */
  identifier: z.string().trim().min(1),
  /** An app password (Settings > Privacy and security > App passwords), never the account password. */
  appPassword: secretRef,
  /** Search terms; default: every topic keyword. */
  queries: z.array(z.string().trim().min(1)).optional(),
  /** PDS origin for createSession/refreshSession; default: the source's baseUrl. */
  service: z.url({ message: 'must be an origin like "https://bsky.social"' }).optional(),
  /** How far back the first run of a query reaches; later runs continue from their bookmark. */
  backfillDays: z.number().int().min(0).max(3650).default(7),
});
type Config = z.infer<typeof configSchema>;

interface BlueskyPartition {
  key: string;
  query: string;
}

/**
 * `since`: lower bound sent to the search (inclusive, on Bluesky's sortAt). It is kept unchanged
 * while a run pages newest-first with `run.cursor`, and moved only by the run's last page, to
 * the newest post seen (never past the run's start) less SEARCH_LAG_MS.
 */
const bookmarkSchema = z.object({
  since: z.iso.datetime().optional(),
  run: z.object({ cursor: z.string().min(1), newest: z.iso.datetime().optional() }).optional(),
});
type Bookmark = z.infer<typeof bookmarkSchema>;

/** Posts reach the search index a little late: the next run looks back this far past the newest. */
const SEARCH_LAG_MS = 5 * 60_000;
const PAGE_SIZE = 100;

const parses = (s: string | null | undefined): s is string =>
  typeof s === 'string' && !Number.isNaN(Date.parse(s));

const postSchema = z
  .object({
    uri: z.string().startsWith('at://'),
    author: z.object({
      did: z.string().min(1),
      handle: z.string().min(1),
      displayName: z.string().nullish(),
    }),
    record: z.object({
      text: z.string().default(''),
      createdAt: z.string().nullish(),
      langs: z.array(z.string()).nullish(),
      reply: z
        .object({ root: z.object({ uri: z.string() }), parent: z.object({ uri: z.string() }) })
        .nullish(),
    }),
    indexedAt: z.string().nullish(),
    likeCount: z.number().nullish(),
    repostCount: z.number().nullish(),
    replyCount: z.number().nullish(),
    quoteCount: z.number().nullish(),
  })
  .refine((p) => parses(p.record.createdAt) || parses(p.indexedAt), {
    message: 'neither record.createdAt nor indexedAt is a date',
    path: ['record', 'createdAt'],
  });
type Post = z.infer<typeof postSchema>;

const pageSchema = z.object({
  posts: z.array(z.unknown()),
  cursor: z.string().nullish(),
  hitsTotal: z.number().int().nullish(),
});

/**
 * The post's time as Bluesky orders and filters search results (its sortAt): createdAt is set by
 * the client and may be in the future, so it never counts as later than the indexing time.
 */
function sortAt(post: Post): Date {
  const created = parses(post.record.createdAt) ? Date.parse(post.record.createdAt) : Number.NaN;
  const indexed = parses(post.indexedAt) ? Date.parse(post.indexedAt) : Number.NaN;
  if (Number.isNaN(created)) return new Date(indexed);
  if (Number.isNaN(indexed)) return new Date(created);
  return new Date(Math.min(created, indexed));
}

function postUrl(post: Post): string | null {
  const m = /^at:\/\/([^/]+)\/app\.bsky\.feed\.post\/([^/?#]+)$/.exec(post.uri);
  if (!m?.[2]) return null;
  const who = post.author.handle === 'handle.invalid' ? post.author.did : post.author.handle;
  return `https://bsky.app/profile/${encodeURIComponent(who)}/post/${encodeURIComponent(m[2])}`;
}

function toRecord(post: Post, raw: unknown): MentionRecord {
  return {
    nativeId: post.uri,
    url: postUrl(post),
    title: null,
    text: post.record.text.trim(),
    lang: post.record.langs?.[0] ?? null,
    channel: null,
    authorId: post.author.did,
    authorHandle: post.author.handle,
    authorName: post.author.displayName || null,
    // Post views carry no follower counts; getProfiles would cost a call per 25 authors.
    authorFollowers: null,
    createdAt: sortAt(post),
    createdAtEstimated: false,
    likes: post.likeCount ?? null,
    // Quotes are posts of their own (they are found and stored as mentions): not counted here.
    reposts: post.repostCount ?? null,
    replies: post.replyCount ?? null,
    views: null,
    parentId: post.record.reply?.parent.uri ?? null,
    conversationId: post.record.reply?.root.uri ?? null,
    // Search returns posts only; reposts are separate records it never answers with.
    repostOf: null,
    raw,
  };
}

/** The XRPC error body `{error, message}`, or what can be shown of a non-JSON one. */
function xrpcError(res: HttpResponse): { error: string; message: string } {
  const json = parseJson(res);
  const body = json.ok
    ? z.object({ error: z.string(), message: z.string().optional() }).safeParse(json.value)
    : null;
  if (body?.success) return { error: body.data.error, message: body.data.message ?? '' };
  return {
    error: `HTTP ${res.status}`,
    message: res.body.toString('utf8', 0, 200).replace(/\s+/g, ' ').trim(),
  };
}

const sessionSchema = z.object({
  accessJwt: issuedToken,
  refreshJwt: issuedToken,
  did: z.string(),
});

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * An app-password session, in memory only. Tokens are wrapped in Secret so every log line and
 * stored error is redacted of them. One per config object: every partition of a run (and later
 * runs of the same config) share it, since createSession is limited to 30 per 5 minutes and 300 a
 * day per account; an expired access token is refreshed with the refresh token instead.
 */
class Session {
  #access: Secret | null = null;
  #refresh: Secret | null = null;
  constructor(private readonly config: Config) {}

  private service(ctx: CollectorContext): string {
    return (this.config.service ?? ctx.baseUrl).replace(/\/+$/, '');
  }

  private keep(body: unknown): Secret {
    const s = sessionSchema.parse(body);
    this.#access = new Secret('bluesky access token', s.accessJwt);
    this.#refresh = new Secret('bluesky refresh token', s.refreshJwt);
    return this.#access;
  }

  async access(ctx: CollectorContext, policy?: RequestOptions['policy']): Promise<Secret> {
    return this.#access ?? this.create(ctx, policy);
  }

  private async create(ctx: CollectorContext, policy?: RequestOptions['policy']): Promise<Secret> {
    const url = `${this.service(ctx)}/xrpc/com.atproto.server.createSession`;
    const res = await request(ctx, url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        identifier: this.config.identifier,
        password: this.config.appPassword.reveal(),
      }),
      accept: [400, 401],
      ...(policy ? { policy } : {}),
    });
    if (res.status !== 200) {
      const e = xrpcError(res);
      const hint =
        e.error === 'AuthFactorTokenRequired'
          ? 'the account asks for an email code: use an app password'
          : 'check identifier and appPassword (an app password, not the account password)';
      throw new SourceError(
        `Bluesky refused the login of ${this.config.identifier} at ${hostOf(url)}: ${e.error} ${e.message}; ${hint}`,
        res.status,
        url,
      );
    }
    const json = parseJson(res);
    const ok = json.ok && sessionSchema.safeParse(json.value).success;
    if (!json.ok || !ok)
      throw new SourceError(`createSession at ${hostOf(url)} answered no tokens`, 200, url);
    return this.keep(json.value);
  }

  /** A fresh access token after `rejected` was refused: refresh it, or log in again. */
  async renew(ctx: CollectorContext, rejected: Secret): Promise<Secret> {
    if (this.#access && this.#access !== rejected) return this.#access;
    const refresh = this.#refresh;
    this.#access = null;
    this.#refresh = null;
    if (refresh) {
      const url = `${this.service(ctx)}/xrpc/com.atproto.server.refreshSession`;
      const res = await request(ctx, url, {
        method: 'POST',
        headers: { authorization: `Bearer ${refresh.reveal()}`, accept: 'application/json' },
        accept: [400, 401],
      });
      const json = res.status === 200 ? parseJson(res) : null;
      if (json?.ok && sessionSchema.safeParse(json.value).success) {
        return this.keep(json.value);
      }
      ctx.logger.info({ status: res.status }, 'refresh token refused; logging in again');
    }
    return this.create(ctx);
  }
}

const sessions = new WeakMap<Config, Session>();
/** The session shared by every read of this config. */
function sessionOf(config: Config): Session {
  let s = sessions.get(config);
  if (!s) {
    s = new Session(config);
    sessions.set(config, s);
  }
  return s;
}

const TOKEN_ERRORS = new Set(['ExpiredToken', 'InvalidToken', 'AuthenticationRequired', 'AuthMissing']);

/** A GET with the session's token; an expired or refused token is renewed and the call tried once more. */
async function authedGet(
  ctx: CollectorContext,
  config: Config,
  url: string,
  policy?: RequestOptions['policy'],
): Promise<HttpResponse> {
  const session = sessionOf(config);
  let token = await session.access(ctx, policy);
  for (let attempt = 0; ; attempt++) {
    const res = await request(ctx, url, {
      headers: { authorization: `Bearer ${token.reveal()}`, accept: 'application/json' },
      accept: [400, 401],
      ...(policy ? { policy } : {}),
    });
    if (res.status === 200) return res;
    const e = xrpcError(res);
    if (attempt === 0 && (res.status === 401 || TOKEN_ERRORS.has(e.error))) {
      ctx.logger.info({ error: e.error }, 'Bluesky session token refused; renewing it');
      token = await session.renew(ctx, token);
      continue;
    }
    throw new SourceError(
      `HTTP ${res.status} from ${hostOf(url)}: ${e.error} ${e.message}`.trim(),
      res.status,
      url,
    );
  }
}

const searchUrl = (ctx: CollectorContext) => `${ctx.baseUrl}/xrpc/app.bsky.feed.searchPosts`;
/** app.bsky.feed.getPosts takes at most this many uris a call. */
const GET_POSTS_MAX = 25;
const getPostsAnswer = z.object({ posts: z.array(z.object({ uri: z.string() })) });

export const bluesky: Collector<Config, BlueskyPartition, Bookmark> = {
  id: 'bluesky',
  defaultBaseUrl: 'https://bsky.social',
  configSchema,
  bookmarkSchema,

  partitions(config, targets) {
    return [...new Set(config.queries ?? targets.keywords)].map((query) => ({ key: query, query }));
  },

  // app.bsky.feed.getPosts leaves out posts that no longer exist (deleted, or the account gone).
  async deleted(config, stored, ctx) {
    const gone: string[] = [];
    const uris = stored.map((m) => m.nativeId).filter((u) => u.startsWith('at://'));
    for (let i = 0; i < uris.length; i += GET_POSTS_MAX) {
      const chunk = uris.slice(i, i + GET_POSTS_MAX);
      const url = `${ctx.baseUrl}/xrpc/app.bsky.feed.getPosts?${chunk.map((u) => `uris=${encodeURIComponent(u)}`).join('&')}`;
      const res = await authedGet(ctx, config, url);
      const json = parseJson(res);
      const answer = getPostsAnswer.safeParse(json.ok ? json.value : null);
      if (!answer.success)
        throw new SourceError(`getPosts at ${hostOf(url)} did not answer a list of posts`, res.status, url);
      const present = new Set(answer.data.posts.map((p) => p.uri));
      gone.push(...chunk.filter((u) => !present.has(u)));
    }
    return gone;
  },

  async check(config, ctx) {
    try {
      const policy = { retries: 1, baseDelayMs: 500, maxDelayMs: 2000, rateLimitWaits: 0 };
      const url = withQuery(searchUrl(ctx), { q: config.queries?.[0] ?? 'bluesky', limit: 1 });
      const res = await authedGet(ctx, config, url, policy);
      if (!parsePage(res, pageSchema, url).ok) {
        return { ok: false, reason: `${hostOf(url)} did not answer searchPosts with posts` };
      }
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  },

  async *read(config, partition, bookmark, ctx): AsyncGenerator<Batch<Bookmark>> {
    const started = ctx.now();
    const since =
      bookmark?.since ?? new Date(started.getTime() - config.backfillDays * 86_400_000).toISOString();
    let cursor = bookmark?.run?.cursor;
    let newest = bookmark?.run?.newest;
    const position = (): Bookmark => ({
      since,
      ...(cursor !== undefined ? { run: { cursor, ...(newest !== undefined ? { newest } : {}) } } : {}),
    });
    for (;;) {
      const url = withQuery(searchUrl(ctx), {
        q: partition.query,
        sort: 'latest',
        limit: PAGE_SIZE,
        since,
        cursor,
      });
      const res = await authedGet(ctx, config, url);
      const parsed = parsePage(res, pageSchema, url);
      if (!parsed.ok) {
        yield failedBatch(parsed.quarantine, position());
        return;
      }
      const { posts, hitsTotal } = parsed.value;
      const { records, quarantine } = mapItems(
        posts,
        postSchema,
        (post, raw) => {
          const at = sortAt(post);
          if (newest === undefined || at.getTime() > Date.parse(newest)) newest = at.toISOString();
          return toRecord(post, raw);
        },
        url,
        'post',
        issuePathAndMessage(),
      );
      const next = parsed.value.cursor ?? undefined;
      const last = posts.length === 0 || next === undefined || next === cursor;
      let bookmarkAfter: Bookmark;
      if (last) {
        // Inclusive and looking back SEARCH_LAG_MS: re-seen posts only refresh their counts.
        const upTo =
          newest === undefined ? Date.parse(since) : Math.min(Date.parse(newest), started.getTime());
        const moved = new Date(Math.max(Date.parse(since), upTo - SEARCH_LAG_MS)).toISOString();
        bookmarkAfter = { since: moved };
      } else {
        cursor = next;
        bookmarkAfter = position();
      }
      yield {
        records,
        quarantine,
        bookmark: bookmarkAfter,
        ...(hitsTotal != null ? { total: hitsTotal } : {}),
      };
      if (last) return;
    }
  },
};
