import type { Logger } from 'pino';
import type { z } from 'zod';

/** Every side effect a collector may use; tests swap each one. */
export interface CollectorContext {
  /** WHATWG fetch; the only way a collector (other than X through twitter-api-v2) reaches the network. */
  fetch: typeof fetch;
  /** Current time; injected so tests control bookmarks, rate-limit resets and first-seen times. */
  now: () => Date;
  /** Waits `ms` milliseconds or rejects when `signal` aborts. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  logger: Logger;
  /** Aborts when the process is shutting down; every request must pass it on. */
  signal: AbortSignal;
  /** Origin of the source's API (the public one, or a loopback server in tests), without a trailing slash. */
  baseUrl: string;
  /** Longest a 429 may be waited out inside a run; a later reset ends the run with RateLimitedError. */
  maxRateLimitWaitMs: number;
  /** Calls made so far against shared daily quotas in this batch; the runner persists them with the batch. */
  budget: QuotaBudget;
}

/** Calls against a daily quota shared by all partitions of a provider (Naver: 25,000 a day). */
export interface QuotaBudget {
  /** Reserves one call; false when the day's quota is used up. */
  take(provider: string, day: string, limit: number): boolean;
}

/** One public mention, as the source gave it, normalised. Times are UTC instants. */
export interface MentionRecord {
  /** Stable id within the source: with `source` it is the primary key. */
  nativeId: string;
  url: string | null;
  title: string | null;
  /** Plain text (markup stripped). */
  text: string;
  /** Language as reported by the platform (BCP 47 tag), null when it does not say. */
  lang: string | null;
  /** Where within the source: subreddit, feed, instance, Naver kind, video. */
  channel: string | null;
  authorId: string | null;
  authorHandle: string | null;
  authorName: string | null;
  authorFollowers: number | null;
  createdAt: Date;
  /**
   * True when createdAt is the first-seen time: the source gives no time (Naver cafe posts), or one
   * more than an hour past the collection, which storing replaces (pipeline/ingest.ts AHEAD_MS).
   */
  createdAtEstimated: boolean;
  likes: number | null;
  reposts: number | null;
  replies: number | null;
  views: number | null;
  parentId: string | null;
  conversationId: string | null;
  /** Native id of the original when this item is a repost (retweet, boost, reblog); null otherwise. */
  repostOf: string | null;
  /** The item as received, kept for re-parsing; must be JSON-serialisable. */
  raw: unknown;
}

/** A payload (page or item) that could not be parsed: stored as received with the reason. */
export interface QuarantineItem {
  raw: string;
  error: string;
  url: string | null;
}

/**
 * An export file a collector downloaded (internal adoption sources): the runner hands it to the
 * importer of `kind` (collectors/imports), so it is parsed and stored exactly as `earshot import`
 * would, content-hash dedup and keyed replace included.
 */
export interface ExportFile {
  /** Shown in import messages and stored in imports.file_name. */
  name: string;
  /** An import kind (`earshot import --help`). */
  kind: string;
  content: Buffer;
  /** For a report asked for one day: that day (YYYY-MM-DD); its rows are daily grain. */
  reportDay?: string;
}

/**
 * What `read` yields. The runner stores `records`, `files`, `quarantine` and `bookmark` in ONE
 * transaction, so the bookmark must describe exactly the position after them.
 */
export interface Batch<B> {
  records: MentionRecord[];
  /** Export files to import with this batch; a file that cannot be imported fails the partition, writing nothing of the batch. */
  files?: ExportFile[];
  quarantine?: QuarantineItem[];
  bookmark: B;
  /** Set on the last batch of a partition that ended early on an unparseable page. */
  failed?: string;
  /** Total the source reports for the query, when it does (progress display only). */
  total?: number;
}

export type CheckResult = { ok: true } | { ok: false; reason: string };

/** A unit of collection with its own bookmark: one query, feed, tag or video. */
export interface Partition {
  /** Stable key stored in bookmarks.partition and collection_runs.partition. */
  key: string;
}

/** Search terms the user wants collected, from the topics in the database. */
export interface Targets {
  keywords: readonly string[];
}

/** A mention already stored, as a source is asked whether it still exists upstream. */
export interface StoredMention {
  nativeId: string;
  /** The mention's channel column (Mastodon: the instance host it was read from). */
  channel: string | null;
  /** The payload as collected (null once retention dropped it). */
  raw: unknown;
}

/**
 * One source. Knows its API and nothing about DuckDB. `read` is a pure function of
 * (config, partition, bookmark, ctx): given the same bookmark and responses it yields the same batches.
 */
export interface Collector<C, P extends Partition, B> {
  id: string;
  /** Public origin of the API; config `baseUrl` overrides it (proxies, loopback tests). */
  defaultBaseUrl: string;
  /** Cron schedule when the config gives none (default: every 15 minutes). */
  defaultSchedule?: string;
  /** Validates the source's config section; errors name the field. Secrets arrive resolved. */
  configSchema: z.ZodType<C>;
  bookmarkSchema: z.ZodType<B>;
  partitions(config: C, targets: Targets): P[];
  /** One cheap request proving the credentials and endpoint work. */
  check(config: C, ctx: CollectorContext): Promise<CheckResult>;
  read(config: C, partition: P, bookmark: B | undefined, ctx: CollectorContext): AsyncIterable<Batch<B>>;
  /**
   * Of these stored mentions, the native ids the platform says no longer exist (deleted upstream),
   * for sources whose terms require removing them. Only a definite answer counts: a mention it
   * cannot judge (no local id, an unknown instance) is left out, and request failures throw.
   */
  deleted?(config: C, stored: readonly StoredMention[], ctx: CollectorContext): Promise<string[]>;
}

// biome-ignore lint/suspicious/noExplicitAny: a registry holds collectors of every config/bookmark type.
export type AnyCollector = Collector<any, Partition, any>;
