import { z } from 'zod';
import { SourceError } from '../pipeline/errors.js';
import { type Secret, secretRef } from '../pipeline/secrets.js';
import type { Batch, Collector, CollectorContext, ExportFile } from './contract.js';
import { utcDay } from './days.js';
import { type HttpResponse, parseJson, type RetryPolicy, request, withQuery } from './http.js';
import { clientCredentialsToken, withBearer } from './oauth.js';

/**
 * Salesforce Chatter through the REST query API. Authentication is either an OAuth client-credentials
 * flow (a connected app with "Enable Client Credentials Flow" and a run-as user) or an access token
 * obtained elsewhere. The run-as user needs API access and "View All Data": Salesforce refuses
 * FeedItem/FeedComment queries without a record filter otherwise.
 */
const configSchema = z
  .strictObject({
    /** REST API version, e.g. "60.0". */
    apiVersion: z
      .string()
      .regex(/^\d{2,3}\.0$/, { message: 'must be a REST API version like "60.0"' })
      .default('60.0'),
    /** Connected app consumer key and secret, for the client-credentials flow. */
    clientId: secretRef.optional(),
    clientSecret: secretRef.optional(),
    /** Or a ready access token (it is not refreshed: when it expires the run fails and says so). */
    accessToken: secretRef.optional(),
    /** Days of feed pulled on the first run. */
    backfillDays: z.number().int().min(1).max(3650).default(30),
    /** Posts per batch (each batch is one FeedItem + FeedComment import with the bookmark). */
    postsPerBatch: z.number().int().min(1).max(500).default(200),
  })
  .superRefine((c, ctx) => {
    const credentials = c.clientId !== undefined || c.clientSecret !== undefined;
    if (credentials && c.accessToken !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['accessToken'],
        message: 'give either accessToken or clientId + clientSecret, not both',
      });
    else if (!credentials && c.accessToken === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['accessToken'],
        message: 'is required unless clientId and clientSecret (client-credentials flow) are given',
      });
    else if (credentials && (c.clientId === undefined || c.clientSecret === undefined))
      ctx.addIssue({
        code: 'custom',
        path: [c.clientId === undefined ? 'clientId' : 'clientSecret'],
        message: 'the client-credentials flow needs both clientId and clientSecret',
      });
  });
type Config = z.infer<typeof configSchema>;

/** User first: its identities must be stored before the rows that need them. */
type Kind = 'User' | 'ChatterActivity' | 'Feed';
interface ChatterPartition {
  key: Kind;
}

/** Feed: `since`, the instant from which posts and comments are read next. Others: the last day pulled. */
const bookmarkSchema = z.object({
  since: z.iso.datetime().optional(),
  lastDay: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .optional(),
});
type Bookmark = z.infer<typeof bookmarkSchema>;

const USER = ['Id', 'Email', 'Username'];
const ACTIVITY = [
  'Id',
  'ParentId',
  'PostCount',
  'CommentCount',
  'CommentReceivedCount',
  'LikeReceivedCount',
  'SystemModstamp',
];
const ITEM = [
  'Id',
  'ParentId',
  'CreatedById',
  'CreatedDate',
  'Type',
  'CommentCount',
  'LikeCount',
  'BestCommentId',
];
const COMMENT = ['Id', 'FeedItemId', 'ParentId', 'CreatedById', 'CreatedDate', 'CommentType'];
/** Records committed just before a run began may become visible after it: the next run looks back this far. */
const COMMIT_MARGIN_MS = 5 * 60_000;
const SALESFORCE_ID = /^[A-Za-z0-9]{15,18}$/;

const pageSchema = z.object({
  done: z.boolean(),
  nextRecordsUrl: z.string().startsWith('/services/data/').optional(),
  records: z.array(z.record(z.string(), z.unknown())),
});

const checkPolicy: RetryPolicy = { retries: 1, baseDelayMs: 500, maxDelayMs: 2000, rateLimitWaits: 0 };

async function apiGet(
  config: Config,
  ctx: CollectorContext,
  url: string,
  policy?: RetryPolicy,
): Promise<HttpResponse> {
  const endpoint = `${ctx.baseUrl}/services/oauth2/token`;
  const { accessToken, clientId, clientSecret } = config;
  const secret = (accessToken ?? clientSecret) as Secret;
  return withBearer(
    ctx,
    { secret, endpoint },
    async () =>
      accessToken
        ? { value: accessToken, expiresAt: Number.POSITIVE_INFINITY }
        : clientCredentialsToken(
            ctx,
            endpoint,
            { client_id: (clientId as Secret).reveal(), client_secret: (clientSecret as Secret).reveal() },
            'Salesforce',
            policy,
          ),
    (token) =>
      request(ctx, url, {
        headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
        accept: [401],
        ...(policy ? { policy } : {}),
      }),
    'Salesforce',
  );
}

/** Every record a SOQL query returns, page by page (Salesforce pages by nextRecordsUrl, 2,000 at most each). */
async function queryAll(
  config: Config,
  ctx: CollectorContext,
  soql: string,
  policy?: RetryPolicy,
): Promise<Record<string, unknown>[]> {
  const records: Record<string, unknown>[] = [];
  let url = withQuery(`${ctx.baseUrl}/services/data/v${config.apiVersion}/query`, { q: soql });
  // A next-records link back to a page already read would page forever, the records piling up.
  const read = new Set<string>();
  for (;;) {
    read.add(url);
    const res = await apiGet(config, ctx, url, policy);
    const json = parseJson(res);
    const page = json.ok ? pageSchema.safeParse(json.value) : null;
    if (!page?.success)
      throw new SourceError(
        `Salesforce query answered an unexpected page: ${res.body.toString('utf8', 0, 200)}`,
        res.status,
        url,
      );
    records.push(...page.data.records);
    if (page.data.done || !page.data.nextRecordsUrl) return records;
    const next = `${ctx.baseUrl}${page.data.nextRecordsUrl}`;
    if (read.has(next))
      throw new SourceError(
        `Salesforce query paged back to a page already read (${page.data.nextRecordsUrl}): its next-records links loop`,
        res.status,
        url,
      );
    url = next;
  }
}

