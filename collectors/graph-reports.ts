import { z } from 'zod';
import { SourceError } from '../pipeline/errors.js';
import { secretRef } from '../pipeline/secrets.js';
import type { Batch, Collector, CollectorContext, ExportFile } from './contract.js';
import { addDays, dayRange, laterDay, utcDay } from './days.js';
import { type HttpResponse, type RetryPolicy, request } from './http.js';
import { clientCredentialsToken, withBearer } from './oauth.js';

const DEFAULT_API = 'https://graph.microsoft.com';
const DEFAULT_LOGIN = 'https://login.microsoftonline.com';

/** The usage reports collected, by Graph function name, and the import kind that reads each. */
const REPORTS = {
  getYammerActivityUserDetail: 'graph-yammer-user-detail',
  getYammerGroupsActivityDetail: 'graph-yammer-groups',
  getTeamsUserActivityUserDetail: 'graph-teams-user-detail',
} as const;
type Report = keyof typeof REPORTS;
const REPORT_NAMES = Object.keys(REPORTS) as [Report, ...Report[]];

// Graph serves one-day reports for the last 30 days only; 28 leaves a margin for its time zone.
const OLDEST_DAY = 28;
// Report CSVs of a large tenant (tens of thousands of users, 33 columns) are several megabytes.
const MAX_REPORT_BYTES = 200 * 1024 * 1024;

/** Microsoft Graph usage reports with an app registration (client credentials, Reports.Read.All). */
const configSchema = z.strictObject({
  /** Directory (tenant) id or a verified domain such as contoso.onmicrosoft.com. */
  tenant: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9.-]+$/, {
      message: 'must be the tenant id (a GUID) or a domain like contoso.onmicrosoft.com',
    }),
  /** Application (client) id of the app registration. */
  clientId: z.string().trim().min(1, 'is the application (client) id of the app registration'),
  clientSecret: secretRef,
  reports: z.array(z.enum(REPORT_NAMES)).min(1, 'list at least one report').default(REPORT_NAMES),
  /**
   * Absent: one report per day (`date=`), daily grain. D7/D30/D90/D180: the period report
   * (`period=`), pulled each run, period grain ending on its refresh date.
   */
  period: z.enum(['D7', 'D30', 'D90', 'D180']).optional(),
  /** Days Microsoft takes to fill a day in: the newest day pulled is today minus this. */
  lagDays: z.number().int().min(0).max(7).default(2),
  /** Days before the newest pulled again each run, since a lagging day fills in later; the import replaces them. */
  repullDays: z.number().int().min(0).max(OLDEST_DAY).default(3),
  /** Days pulled on the first run. */
  backfillDays: z.number().int().min(1).max(OLDEST_DAY).default(7),
  /** Origin of the token endpoint; default login.microsoftonline.com, or the source's baseUrl when that is overridden. */
  authBaseUrl: z
    .url({ message: 'must be an http(s) URL like "https://login.microsoftonline.com"' })
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
});
type Config = z.infer<typeof configSchema>;

interface ReportPartition {
  key: Report;
}

/** `lastDay`: the newest report day pulled (daily), or the day of the last pull (period). */
const bookmarkSchema = z.object({ lastDay: z.string().regex(/^\d{4}-\d{2}-\d{2}$/) });
type Bookmark = z.infer<typeof bookmarkSchema>;

const checkPolicy: RetryPolicy = { retries: 1, baseDelayMs: 500, maxDelayMs: 2000, rateLimitWaits: 0 };

function tokenEndpoint(config: Config, ctx: CollectorContext): string {
  const origin = config.authBaseUrl ?? (ctx.baseUrl === DEFAULT_API ? DEFAULT_LOGIN : ctx.baseUrl);
  return `${origin}/${encodeURIComponent(config.tenant)}/oauth2/v2.0/token`;
}

/** Asks Graph for one report: its answer is a 302 to the download (kept, not followed), or the CSV itself. */
async function askReport(
  config: Config,
  ctx: CollectorContext,
  url: string,
  policy?: RetryPolicy,
): Promise<HttpResponse> {
  const endpoint = tokenEndpoint(config, ctx);
  return withBearer(
    ctx,
    { secret: config.clientSecret, endpoint },
    () =>
      clientCredentialsToken(
        ctx,
        endpoint,
        {
          client_id: config.clientId,
          client_secret: config.clientSecret.reveal(),
          scope: 'https://graph.microsoft.com/.default',
        },
        'Microsoft identity platform',
        policy,
      ),
    (token) =>
      request(ctx, url, {
        headers: { Authorization: `Bearer ${token}` },
        redirect: 'manual',
        accept: [301, 302, 303, 307, 401],
        ...(policy ? { policy } : {}),
      }),
    'Microsoft Graph',
  );
}

