import { z } from 'zod';
import { RateLimitedError, SourceError } from '../pipeline/errors.js';
import { redact, secretRef } from '../pipeline/secrets.js';
import type { Batch, Collector, CollectorContext, MentionRecord, QuarantineItem } from './contract.js';
import { type HttpResponse, parseJson, type RetryPolicy, request, withQuery } from './http.js';
import { failedBatch, parsePage } from './payload.js';
import { htmlToText } from './text.js';

/**
 * Naver Search (openapi.naver.com/v1/search/{blog,news,cafearticle}.json): Korean blogs, news and
 * cafe (community) posts, newest first with sort=date, paged by a 1-based `start` offset capped at
 * 1000. Every call counts against one daily quota of 25,000 calls per application, shared by all
 * kinds and queries and reset at midnight KST.
 */

const KINDS = ['blog', 'news', 'cafearticle'] as const;
type Kind = (typeof KINDS)[number];

/** The provider name under which calls are counted in api_budget. */
const PROVIDER = 'naver';
const MAX_DAILY_CALLS = 25_000;
/** Naver refuses start > 1000 (SE03): about 1,000 results per query are reachable at all. */
const MAX_START = 1000;
/** Links kept to recognise re-seen items; at least the most one query can ever return. */
const SEEN_LIMIT = 1000;
const UNREACHABLE = 'older items are unreachable: narrow the query or run it more often';

// Korea has kept UTC+9 without daylight saving since 1988, so a fixed offset is exact.
const KST_OFFSET_MS = 9 * 3_600_000;
const DAY_MS = 86_400_000;

/**
 * How far behind the run's start the watermark stays. Naver indexes items some time after the date
 * they carry (news by minutes, blogs by hours), so an item can appear below items already collected;
 * keeping the watermark back re-reads that window (re-seen links are skipped via `seen`) instead of
 * losing those items. Blogs keep the previous day open until 06:00 KST.
 */
const INDEXING_LAG_MS = { news: 60 * 60_000, blog: 6 * 3_600_000 } as const;

const CHECK_POLICY: RetryPolicy = { retries: 1, baseDelayMs: 500, maxDelayMs: 2000, rateLimitWaits: 0 };

const configSchema = z.strictObject({
  clientId: secretRef,
  clientSecret: secretRef,
  /** Which searches to run for every query. */
  kinds: z
    .array(z.enum(KINDS, { message: 'each kind must be one of blog, news, cafearticle' }))
    .min(1, 'list at least one of blog, news, cafearticle')
    .default([...KINDS]),
  /** Search terms; default: every topic keyword. */
  queries: z.array(z.string().trim().min(1)).optional(),
  /** Calls this pipeline may make per day (KST) across every kind and query. */
  dailyBudget: z
    .number()
    .int()
    .min(1)
    .max(MAX_DAILY_CALLS, 'Naver allows at most 25,000 search calls a day per application')
    .default(MAX_DAILY_CALLS),
  /** Items per call; fewer calls per item at 100. */
  display: z.number().int().min(1).max(100, 'Naver returns at most 100 items per call').default(100),
});
type Config = z.infer<typeof configSchema>;

interface NaverPartition {
  key: string;
  kind: Kind;
  query: string;
}

/**
 * `watermark`: (blog, news) the newest item date stored by a finished run, held back to the run's
 * start minus the indexing lag; runs stop at the first page reaching older items, and items of the
 * watermark instant itself are read again (blog dates are whole days). Cafe posts have no date.
 * `seen`: links of the most recent stored items, newest first; re-seen ones are not emitted again,
 * and a cafe run stops at a page made only of them. `run`: where an unfinished run was (`start` for
 * the next call, `fresh` = how many leading `seen` entries it added), to resume it.
 */
const isoInstant = z.iso.datetime({ offset: true });
const bookmarkSchema = z.object({
  watermark: isoInstant.optional(),
  seen: z.array(z.string()).default([]),
  run: z
    .object({
      start: z.number().int().min(1).max(MAX_START),
      newest: isoInstant.optional(),
      startedAt: isoInstant,
      fresh: z.number().int().min(0).default(0),
    })
    .optional(),
});
type Bookmark = z.infer<typeof bookmarkSchema>;

