import iconv from 'iconv-lite';
import { RateLimitedError, SourceError } from '../pipeline/errors.js';
import { redact } from '../pipeline/secrets.js';
import type { CollectorContext } from './contract.js';

/**
 * A failure worth trying again: 5xx, timeouts, resets (resetAt null), or a 429 (`rateLimited`),
 * with the wait the source asked for when it said.
 */
export class RetryableError extends Error {
  override name = 'RetryableError';
  constructor(
    message: string,
    readonly status: number | null,
    readonly url: string,
    readonly rateLimited: boolean,
    /** When the source said to come back (Retry-After, x-rate-limit-reset), or null. */
    readonly retryAt: Date | null,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface RetryPolicy {
  /** Tries after the first for 5xx, timeouts and resets. */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** 429s waited out inside one call before giving up with RateLimitedError. */
  rateLimitWaits: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  retries: 5,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  rateLimitWaits: 3,
};

/** Wait when a 429 gives no reset time at all. */
const UNKNOWN_RESET_MS = 60_000;

/**
 * Runs `attempt` until it succeeds: bounded exponential backoff with jitter for transient failures
 * (honouring the source's Retry-After), waiting out 429s until the reset the source gives when that
 * is within ctx.maxRateLimitWaitMs, else RateLimitedError so the partition resumes after the reset.
 */
export async function withRetries<T>(
  ctx: CollectorContext,
  attempt: (signal: AbortSignal) => Promise<T>,
  policy: RetryPolicy = defaultRetryPolicy,
): Promise<T> {
  let failures = 0;
  let rateWaits = 0;
  for (;;) {
    ctx.signal.throwIfAborted();
    try {
      return await attempt(ctx.signal);
    } catch (err) {
      if (!(err instanceof RetryableError) || ctx.signal.aborted) throw err;
      const now = ctx.now().getTime();
      if (err.rateLimited) {
        const resumeAt = err.retryAt ?? new Date(now + UNKNOWN_RESET_MS);
        const waitMs = Math.max(0, resumeAt.getTime() - now) + 1000;
        if (rateWaits >= policy.rateLimitWaits || waitMs > ctx.maxRateLimitWaitMs) {
          throw new RateLimitedError(
            `rate limited by ${hostOf(err.url)} until ${resumeAt.toISOString()}`,
            resumeAt,
          );
        }
        rateWaits++;
        ctx.logger.warn(
          { url: redact(err.url), until: resumeAt.toISOString() },
          'rate limited; waiting for the reset',
        );
        await ctx.sleep(waitMs, ctx.signal);
        continue;
      }
      if (failures >= policy.retries) {
        throw new SourceError(`${err.message} (gave up after ${failures + 1} tries)`, err.status, err.url, {
          cause: err,
        });
      }
      const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** failures);
      const jittered = backoff / 2 + Math.random() * (backoff / 2);
      const asked = err.retryAt ? err.retryAt.getTime() - now : 0;
      const delay = Math.min(policy.maxDelayMs * 5, Math.max(jittered, asked));
      failures++;
      ctx.logger.warn({ url: redact(err.url), status: err.status, delayMs: Math.round(delay) }, err.message);
      await ctx.sleep(delay, ctx.signal);
    }
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * Retry-After as seconds or an HTTP date; the reset headers of X (x-rate-limit-reset), Mastodon and
 * Reddit (x-ratelimit-reset) and Bluesky (ratelimit-reset) as epoch seconds, seconds from now, or ISO.
 */
export function retryAtFromHeaders(headers: Headers, now: Date): Date | null {
  const retryAfter = headers.get('retry-after');
  if (retryAfter) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return new Date(now.getTime() + seconds * 1000);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return new Date(date);
  }
  const reset =
    headers.get('x-rate-limit-reset') ?? headers.get('x-ratelimit-reset') ?? headers.get('ratelimit-reset');
  if (reset) {
    const n = Number(reset);
    if (Number.isFinite(n)) {
      // Epoch seconds (X, Reddit uses seconds-until: small numbers).
      return n > 1e9 ? new Date(n * 1000) : new Date(now.getTime() + n * 1000);
    }
    const date = Date.parse(reset);
    if (!Number.isNaN(date)) return new Date(date);
  }
  return null;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** The URL after redirects. */
  url: string;
  body: Buffer;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Per attempt. */
  timeoutMs?: number;
  /** Larger bodies are refused: collected pages are attacker-controlled. */
  maxBytes?: number;
  /** 'manual' returns a redirect as it is (list its status in `accept`), for a Location that must not get our headers. */
  redirect?: 'follow' | 'manual';
  /** Statuses returned as they are instead of thrown (e.g. 304, or 401 for a clear message). */
  accept?: readonly number[];
  /** A 429's reset time when the source gives it some other way than headers (Naver: midnight KST). */
  rateLimitResetAt?: (res: HttpResponse, now: Date) => Date | null;
  policy?: RetryPolicy;
}

async function readCapped(res: Response, maxBytes: number, url: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel();
    throw new SourceError(
      `response of ${declared} bytes is larger than the ${maxBytes}-byte limit`,
      res.status,
      url,
    );
  }
  if (!res.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      throw new SourceError(`response is larger than the ${maxBytes}-byte limit`, res.status, url);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/**
 * One HTTP request through ctx.fetch with the retry policy. 2xx (and `accept`ed statuses) return;
 * 429, 408 and 5xx are retried; other statuses throw SourceError with a short excerpt of the body.
 */
export async function request(
  ctx: CollectorContext,
  url: string,
  options: RequestOptions = {},
): Promise<HttpResponse> {
  const { timeoutMs = 30_000, maxBytes = 10 * 1024 * 1024, accept = [] } = options;
  return withRetries(
    ctx,
    async (signal) => {
      let res: Response;
      let body: Buffer;
      const attemptSignal = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
      try {
        res = await ctx.fetch(url, {
          method: options.method ?? 'GET',
          ...(options.headers ? { headers: options.headers } : {}),
          ...(options.body !== undefined ? { body: options.body } : {}),
          signal: attemptSignal,
          redirect: options.redirect ?? 'follow',
        });
        body = await readCapped(res, maxBytes, url);
      } catch (err) {
        if (signal.aborted || err instanceof SourceError) throw err;
        const reason = attemptSignal.aborted ? `timed out after ${timeoutMs} ms` : (err as Error).message;
        throw new RetryableError(`request to ${hostOf(url)} failed: ${reason}`, null, url, false, null, {
          cause: err,
        });
      }
      const response: HttpResponse = { status: res.status, headers: res.headers, url: res.url || url, body };
      if ((res.status >= 200 && res.status < 300) || accept.includes(res.status)) return response;
      const now = ctx.now();
      if (res.status === 429) {
        const retryAt = options.rateLimitResetAt?.(response, now) ?? retryAtFromHeaders(res.headers, now);
        throw new RetryableError(`HTTP 429 from ${hostOf(url)}`, 429, url, true, retryAt);
      }
      if (res.status >= 500 || res.status === 408) {
        throw new RetryableError(
          `HTTP ${res.status} from ${hostOf(url)}`,
          res.status,
          url,
          false,
          retryAtFromHeaders(res.headers, now),
        );
      }
      const excerpt = body.toString('utf8', 0, Math.min(body.length, 300)).replace(/\s+/g, ' ').trim();
      throw new SourceError(`HTTP ${res.status} from ${hostOf(url)}: ${excerpt}`, res.status, url);
    },
    options.policy,
  );
}

/** The charset a page declares: Content-Type header first, then <meta charset> / http-equiv. */
export function declaredCharset(headers: Headers, body: Buffer): string | null {
  const fromHeader = /charset\s*=\s*["']?([\w.:-]+)/i.exec(headers.get('content-type') ?? '');
  if (fromHeader?.[1]) return fromHeader[1].toLowerCase();
  const head = body.toString('latin1', 0, Math.min(body.length, 4096));
  const fromMeta =
    /<meta[^>]+charset\s*=\s*["']?([\w.:-]+)/i.exec(head) ??
    /<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)/i.exec(head);
  return fromMeta?.[1]?.toLowerCase() ?? null;
}

/** Decodes a body by its declared charset (EUC-KR, CP949, Shift_JIS, ...), UTF-8 when none or unknown. */
export function decodeBody(headers: Headers, body: Buffer): string {
  const charset = declaredCharset(headers, body);
  if (charset && charset !== 'utf-8' && charset !== 'utf8' && iconv.encodingExists(charset)) {
    return iconv.decode(body, charset);
  }
  return body.toString('utf8').replace(/^\uFEFF/, '');
}

/** A parsed JSON value, or why the text is not JSON together with the text itself. */
export type JsonResult = { ok: true; value: unknown } | { ok: false; error: string; raw: string };

/** Parses a JSON body; the error says where it broke, for the quarantine row. */
export function parseJson(res: HttpResponse): JsonResult {
  return parseJsonText(res.body.toString('utf8'), hostOf(res.url));
}

/** Parses JSON text received from `from` (a host, or a source's name); the error names it and says where it broke. */
export function parseJsonText(raw: string, from: string): JsonResult {
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch (err) {
    return { ok: false, error: `unparseable JSON from ${from}: ${(err as Error).message}`, raw };
  }
}

/** Query string from a record, skipping undefined values. */
export function withQuery(base: string, params: Record<string, string | number | undefined>): string {
  const url = new URL(base);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, String(v));
  return url.toString();
}
