import { z } from 'zod';
import { SourceError } from '../pipeline/errors.js';
import { secretRef } from '../pipeline/secrets.js';
import type { Batch, Collector, CollectorContext, MentionRecord, QuarantineItem } from './contract.js';
import { type HttpResponse, parseJson, request, withQuery } from './http.js';
import { failedBatch, issuePathAndMessage, mapItems, parsePage } from './payload.js';
import { htmlToText } from './text.js';

/**
 * Mastodon hashtag timelines (GET /api/v1/timelines/tag/:tag), one partition per instance and tag.
 * Anonymous by default; a token is only needed on instances that close their public timelines.
 */
const configSchema = z.strictObject({
  /**
   * Instance origins. Without it the one instance is the source's baseUrl (default
   * https://mastodon.social), so a proxy or a test server can stand in for it.
   */
  instances: z
    .array(z.url({ message: 'must be an instance origin like "https://mastodon.social"' }))
    .min(1)
    .optional(),
  /**
   * Hashtags without '#'. Default: every topic keyword lowercased with everything that cannot be
   * part of a hashtag (spaces, '#', punctuation) removed: "Acme Corp" follows #acmecorp.
   */
  tags: z
    .array(
      z
        .string()
        .trim()
        .transform((t) => t.replace(/^#+/, ''))
        .pipe(z.string().min(1)),
    )
    .min(1)
    .optional(),
  /** Access token, sent as a Bearer header; instances may require one for their public timelines. */
  token: secretRef.optional(),
  /** Pages of 40 walked back on the very first run of a partition (later runs page forward). */
  backfillPages: z.number().int().min(1).max(1000).default(5),
});
type Config = z.infer<typeof configSchema>;

interface MastodonPartition {
  key: string;
  /** Origin to query; null means ctx.baseUrl. */
  instance: string | null;
  tag: string;
}

const statusId = z.string().regex(/^\d+$/, 'status ids are numeric strings');

/**
 * `minId`: the newest status id stored by a finished run; later runs page FORWARD from it with
 * min_id (oldest page first), so each page's newest id is a safe bookmark on its own.
 * `run`: the position of an unfinished first run, which walks back from the newest page with
 * max_id; `minId` is only set when it ends, since the newest page comes first.
 */
const bookmarkSchema = z.object({
  minId: statusId.optional(),
  run: z
    .object({
      maxId: statusId.optional(),
      newest: statusId.optional(),
      pages: z.number().int().min(0),
    })
    .optional(),
});
type Bookmark = z.infer<typeof bookmarkSchema>;

const accountSchema = z.object({
  acct: z.string().min(1),
  url: z.string().nullish(),
  display_name: z.string().nullish(),
  followers_count: z.number().nullish(),
});

const baseStatusSchema = z.object({
  id: statusId,
  uri: z.string().min(1),
  url: z.string().nullish(),
  created_at: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'created_at is not a date'),
  content: z.string().default(''),
  spoiler_text: z.string().nullish(),
  language: z.string().nullish(),
  in_reply_to_id: z.string().nullish(),
  replies_count: z.number().nullish(),
  reblogs_count: z.number().nullish(),
  favourites_count: z.number().nullish(),
  account: accountSchema,
});
const statusSchema = baseStatusSchema.extend({ reblog: baseStatusSchema.nullish() });
type Status = z.infer<typeof statusSchema>;

const PAGE_SIZE = 40;

/** Lowercase, and only what a hashtag can hold: letters, marks, digits, '_' and the middle dot. */
function toTag(keyword: string): string {
  return keyword
    .normalize('NFC')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}_·]/gu, '');
}

function hostOf(origin: string): string {
  try {
    return new URL(origin).host;
  } catch {
    return origin;
  }
}

/** The max_id / min_id carried by the Link header's rel="next" / rel="prev" URLs. */
export function linkParams(header: string | null): { next?: string; prev?: string } {
  const out: { next?: string; prev?: string } = {};
  if (!header) return out;
  for (const m of header.matchAll(/<([^>]*)>\s*;\s*rel="?([^",;]+)"?/g)) {
    const [, href = '', rel = ''] = m;
    let params: URLSearchParams;
    try {
      params = new URL(href, 'http://link.invalid').searchParams;
    } catch {
      continue;
    }
    const next = params.get('max_id');
    const prev = params.get('min_id') ?? params.get('since_id');
    if (rel === 'next' && next && /^\d+$/.test(next)) out.next = next;
    if (rel === 'prev' && prev && /^\d+$/.test(prev)) out.prev = prev;
  }
  return out;
}

const big = (id: string): bigint => BigInt(id);
const maxId = (a: string | undefined, b: string | undefined): string | undefined =>
  a === undefined ? b : b === undefined ? a : big(a) >= big(b) ? a : b;
const minId = (a: string | undefined, b: string | undefined): string | undefined =>
  a === undefined ? b : b === undefined ? a : big(a) <= big(b) ? a : b;