/**
 * Query records as the CSV a SOQL export gives (field API names as the header), so the Chatter
 * importers read API pulls and downloaded exports alike.
 */
function soqlCsv(fields: readonly string[], records: readonly Record<string, unknown>[]): Buffer {
  const cell = (v: unknown) => (v === null || v === undefined ? '' : `"${String(v).replaceAll('"', '""')}"`);
  const lines = [fields.join(','), ...records.map((r) => fields.map((f) => cell(r[f])).join(','))];
  return Buffer.from(`${lines.join('\r\n')}\r\n`);
}

/** A SOQL datetime literal (no quotes, no milliseconds). */
const soqlTime = (iso: string) => `${iso.slice(0, 19)}Z`;

/** An IN list of ids that `ids` checked (only Salesforce ids ever reach a query). */
const idList = (ids: readonly string[]) => `(${ids.map((id) => `'${id}'`).join(',')})`;

/** The values of `field` that are Salesforce ids; anything else is dropped rather than put into a query. */
const ids = (records: readonly Record<string, unknown>[], field: string) =>
  records.map((r) => r[field]).filter((v): v is string => typeof v === 'string' && SALESFORCE_ID.test(v));

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** A whole-table snapshot (users, running totals) as one file, once per run. */
async function* snapshot(
  config: Config,
  ctx: CollectorContext,
  object: string,
  fields: readonly string[],
  kind: string,
): AsyncGenerator<Batch<Bookmark>> {
  const today = utcDay(ctx.now());
  const records = await queryAll(config, ctx, `SELECT ${fields.join(', ')} FROM ${object}`);
  const file: ExportFile = { name: `${object} ${today}.csv`, kind, content: soqlCsv(fields, records) };
  // Unchanged since the last run: the same bytes, which the import skips.
  yield { records: [], files: [file], bookmark: { lastDay: today } };
}

/**
 * Posts created or commented on since the bookmark, each with ALL its comments: a thread's first
 * reply and its interactions are recomputed from the whole thread, so a new comment on an old post
 * never hides the earlier answer. One batch per `postsPerBatch` posts; the bookmark moves on the last.
 */
async function* feed(
  config: Config,
  ctx: CollectorContext,
  bookmark: Bookmark | undefined,
): AsyncGenerator<Batch<Bookmark>> {
  const started = ctx.now().getTime();
  const since = bookmark?.since ?? new Date(started - config.backfillDays * 86_400_000).toISOString();
  const from = soqlTime(since);
  const posted = await queryAll(config, ctx, `SELECT Id FROM FeedItem WHERE CreatedDate >= ${from}`);
  const commented = await queryAll(
    config,
    ctx,
    `SELECT FeedItemId FROM FeedComment WHERE CreatedDate >= ${from}`,
  );
  const touched = [...new Set([...ids(posted, 'Id'), ...ids(commented, 'FeedItemId')])].sort();
  const next: Bookmark = { since: new Date(started - COMMIT_MARGIN_MS).toISOString() };
  const parts = chunks(touched, config.postsPerBatch);
  if (parts.length === 0) {
    yield { records: [], bookmark: next };
    return;
  }
  for (const [i, part] of parts.entries()) {
    const items = await queryAll(
      config,
      ctx,
      `SELECT ${ITEM.join(', ')} FROM FeedItem WHERE Id IN ${idList(part)}`,
    );
    const found = ids(items, 'Id');
    const comments =
      found.length === 0
        ? []
        : await queryAll(
            config,
            ctx,
            `SELECT ${COMMENT.join(', ')} FROM FeedComment WHERE FeedItemId IN ${idList(found)}`,
          );
    const name = `${since.slice(0, 10)} part ${i + 1}`;
    const files: ExportFile[] =
      found.length === 0
        ? []
        : [
            { name: `FeedItem ${name}.csv`, kind: 'chatter-feed', content: soqlCsv(ITEM, items) },
            { name: `FeedComment ${name}.csv`, kind: 'chatter-feed', content: soqlCsv(COMMENT, comments) },
          ];
    const last = i === parts.length - 1;
    yield { records: [], files, bookmark: last ? next : { since } };
  }
}

export const chatter: Collector<Config, ChatterPartition, Bookmark> = {
  id: 'chatter',
  // Each org has its own My Domain (https://yourorg.my.salesforce.com): baseUrl is required in practice.
  defaultBaseUrl: 'https://login.salesforce.com',
  defaultSchedule: '45 5 * * *',
  configSchema,
  bookmarkSchema,

  partitions() {
    return [{ key: 'User' }, { key: 'ChatterActivity' }, { key: 'Feed' }];
  },

  async check(config, ctx) {
    try {
      await queryAll(config, ctx, 'SELECT Id FROM User LIMIT 1', checkPolicy);
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  },

  read(config, partition, bookmark, ctx): AsyncIterable<Batch<Bookmark>> {
    if (partition.key === 'User') return snapshot(config, ctx, 'User', USER, 'chatter-users');
    if (partition.key === 'ChatterActivity')
      return snapshot(config, ctx, 'ChatterActivity', ACTIVITY, 'chatter-activity');
    return feed(config, ctx, bookmark);
  },
};