/**
 * One report's CSV. Graph answers 302 to a short-lived pre-authenticated download URL: it is fetched
 * WITHOUT our bearer token (the redirect is not followed automatically, so the header never leaves
 * for the download host).
 */
async function downloadReport(
  config: Config,
  ctx: CollectorContext,
  report: Report,
  param: string,
): Promise<HttpResponse> {
  const url = `${ctx.baseUrl}/v1.0/reports/${report}(${param})`;
  const res = await askReport(config, ctx, url).catch((err) => explain(err, report));
  if (res.status === 200) return res;
  const location = res.headers.get('location');
  if (!location)
    throw new SourceError(
      `Microsoft Graph answered ${res.status} without a download location`,
      res.status,
      url,
    );
  // A Location that is no URL would otherwise fail as a bare "Invalid URL" naming neither Graph nor the report.
  if (!URL.canParse(location, url))
    throw new SourceError(
      `Microsoft Graph answered ${res.status} with a download location that is not a URL: ${location.slice(0, 200)}`,
      res.status,
      url,
    );
  return request(ctx, new URL(location, url).href, { maxBytes: MAX_REPORT_BYTES, timeoutMs: 120_000 });
}

/** A 403 is the usual first-run mistake; say which permission is missing. */
function explain(err: unknown, report: Report): never {
  if (err instanceof SourceError && err.status === 403)
    throw new SourceError(
      `Microsoft Graph refused ${report} (HTTP 403): the app registration needs the Reports.Read.All ` +
        'application permission with admin consent',
      403,
      err.url,
      { cause: err },
    );
  throw err;
}

export const graphReports: Collector<Config, ReportPartition, Bookmark> = {
  id: 'graph-reports',
  defaultBaseUrl: DEFAULT_API,
  // Microsoft refreshes usage reports once a day.
  defaultSchedule: '30 6 * * *',
  configSchema,
  bookmarkSchema,

  partitions(config) {
    return config.reports.map((key) => ({ key }));
  },

  async check(config, ctx) {
    try {
      // The report's redirect proves the token and the permission; the download is not needed.
      const report = config.reports[0] ?? 'getYammerActivityUserDetail';
      const url = `${ctx.baseUrl}/v1.0/reports/${report}(period='D7')`;
      await askReport(config, ctx, url, checkPolicy).catch((err) => explain(err, report));
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  },

  async *read(config, partition, bookmark, ctx): AsyncGenerator<Batch<Bookmark>> {
    const report = partition.key;
    const kind = REPORTS[report];
    const today = utcDay(ctx.now());
    if (config.period) {
      const res = await downloadReport(config, ctx, report, `period='${config.period}'`);
      const file: ExportFile = {
        name: `${report}(period='${config.period}') ${today}.csv`,
        kind,
        content: res.body,
      };
      // The same report pulled twice a day is the same bytes: the import skips it.
      yield { records: [], files: [file], bookmark: { lastDay: today } };
      return;
    }
    const newest = addDays(today, -config.lagDays);
    const oldest = addDays(today, -OLDEST_DAY);
    const from = bookmark
      ? addDays(bookmark.lastDay, -config.repullDays)
      : addDays(newest, 1 - config.backfillDays);
    if (bookmark && addDays(bookmark.lastDay, 1) < oldest)
      ctx.logger.warn(
        { missed: `${addDays(bookmark.lastDay, 1)}..${addDays(oldest, -1)}` },
        'Graph serves one-day reports for the last 30 days only: these days can no longer be pulled',
      );
    for (const day of dayRange(from < oldest ? oldest : from, newest)) {
      const res = await downloadReport(config, ctx, report, `date=${day}`);
      const file: ExportFile = {
        name: `${report}(date=${day}).csv`,
        kind,
        content: res.body,
        reportDay: day,
      };
      yield { records: [], files: [file], bookmark: { lastDay: laterDay(bookmark?.lastDay, day) } };
    }
  },
};