/** `acct` is bare for the instance's own accounts: qualify it with the account's home host. */
function qualifiedHandle(account: Status['account'], instanceHost: string): string {
  if (account.acct.includes('@')) return account.acct;
  let host = instanceHost;
  if (account.url) {
    try {
      host = new URL(account.url).host;
    } catch {
      // keep the instance host
    }
  }
  return `${account.acct}@${host}`;
}

function statusText(s: z.infer<typeof baseStatusSchema>): string {
  const body = htmlToText(s.content);
  const spoiler = s.spoiler_text?.trim();
  return spoiler ? `${spoiler}\n${body}` : body;
}

function toRecord(status: Status, raw: unknown, instanceHost: string): MentionRecord {
  // A boost carries the original's words; the booster is the author and the boost its own mention.
  const shown = status.reblog ?? status;
  return {
    nativeId: status.uri,
    url: status.url ?? status.reblog?.url ?? null,
    title: null,
    text: statusText(shown),
    lang: shown.language ?? null,
    channel: instanceHost,
    authorId: status.account.url ?? null,
    authorHandle: qualifiedHandle(status.account, instanceHost),
    authorName: status.account.display_name || null,
    authorFollowers: status.account.followers_count ?? null,
    createdAt: new Date(status.created_at),
    createdAtEstimated: false,
    likes: status.favourites_count ?? null,
    reposts: status.reblogs_count ?? null,
    replies: status.replies_count ?? null,
    views: null,
    parentId: status.reblog ? null : (status.in_reply_to_id ?? null),
    conversationId: null,
    repostOf: status.reblog?.uri ?? null,
    raw,
  };
}

interface ParsedPage {
  records: MentionRecord[];
  quarantine: QuarantineItem[];
  /** Highest and lowest ids on the page, bad items included: paging must step over them too. */
  newest?: string | undefined;
  oldest?: string | undefined;
  count: number;
}

/** A timeline page: its statuses as records, the bad ones quarantined, or why the page itself is unusable. */
function readPage(
  res: HttpResponse,
  url: string,
  instanceHost: string,
): { ok: true; page: ParsedPage } | { ok: false; quarantine: QuarantineItem } {
  const list = parsePage(res, z.array(z.unknown()), url, { issue: () => 'expected an array of statuses' });
  if (!list.ok) return list;
  const page: ParsedPage = {
    ...mapItems(
      list.value,
      statusSchema,
      (status, raw) => toRecord(status, raw, instanceHost),
      url,
      'status',
      issuePathAndMessage(),
    ),
    count: list.value.length,
  };
  for (const raw of list.value) {
    const id = statusId.safeParse((raw as { id?: unknown } | null)?.id);
    if (id.success) {
      page.newest = maxId(page.newest, id.data);
      page.oldest = minId(page.oldest, id.data);
    }
  }
  return { ok: true, page };
}

function authHeaders(config: Config): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (config.token) headers.authorization = `Bearer ${config.token.reveal()}`;
  return headers;
}

const REFUSED = [401, 403, 422];

/** Instances that close their timelines to anonymous readers answer 401/422: say what to do. */
function refusal(res: HttpResponse, config: Config, origin: string): SourceError {
  const excerpt = res.body.toString('utf8', 0, Math.min(res.body.length, 200)).replace(/\s+/g, ' ');
  const hint = config.token
    ? 'the token was refused; check it is valid for this instance'
    : 'this instance does not show tag timelines anonymously; set `token` (a read-scoped access token)';
  return new SourceError(
    `HTTP ${res.status} from ${hostOf(origin)}: ${hint} (${excerpt})`,
    res.status,
    res.url,
  );
}

async function fetchPage(
  ctx: CollectorContext,
  config: Config,
  origin: string,
  url: string,
): Promise<HttpResponse> {
  const res = await request(ctx, url, { headers: authHeaders(config), accept: REFUSED });
  if (REFUSED.includes(res.status)) throw refusal(res, config, origin);
  return res;
}

const timelineUrl = (origin: string, tag: string) =>
  `${origin}/api/v1/timelines/tag/${encodeURIComponent(tag)}`;

