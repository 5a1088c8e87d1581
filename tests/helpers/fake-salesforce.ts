import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { Secret } from '../../pipeline/secrets.js';
import { json, type Reply, type Request } from './loopback.js';

// A Salesforce org's REST query API (client-credentials token, SOQL pages linked by nextRecordsUrl) as
// the chatter collector meets it, shared by its tests and its fuzz test.

export const CLIENT_ID = new Secret('SF_CLIENT_ID', 'sf-consumer-key-3MVG9xyz');
export const CLIENT_SECRET = new Secret('SF_CLIENT_SECRET', 'sf-consumer-secret-8QpL2w');
export const STATIC_TOKEN = new Secret('SF_ACCESS_TOKEN', '00Dxx0000001gPL!AQ4AQstatic');
export const ISSUED_TOKEN = '00Dxx0000001gPL!AQ4AQissued7Hk';
export const fixtures = new URL('../fixtures/adoption/', import.meta.url);

export type SObject = Record<string, unknown>;
const NUMERIC = /Count$/;

/** A SOQL export fixture as the records the REST API returns for it (numbers as numbers, booleans as booleans). */
function records(type: string, file: string, extra: SObject[] = []): SObject[] {
  const rows = parse(readFileSync(new URL(file, fixtures)), { bom: true, columns: true }) as Record<
    string,
    string
  >[];
  return [...rows, ...extra].map((row) => ({
    attributes: { type, url: `/services/data/v60.0/sobjects/${type}/${String(row.Id)}` },
    ...Object.fromEntries(
      Object.entries(row).map(([k, v]) => [
        k,
        v === '' ? null : v === 'true' || v === 'false' ? v === 'true' : NUMERIC.test(k) ? Number(v) : v,
      ]),
    ),
  }));
}

/** The fake org: the fixture exports plus a second thread, and the users behind the 005 ids. */
export function org() {
  return {
    User: [
      ['0050000000000001', 'user01@example.com'],
      ['0050000000000002', 'User02@Example.com'],
      ['0050000000000005', 'user05@example.com'],
      ['005000000000INTG', 'integration@example.org'],
    ].map(
      ([Id, Email]) => ({ attributes: { type: 'User' }, Id, Email, Username: `${Email}.prod` }) as SObject,
    ),
    ChatterActivity: records('ChatterActivity', 'exports/chatter_ChatterActivity.csv').map((r) => ({
      ...r,
      SystemModstamp: '2026-04-09T23:00:00.000+0000',
    })),
    FeedItem: records('FeedItem', 'exports/chatter_FeedItem.csv', [
      {
        Id: '0D50000000000002',
        ParentId: '0F90000000000001',
        CreatedById: '0050000000000005',
        CreatedDate: '2026-04-03T10:00:00.000+0000',
        Type: 'TextPost',
        CommentCount: '1',
        LikeCount: '0',
        BestCommentId: '',
        IsDeleted: 'false',
      },
    ]),
    FeedComment: records('FeedComment', 'exports/chatter_FeedComment.csv', [
      {
        Id: '0D70000000000003',
        FeedItemId: '0D50000000000002',
        ParentId: '0F90000000000001',
        CreatedById: '0050000000000002',
        CreatedDate: '2026-04-03T11:00:00.000+0000',
        CommentType: 'TextComment',
        IsDeleted: 'false',
      },
    ]),
  } as Record<string, SObject[]>;
}

export interface FakeSalesforce {
  data: Record<string, SObject[]>;
  faults: Reply[];
  /** Whether the static token (accessToken mode) is still accepted. */
  staticValid: boolean;
  queries: string[];
}

const PAGE = 2;
const time = (v: unknown) => Date.parse(String(v).replace(/\+0000$/, 'Z'));

/** Just enough SOQL for what the collector sends: SELECT fields FROM object [WHERE one condition] [LIMIT n]. */
function runSoql(data: Record<string, SObject[]>, soql: string): SObject[] {
  const m = /^SELECT (.+?) FROM (\w+)(?: WHERE (.+?))?(?: LIMIT (\d+))?$/.exec(soql);
  if (!m) throw new Error(`fake cannot run ${soql}`);
  const fields = (m[1] ?? '').split(', ');
  let rows = data[m[2] ?? ''] ?? [];
  const where = m[3];
  if (where) {
    const since = /^CreatedDate >= (\S+Z)$/.exec(where);
    const inList = /^(\w+) IN \((.+)\)$/.exec(where);
    if (since) rows = rows.filter((r) => time(r.CreatedDate) >= Date.parse(since[1] ?? ''));
    else if (inList) {
      const wanted = new Set((inList[2] ?? '').split(',').map((s) => s.replaceAll("'", '')));
      rows = rows.filter((r) => wanted.has(String(r[inList[1] ?? ''])));
    } else throw new Error(`fake cannot filter ${where}`);
  }
  if (m[4]) rows = rows.slice(0, Number(m[4]));
  return rows.map((r) => ({
    attributes: r.attributes,
    ...Object.fromEntries(fields.map((f) => [f, r[f] ?? null])),
  }));
}

/** The fake org's token endpoint and query API, paging PAGE records at a time by nextRecordsUrl. */
export function salesforceHandler(state: FakeSalesforce) {
  const cursors = new Map<string, SObject[]>();
  let cursorId = 0;
  const page = (rows: SObject[], total: number): Reply => {
    const rest = rows.slice(PAGE);
    let nextRecordsUrl: string | undefined;
    if (rest.length > 0) {
      const id = `01gQ0000000${++cursorId}-${PAGE}`;
      cursors.set(id, rest);
      nextRecordsUrl = `/services/data/v60.0/query/${id}`;
    }
    return json({
      totalSize: total,
      done: !nextRecordsUrl,
      ...(nextRecordsUrl ? { nextRecordsUrl } : {}),
      records: rows.slice(0, PAGE),
    });
  };
  return () =>
    (req: Request): Reply => {
      if (req.method === 'POST' && req.url.pathname === '/services/oauth2/token') {
        const form = new URLSearchParams(req.body);
        if (
          form.get('grant_type') !== 'client_credentials' ||
          form.get('client_id') !== CLIENT_ID.reveal() ||
          form.get('client_secret') !== CLIENT_SECRET.reveal()
        )
          return {
            status: 400,
            ...json({ error: 'invalid_client', error_description: 'invalid client credentials' }),
          };
        return json({
          access_token: ISSUED_TOKEN,
          instance_url: 'https://example.my.salesforce.com',
          token_type: 'Bearer',
        });
      }
      const auth = req.headers.authorization;
      const valid =
        auth === `Bearer ${ISSUED_TOKEN}` ||
        (state.staticValid && auth === `Bearer ${STATIC_TOKEN.reveal()}`);
      if (!valid)
        return {
          status: 401,
          ...json([{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]),
        };
      const fault = state.faults.shift();
      if (fault) return fault;
      if (req.url.pathname === '/services/data/v60.0/query') {
        const soql = req.url.searchParams.get('q') ?? '';
        state.queries.push(soql);
        const rows = runSoql(state.data, soql);
        return page(rows, rows.length);
      }
      const more = /^\/services\/data\/v60\.0\/query\/([\w-]+)$/.exec(req.url.pathname);
      const rest = more ? cursors.get(more[1] ?? '') : undefined;
      if (rest) return page(rest, rest.length);
      return {
        status: 404,
        ...json([{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }]),
      };
    };
}
