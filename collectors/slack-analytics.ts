import { z } from 'zod';
import { SourceError } from '../pipeline/errors.js';
import { secretRef } from '../pipeline/secrets.js';
import type { Batch, Collector, CollectorContext } from './contract.js';
import { addDays, dayRange, utcDay } from './days.js';
import { type HttpResponse, parseJson, type RetryPolicy, request, withQuery } from './http.js';

const DEFAULT_API = 'https://slack.com';
// A member file of a large Enterprise Grid org is tens of megabytes before gzip.
const MAX_FILE_BYTES = 200 * 1024 * 1024;

/** Slack admin.analytics.getFile (Enterprise Grid), member files, one per day. */
const configSchema = z.strictObject({
  /** A user token (xoxp-) of an Org Owner or Admin with the admin.analytics:read scope. */
  token: secretRef,
  /** Days pulled on the first run. */
  backfillDays: z.number().int().min(1).max(365).default(7),
});
type Config = z.infer<typeof configSchema>;

interface SlackPartition {
  key: 'member';
}

/** `lastDay`: the newest day whose file is stored; the next run asks for the days after it. */
const bookmarkSchema = z.object({ lastDay: z.string().regex(/^\d{4}-\d{2}-\d{2}$/) });
type Bookmark = z.infer<typeof bookmarkSchema>;

const errorSchema = z.object({ ok: z.literal(false), error: z.string() });

// What the user can do about each refusal (Slack's own error codes).
const HINTS: Record<string, string> = {
  invalid_auth: 'the token is not valid; check the secret',
  not_authed: 'no token reached Slack; check the secret',
  token_revoked: 'the token was revoked; create a new one',
  token_expired: 'the token expired; create a new one',
  account_inactive: 'the token belongs to a deactivated user',
  missing_scope: 'the token lacks the admin.analytics:read scope',
  not_allowed_token_type: 'a user token (xoxp-) of an Org Owner or Admin is required',
  not_an_admin: 'the token must belong to an Org Owner or Admin',
  feature_not_enabled: 'analytics files are an Enterprise Grid feature',
};

const checkPolicy: RetryPolicy = { retries: 1, baseDelayMs: 500, maxDelayMs: 2000, rateLimitWaits: 0 };

function refusal(method: string, error: string, url: string): SourceError {
  const hint = HINTS[error];
  return new SourceError(`Slack ${method} refused: ${error}${hint ? ` (${hint})` : ''}`, 200, url);
}

async function call(
  config: Config,
  ctx: CollectorContext,
  url: string,
  options: { maxBytes?: number; policy?: RetryPolicy } = {},
): Promise<HttpResponse> {
  return request(ctx, url, {
    headers: { Authorization: `Bearer ${config.token.reveal()}` },
    ...options,
  });
}

const isGzip = (b: Buffer) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

export const slackAnalytics: Collector<Config, SlackPartition, Bookmark> = {
  id: 'slack-analytics',
  defaultBaseUrl: DEFAULT_API,
  // A day's file appears some hours after the day ends (UTC); a missing one is asked for again next run.
  defaultSchedule: '15 */6 * * *',
  configSchema,
  bookmarkSchema,

  partitions() {
    return [{ key: 'member' }];
  },

  /** auth.test: proves the token without downloading a day of analytics. */
  async check(config, ctx) {
    try {
      const url = `${ctx.baseUrl}/api/auth.test`;
      const res = await call(config, ctx, url, { policy: checkPolicy });
      const json = parseJson(res);
      if (!json.ok) return { ok: false, reason: json.error };
      const refused = errorSchema.safeParse(json.value);
      if (refused.success) throw refusal('auth.test', refused.data.error, url);
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  },

  async *read(config, _partition, bookmark, ctx): AsyncGenerator<Batch<Bookmark>> {
    const yesterday = addDays(utcDay(ctx.now()), -1);
    const first = bookmark ? addDays(bookmark.lastDay, 1) : addDays(yesterday, 1 - config.backfillDays);
    for (const day of dayRange(first, yesterday)) {
      const url = withQuery(`${ctx.baseUrl}/api/admin.analytics.getFile`, { type: 'member', date: day });
      const res = await call(config, ctx, url, { maxBytes: MAX_FILE_BYTES });
      if (isGzip(res.body)) {
        const name = `admin.analytics.getFile member ${day}.ndjson.gz`;
        yield {
          records: [],
          files: [{ name, kind: 'slack-member-ndjson', content: res.body }],
          bookmark: { lastDay: day },
        };
        continue;
      }
      const json = parseJson(res);
      const refused = json.ok ? errorSchema.safeParse(json.value) : null;
      if (!refused?.success)
        throw new SourceError(
          `Slack admin.analytics.getFile answered neither a gzip file nor an error: ${res.body.toString('utf8', 0, 200)}`,
          res.status,
          url,
        );
      const { error } = refused.data;
      if (error === 'file_not_yet_available') {
        // Not a failure: Slack writes a day's file some hours later. This run ends here; the next
        // one starts from this day again, since the bookmark stays on the day before.
        ctx.logger.info({ day }, 'Slack analytics file not yet available; asking again next run');
        return;
      }
      if (error === 'data_not_available') {
        // Days before the org's analytics began (first-run backfill) have no file and never will.
        ctx.logger.warn({ day }, 'Slack has no analytics for this day; skipping it');
        yield { records: [], bookmark: { lastDay: day } };
        continue;
      }
      throw refusal('admin.analytics.getFile', error, url);
    }
  },
};