const pageSchema = z.object({
  lastBuildDate: z.string().optional(),
  total: z.number().int().min(0),
  start: z.number().int().optional(),
  display: z.number().int().optional(),
  items: z.array(z.unknown()),
});

/** Collected links end up in the dashboard as hrefs: only http(s). */
const webLink = z
  .string()
  .trim()
  .regex(/^https?:\/\/[^\s]+$/i, 'not an http(s) link');
const markup = z.string().default('');

const blogItemSchema = z.object({
  title: z.string(),
  link: webLink,
  description: markup,
  bloggername: z.string().default(''),
  bloggerlink: z.string().default(''),
  postdate: z.string().regex(/^\d{8}$/, 'postdate is not yyyymmdd'),
});
const newsItemSchema = z.object({
  title: z.string(),
  originallink: z.string().default(''),
  link: webLink,
  description: markup,
  pubDate: z.string(),
});
const cafeItemSchema = z.object({
  title: z.string(),
  link: webLink,
  description: markup,
  cafename: z.string().default(''),
  cafeurl: z.string().default(''),
});

/** The quota day of an instant: Naver resets the daily count at 00:00 KST. */
export function kstDay(at: Date): string {
  return new Date(at.getTime() + KST_OFFSET_MS).toISOString().slice(0, 10);
}

/** 00:00 KST of the day `ms` falls on, as epoch ms. */
function kstDayStart(ms: number): number {
  return Math.floor((ms + KST_OFFSET_MS) / DAY_MS) * DAY_MS - KST_OFFSET_MS;
}

/** When the quota of the day `at` falls on is renewed. */
export function nextKstMidnight(at: Date): Date {
  return new Date(kstDayStart(at.getTime()) + DAY_MS);
}