export const mastodon: Collector<Config, MastodonPartition, Bookmark> = {
  id: 'mastodon',
  defaultBaseUrl: 'https://mastodon.social',
  configSchema,
  bookmarkSchema,

  partitions(config, targets) {
    const tags = [...new Set((config.tags ?? targets.keywords.map(toTag)).filter(Boolean))];
    const instances = config.instances?.map((i) => i.replace(/\/+$/, '')) ?? [null];
    return instances.flatMap((instance) =>
      tags.map((tag) => ({
        key: `${hostOf(instance ?? mastodon.defaultBaseUrl)}#${tag}`,
        instance,
        tag,
      })),
    );
  },

  async check(config, ctx) {
    const origins = config.instances?.map((i) => i.replace(/\/+$/, '')) ?? [ctx.baseUrl];
    const tag = config.tags?.[0] ?? 'mastodon';
    for (const origin of origins) {
      try {
        const res = await request(ctx, withQuery(timelineUrl(origin, tag), { limit: 1 }), {
          headers: authHeaders(config),
          accept: REFUSED,
          policy: { retries: 1, baseDelayMs: 500, maxDelayMs: 2000, rateLimitWaits: 0 },
        });
        if (REFUSED.includes(res.status)) return { ok: false, reason: refusal(res, config, origin).message };
        const json = parseJson(res);
        if (!json.ok || !Array.isArray(json.value)) {
          return { ok: false, reason: `${hostOf(origin)} did not answer with a list of statuses` };
        }
      } catch (err) {
        return { ok: false, reason: (err as Error).message };
      }
    }
    return { ok: true };
  },

  // GET /api/v1/statuses/:id with the instance's own id (raw.id): 404 means deleted (or no longer
  // visible to us, which the terms treat the same way).
  async deleted(config, stored, ctx) {
    const origins = new Map(
      (config.instances?.map((i) => i.replace(/\/+$/, '')) ?? [ctx.baseUrl]).map((o) => [hostOf(o), o]),
    );
    const gone: string[] = [];
    for (const m of stored) {
      const origin = m.channel === null ? undefined : origins.get(m.channel);
      const id = statusId.safeParse((m.raw as { id?: unknown } | null)?.id);
      if (origin === undefined || !id.success) continue;
      const url = `${origin}/api/v1/statuses/${id.data}`;
      const res = await request(ctx, url, { headers: authHeaders(config), accept: [404, 410, ...REFUSED] });
      if (REFUSED.includes(res.status)) throw refusal(res, config, origin);
      if (res.status !== 404 && res.status !== 410) continue;
      // Only Mastodon's own answer ({"error": ...}) counts: a proxy's or a wrong host's 404 page
      // must not purge everything stored.
      const body = parseJson(res);
      if (!body.ok || typeof (body.value as { error?: unknown } | null)?.error !== 'string')
        throw new SourceError(
          `HTTP ${res.status} from ${hostOf(origin)} without Mastodon's error body`,
          res.status,
          url,
        );
      gone.push(m.nativeId);
    }
    return gone;
  },

  async *read(config, partition, bookmark, ctx): AsyncGenerator<Batch<Bookmark>> {
    const origin = partition.instance ?? ctx.baseUrl;
    const host = hostOf(origin);
    const base = timelineUrl(origin, partition.tag);

    if (bookmark?.minId !== undefined && bookmark.run === undefined) {
      // Forward: min_id answers the statuses just above it, oldest page first.
      let since = bookmark.minId;
      for (;;) {
        const url = withQuery(base, { limit: PAGE_SIZE, min_id: since });
        const res = await fetchPage(ctx, config, origin, url);
        const parsed = readPage(res, url, host);
        if (!parsed.ok) {
          yield failedBatch(parsed.quarantine, { minId: since });
          return;
        }
        const { page } = parsed;
        if (page.count === 0) return;
        const next = maxId(page.newest, linkParams(res.headers.get('link')).prev);
        if (next === undefined || big(next) <= big(since)) {
          const error = `page after min_id=${since} did not move forward; stopping to avoid a loop`;
          yield {
            records: page.records,
            quarantine: page.quarantine,
            bookmark: { minId: since },
            failed: error,
          };
          return;
        }
        yield { records: page.records, quarantine: page.quarantine, bookmark: { minId: next } };
        since = next;
      }
    }

    // First run: newest page first, then older pages with max_id, up to backfillPages.
    const run = bookmark?.run ?? { pages: 0 };
    let { maxId: before, newest, pages } = run;
    const position = (): Bookmark => ({
      run: {
        ...(before !== undefined ? { maxId: before } : {}),
        ...(newest !== undefined ? { newest } : {}),
        pages,
      },
    });
    for (;;) {
      const url = withQuery(base, { limit: PAGE_SIZE, max_id: before });
      const res = await fetchPage(ctx, config, origin, url);
      const parsed = readPage(res, url, host);
      if (!parsed.ok) {
        yield failedBatch(parsed.quarantine, position());
        return;
      }
      const { page } = parsed;
      newest = maxId(newest, page.newest);
      pages++;
      const older = minId(page.oldest, linkParams(res.headers.get('link')).next);
      const last =
        page.count === 0 ||
        pages >= config.backfillPages ||
        older === undefined ||
        (before !== undefined && big(older) >= big(before));
      if (!last) before = older;
      yield {
        records: page.records,
        quarantine: page.quarantine,
        bookmark: last ? (newest !== undefined ? { minId: newest } : {}) : position(),
      };
      if (last) return;
    }
  },
};
