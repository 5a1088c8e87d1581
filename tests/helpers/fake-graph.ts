import { readFileSync } from 'node:fs';
import { Secret } from '../../pipeline/secrets.js';
import type { FakeClock } from './clock.js';
import { json, type Reply, type Request } from './loopback.js';

// The Microsoft Graph usage reports API as the graph-reports collector meets it (token, report
// redirect, pre-authenticated download), shared by its tests and its fuzz test.

const exportsDir = new URL('../fixtures/adoption/exports/', import.meta.url);
export const CLIENT_SECRET = new Secret('GRAPH_CLIENT_SECRET', 'graph-client-secret-Zq81xv');
export const ACCESS_TOKEN = 'graph-access-token-7fK2pL9s';
export const TENANT = 'example.onmicrosoft.com';

/** A fixture CSV as header + rows of cells (the Graph fixtures quote nothing). */
function table(name: string): { header: string[]; rows: string[][] } {
  const [head = '', ...lines] = readFileSync(new URL(name, exportsDir), 'utf8')
    .replace(/^\uFEFF/, '')
    .trim()
    .split('\n');
  return { header: head.split(','), rows: lines.map((l) => l.split(',')) };
}

const REPORT_FILES: Record<string, string> = {
  getYammerActivityUserDetail: 'graph_getYammerActivityUserDetail_D30.csv',
  getYammerGroupsActivityDetail: 'graph_getYammerGroupsActivityDetail_D30.csv',
  getTeamsUserActivityUserDetail: 'graph_getTeamsUserActivityUserDetail_D30.csv',
};
const COUNT_COLUMN: Record<string, string> = {
  getYammerActivityUserDetail: 'Posted Count',
  getYammerGroupsActivityDetail: 'Posted Count',
  getTeamsUserActivityUserDetail: 'Team Chat Message Count',
};

/**
 * What Graph gives for one report and day, shaped like the fixture export: a day is complete three
 * days after it ends; before that only the first two rows are there (Microsoft's lag). The count
 * column holds the day of the month (complete) or 1 (partial), so a test sees which copy is stored.
 * The refresh date column says when Microsoft last refreshed, not the day asked for.
 */
function dayCsv(report: string, day: string, now: Date, concealed: boolean): string {
  const file = concealed ? 'graph_getYammerActivityUserDetail_D30_concealed.csv' : REPORT_FILES[report];
  const { header, rows } = table(file ?? '');
  const complete = Date.parse(`${day}T00:00:00Z`) + 3 * 86_400_000 <= now.getTime();
  const col = (name: string) => header.indexOf(name);
  const out = (complete ? rows : rows.slice(0, 2)).map((r) => {
    const copy = [...r];
    copy[col('Report Refresh Date')] = new Date(now.getTime() - 2 * 86_400_000).toISOString().slice(0, 10);
    copy[col('Report Period')] = '1';
    copy[col(COUNT_COLUMN[report] ?? '')] = complete ? String(Number(day.slice(8))) : '1';
    return copy.join(',');
  });
  return `\uFEFF${[header.join(','), ...out].join('\r\n')}\r\n`;
}

export interface FakeGraph {
  /** Days from which the tenant conceals names (an admin turned concealment on). */
  concealedFrom: string;
  /** Answers for the next report (API) requests, before the normal one: a 429. */
  faults: Reply[];
}

/** The fake on the test's clock; `baseUrl` is the server's own address, for the download Location. */
export function graphHandler(state: FakeGraph, baseUrl: () => string) {
  return (clock: FakeClock) =>
    (req: Request): Reply => {
      const path = decodeURIComponent(req.url.pathname);
      if (req.method === 'POST' && path === `/${TENANT}/oauth2/v2.0/token`) {
        const form = new URLSearchParams(req.body);
        if (form.get('client_secret') !== CLIENT_SECRET.reveal())
          return { status: 401, ...json({ error: 'invalid_client', error_description: 'AADSTS7000215' }) };
        return json({
          token_type: 'Bearer',
          expires_in: 3599,
          ext_expires_in: 3599,
          access_token: ACCESS_TOKEN,
        });
      }
      const api = /^\/v1\.0\/reports\/(\w+)\((?:date=(\d{4}-\d{2}-\d{2})|period='(D\d+)')\)$/.exec(path);
      if (api) {
        if (req.headers.authorization !== `Bearer ${ACCESS_TOKEN}`)
          return { status: 401, ...json({ error: { code: 'InvalidAuthenticationToken' } }) };
        const fault = state.faults.shift();
        if (fault) return fault;
        const target = api[2] ? `date/${api[2]}` : `period/${api[3]}`;
        return {
          status: 302,
          headers: { location: `${baseUrl()}/download/${api[1]}/${target}?sig=preauth` },
          body: '',
        };
      }
      const download = /^\/download\/(\w+)\/(date|period)\/([\w-]+)$/.exec(path);
      if (download && req.url.searchParams.get('sig') === 'preauth') {
        const [, report = '', mode, value = ''] = download;
        if (mode === 'date')
          return {
            headers: { 'content-type': 'application/octet-stream' },
            body: dayCsv(report, value, clock.now(), value >= state.concealedFrom),
          };
        const file = readFileSync(new URL(REPORT_FILES[report] ?? '', exportsDir), 'utf8');
        // The D30 fixture as the D7 report: same rows, Report Period 7.
        return { body: file.replace(/,30(\r?\n|$)/g, `,${value.slice(1)}$1`) };
      }
      return { status: 404, body: `no route ${path}` };
    };
}