/** A blog postdate (yyyymmdd, a KST calendar day) as the epoch ms of its 00:00 KST; null if no such day. */
export function parsePostdate(postdate: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(postdate);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const utc = Date.UTC(y, mo - 1, d);
  const check = new Date(utc);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return null;
  return utc - KST_OFFSET_MS;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const ZONES: Record<string, number> = { GMT: 0, UT: 0, UTC: 0, Z: 0, KST: 9 * 60 };

/**
 * RFC 822 / 2822 dates as Naver writes them ("Sat, 21 Nov 2026 10:32:00 +0900"), parsed by hand:
 * Date.parse of this form is engine-specific. A missing zone means KST, the only one Naver uses.
 */
export function parseRfc822(value: string): Date | null {
  const m =
    /^\s*(?:[A-Za-z]{3},?\s+)?(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{2}|\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{4}|[A-Za-z]{1,5})?\s*$/.exec(
      value,
    );
  if (!m) return null;
  const month = MONTHS.indexOf(String(m[2]).toLowerCase());
  if (month < 0) return null;
  let year = Number(m[3]);
  if (year < 100) year += year < 50 ? 2000 : 1900;
  const [day, hour, minute, second] = [Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  const zone = m[7];
  let offsetMin: number;
  if (zone === undefined) offsetMin = ZONES.KST as number;
  else if (/^[+-]\d{4}$/.test(zone)) {
    const sign = zone.startsWith('-') ? -1 : 1;
    offsetMin = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
  } else {
    const known = ZONES[zone.toUpperCase()];
    if (known === undefined) return null;
    offsetMin = known;
  }
  const utc = Date.UTC(year, month, day, hour, minute, second) - offsetMin * 60_000;
  const date = new Date(utc);
  // Date.UTC rolls 31 Feb into March: refuse dates that do not exist.
  if (new Date(Date.UTC(year, month, day)).getUTCDate() !== day) return null;
  return Number.isNaN(date.getTime()) ? null : date;
}

/** A link without its scheme or trailing slash: Naver has sent blog links both with and without "https://". */
function bareLink(link: string): string {
  return link
    .trim()
    .replace(/^https?:\/\//i, '')
    .replace(/\/+$/, '');
}

/** The blog or cafe id in blog.naver.com/<id> or cafe.naver.com/<id>; else the bare link. */
function naverHandle(link: string): string | null {
  const bare = bareLink(link);
  if (!bare) return null;
  const m = /^(?:m\.)?(?:blog|cafe)\.naver\.com\/([^/?#]+)$/i.exec(bare);
  return m?.[1] ?? bare;
}

/**
 * The publisher's host, from the article's own link. Items hosted only on Naver News
 * (n.news.naver.com) do not name their publisher in a readable form, so they have no author.
 */
function publisherHost(originallink: string, link: string): string | null {
  for (const candidate of [originallink, link]) {
    try {
      const host = new URL(candidate).hostname.toLowerCase().replace(/^www\./, '');
      if (host && !/(^|\.)naver\.com$/.test(host)) return host;
    } catch {
      // not a URL: try the next one
    }
  }
  return null;
}

function isWebLink(value: string): boolean {
  return webLink.safeParse(value).success;
}

/** Title and description as plain text; the title leads the text so matching and sentiment see it. */
function textOf(title: string, description: string): string {
  return [title, htmlToText(description)].filter(Boolean).join('\n');
}

const emptyRecord = {
  // Naver does not report a language, and Korean queries also find English and mixed-language posts.
  lang: null,
  authorFollowers: null,
  likes: null,
  reposts: null,
  replies: null,
  views: null,
  parentId: null,
  conversationId: null,
  repostOf: null,
} as const;

type Parsed =
  | { ok: true; link: string; record: MentionRecord; at: number | null }
  | { ok: false; error: string };

/**
 * One item as a record. `at` is the date that orders results (blog: 00:00 KST of its postdate; news:
 * pubDate; cafe: none). `seenAt` is the time the page arrived, the first-seen time.
 */
function parseItem(kind: Kind, raw: unknown, seenAt: Date): Parsed {
  switch (kind) {
    case 'blog': {
      const r = blogItemSchema.safeParse(raw);
      if (!r.success) return { ok: false, error: `bad blog item: ${issue(r.error)}` };
      const item = r.data;
      const day = parsePostdate(item.postdate);
      if (day === null) return { ok: false, error: `bad blog item: no such day ${item.postdate}` };
      const author = bareLink(item.bloggerlink) || null;
      // A postdate is a day without a time. A post found on its own KST day gets the time it was
      // first seen (a scheduled run finds it within minutes), so hourly volume and spikes see blogs
      // when they happen; one found later (backfill, late indexing) gets 00:00 KST of its day,
      // which keeps it on the right day in KST charts and never after the real time.
      const createdAt = kstDayStart(seenAt.getTime()) === day ? seenAt : new Date(day);
      return parsedItem(item, raw, day, {
        url: item.link,
        channel: 'blog',
        authorId: author,
        authorHandle: author ? naverHandle(item.bloggerlink) : null,
        authorName: item.bloggername.trim() || null,
        createdAt,
        createdAtEstimated: true,
      });
    }
    case 'news': {
      const r = newsItemSchema.safeParse(raw);
      if (!r.success) return { ok: false, error: `bad news item: ${issue(r.error)}` };
      const item = r.data;
      const published = parseRfc822(item.pubDate);
      if (!published) return { ok: false, error: `bad news item: unreadable pubDate ${item.pubDate}` };
      const original = item.originallink.trim();
      const host = publisherHost(original, item.link);
      return parsedItem(item, raw, published.getTime(), {
        // The publisher's own page when Naver gives it; n.news.naver.com copies otherwise.
        url: original && isWebLink(original) ? original : item.link,
        channel: 'news',
        authorId: host,
        authorHandle: host,
        authorName: null,
        createdAt: published,
        createdAtEstimated: false,
      });
    }
    case 'cafearticle': {
      const r = cafeItemSchema.safeParse(raw);
      if (!r.success) return { ok: false, error: `bad cafe item: ${issue(r.error)}` };
      const item = r.data;
      const cafe = bareLink(item.cafeurl) || null;
      return parsedItem(item, raw, null, {
        url: item.link,
        channel: 'cafearticle',
        // Cafe results name the community, never the member who wrote the post.
        authorId: cafe,
        authorHandle: cafe ? naverHandle(item.cafeurl) : null,
        authorName: item.cafename.trim() || null,
        // No date at all: the first-seen time. The runner keeps the first stored created_at.
        createdAt: seenAt,
        createdAtEstimated: true,
      });
    }
  }
}

/** A valid item of any kind: the link is its id, the title leads the text; `fields` are what the kind decides. */
function parsedItem(
  item: { link: string; title: string; description: string },
  raw: unknown,
  at: number | null,
  fields: Pick<
    MentionRecord,
    'url' | 'channel' | 'authorId' | 'authorHandle' | 'authorName' | 'createdAt' | 'createdAtEstimated'
  >,
): Parsed {
  const title = htmlToText(item.title);
  return {
    ok: true,
    link: item.link,
    at,
    record: {
      ...emptyRecord,
      nativeId: item.link,
      title: title || null,
      text: textOf(title, item.description),
      ...fields,
      raw,
    },
  };
}

function issue(error: z.ZodError): string {
  const first = error.issues[0];
  return first ? `${first.path.join('.') || 'item'}: ${first.message}` : 'invalid';
}

/** The daily budget ran out before a call: thrown from inside fetch, so request() passes it through. */
class BudgetSpent extends SourceError {
  override name = 'BudgetSpent';
  constructor(
    readonly resumeAt: Date,
    url: string,
  ) {
    super('daily Naver call budget used up', null, url);
  }
}

/** ctx whose fetch reserves one call of the day's budget before every request it sends, retries included. */
function budgeted(config: Config, ctx: CollectorContext): CollectorContext {
  const fetchWithBudget: typeof fetch = async (input, init) => {
    const now = ctx.now();
    if (!ctx.budget.take(PROVIDER, kstDay(now), config.dailyBudget)) {
      throw new BudgetSpent(nextKstMidnight(now), String(input));
    }
    return ctx.fetch(input, init);
  };
  return { ...ctx, fetch: fetchWithBudget };
}

function errorCodeOf(res: HttpResponse): string | null {
  const json = parseJson(res);
  if (!json.ok || typeof json.value !== 'object' || json.value === null) return null;
  const code = (json.value as { errorCode?: unknown }).errorCode;
  return typeof code === 'string' || typeof code === 'number' ? String(code) : null;
}

/** One search call with the credentials, the shared budget and Naver's own error answers. */
async function search(
  config: Config,
  ctx: CollectorContext,
  kind: Kind,
  params: { query: string; display: number; start: number },
  policy?: RetryPolicy,
): Promise<{ res: HttpResponse; url: string }> {
  const url = withQuery(`${ctx.baseUrl}/v1/search/${kind}.json`, { ...params, sort: 'date' });
  let quotaSpent = false;
  let res: HttpResponse;
  try {
    res = await request(budgeted(config, ctx), url, {
      headers: {
        'X-Naver-Client-Id': config.clientId.reveal(),
        'X-Naver-Client-Secret': config.clientSecret.reveal(),
      },
      accept: [401],
      // Quota exhausted (010) gives no reset time; it is renewed at 00:00 KST.
      rateLimitResetAt: (r, now) => {
        if (errorCodeOf(r) !== '010') return null;
        quotaSpent = true;
        return nextKstMidnight(now);
      },
      ...(policy ? { policy } : {}),
    });
  } catch (err) {
    if (err instanceof BudgetSpent) {
      throw new RateLimitedError(
        `the Naver budget of ${config.dailyBudget} calls for today (KST) is used up (sources.naver.dailyBudget); ` +
          `collection resumes at ${err.resumeAt.toISOString()} (00:00 KST)`,
        err.resumeAt,
      );
    }
    if (err instanceof RateLimitedError && quotaSpent) {
      throw new RateLimitedError(
        `Naver's daily search quota for this application is used up (HTTP 429, errorCode 010; other programs ` +
          `using the same client id count too); collection resumes at ${err.resumeAt.toISOString()} (00:00 KST)`,
        err.resumeAt,
      );
    }
    throw err;
  }
  if (res.status === 401) {
    const code = errorCodeOf(res);
    throw new SourceError(
      `Naver refused the client id/secret (HTTP 401${code ? `, errorCode ${code}` : ''}). Check that the ` +
        `secrets ${config.clientId.name} and ${config.clientSecret.name} ` +
        '(sources.naver.clientId / clientSecret) hold the Client ID and Client Secret shown under ' +
        'My Applications at https://developers.naver.com/apps, and that the Search API (검색) is added ' +
        "in that application's API settings",
      401,
      url,
    );
  }
  return { res, url };
}

function lagCap(kind: 'blog' | 'news', startedAt: number): number {
  const held = startedAt - INDEXING_LAG_MS[kind];
  return kind === 'blog' ? kstDayStart(held) : held;
}

const iso = (ms: number) => new Date(ms).toISOString();

export const naver: Collector<Config, NaverPartition, Bookmark> = {
  id: 'naver',
  defaultBaseUrl: 'https://openapi.naver.com',
  configSchema,
  bookmarkSchema,

  partitions(config, targets) {
    const queries = [...new Set(config.queries ?? targets.keywords)];
    const kinds = [...new Set(config.kinds)];
    return queries.flatMap((query) => kinds.map((kind) => ({ key: `${kind}:${query}`, kind, query })));
  },

  async check(config, ctx) {
    try {
      const { res, url } = await search(
        config,
        ctx,
        config.kinds[0] ?? 'news',
        { query: config.queries?.[0] ?? '네이버', display: 1, start: 1 },
        CHECK_POLICY,
      );
      if (!parsePage(res, pageSchema, url).ok)
        return { ok: false, reason: 'Naver answered with something that is not a search result' };
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: redact((err as Error).message) };
    }
  },

  async *read(config, partition, bookmark, ctx): AsyncGenerator<Batch<Bookmark>> {
    const { kind, query } = partition;
    const dated = kind !== 'cafearticle';
    const watermark = bookmark?.watermark !== undefined ? Date.parse(bookmark.watermark) : undefined;
    const startedAt = bookmark?.run?.startedAt ?? ctx.now().toISOString();
    let start = bookmark?.run?.start ?? 1;
    let newest = bookmark?.run?.newest !== undefined ? Date.parse(bookmark.run.newest) : watermark;
    let seen = bookmark?.seen ?? [];
    let fresh = Math.min(bookmark?.run?.fresh ?? 0, seen.length);
    const seenSet = new Set(seen);
    const firstRun = watermark === undefined && seen.length === 0;

    const kept = watermark !== undefined ? { watermark: iso(watermark) } : {};
    const position = (): Bookmark => ({
      ...kept,
      seen,
      run: { start, ...(newest !== undefined ? { newest: iso(newest) } : {}), startedAt, fresh },
    });
    const finished = (): Bookmark => {
      if (!dated || newest === undefined) return { ...(dated ? kept : {}), seen };
      return { watermark: iso(Math.min(newest, lagCap(kind, Date.parse(startedAt)))), seen };
    };

    for (;;) {
      const { res, url } = await search(config, ctx, kind, { query, display: config.display, start });
      const seenAt = ctx.now();
      const parsed = parsePage(res, pageSchema, url, { issue });
      if (!parsed.ok) {
        yield failedBatch(parsed.quarantine, position());
        return;
      }
      const { items, total } = parsed.value;

      const records: MentionRecord[] = [];
      const quarantine: QuarantineItem[] = [];
      const added: string[] = [];
      let valid = 0;
      let reachedOld = false;
      let allSeen = true;
      for (const raw of items) {
        const item = parseItem(kind, raw, seenAt);
        if (!item.ok) {
          quarantine.push({ raw: JSON.stringify(raw), error: item.error, url });
          continue;
        }
        valid++;
        if (item.at !== null && watermark !== undefined && item.at < watermark) {
          reachedOld = true;
          continue;
        }
        if (item.at !== null) newest = Math.max(newest ?? item.at, item.at);
        if (seenSet.has(item.link)) continue;
        allSeen = false;
        seenSet.add(item.link);
        added.push(item.link);
        records.push(item.record);
      }

      const next = start + config.display;
      // `total` is an estimate on busy queries: only a short page proves the end.
      const exhausted = items.length < config.display;
      // Dated kinds are newest first, so an older item means the rest is known. Cafe results carry no
      // date: a page made only of links already stored means the rest is known.
      const caughtUp = dated ? reachedOld : valid > 0 && allSeen;
      let last = exhausted || caughtUp;
      if (!last && next > MAX_START) {
        ctx.logger.warn({ kind, query, start, display: config.display, total, firstRun }, UNREACHABLE);
        last = true;
      }

      // This run's links go after the ones it added earlier (they are newer) and before older runs'.
      seen = [...seen.slice(0, fresh), ...added, ...seen.slice(fresh)].slice(0, SEEN_LIMIT);
      fresh = Math.min(fresh + added.length, seen.length);
      if (!last) start = next;
      yield {
        records,
        quarantine,
        bookmark: last ? finished() : position(),
        total,
      };
      if (last) return;
    }
  },
};
