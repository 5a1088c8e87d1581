import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { Secret } from '../../pipeline/secrets.js';
import type { FakeClock } from './clock.js';
import { json, type Reply, type Request } from './loopback.js';

// Slack's admin.analytics.getFile as the slack-analytics collector meets it, shared by its tests and its
// fuzz test.

export const TOKEN = new Secret('SLACK_ADMIN_TOKEN', 'xoxp-slack-admin-token-51Hq');
// The fixture is one day (2026-04-16) of the member file; the fake serves it for every day.
const FIXTURE = readFileSync(
  new URL(
    '../fixtures/adoption/exports/slack_admin.analytics.getFile_member_2026-04-16.ndjson',
    import.meta.url,
  ),
  'utf8',
);

export interface FakeSlack {
  /** Days (YYYY-MM-DD) whose file Slack has written; others answer file_not_yet_available. */
  ready: (day: string, now: Date) => boolean;
  /** An error code every call answers with instead (invalid_auth, ...). */
  error?: string;
  faults: Reply[];
}

/** The fake on the test's clock: the fixture day, gzipped, for every day that is ready. */
export function slackHandler(state: FakeSlack) {
  return (clock: FakeClock) =>
    (req: Request): Reply => {
      if (req.headers.authorization !== `Bearer ${TOKEN.reveal()}`)
        return json({ ok: false, error: 'not_authed' });
      if (state.error) return json({ ok: false, error: state.error });
      if (req.url.pathname === '/api/auth.test')
        return json({ ok: true, team: 'Example Co', user_id: 'U0000000005' });
      if (req.url.pathname !== '/api/admin.analytics.getFile') return { status: 404, body: 'no such method' };
      const fault = state.faults.shift();
      if (fault) return fault;
      const day = req.url.searchParams.get('date') ?? '';
      if (req.url.searchParams.get('type') !== 'member' || !/^\d{4}-\d{2}-\d{2}$/.test(day))
        return json({ ok: false, error: 'invalid_arguments' });
      if (!state.ready(day, clock.now())) return json({ ok: false, error: 'file_not_yet_available' });
      return {
        headers: { 'content-type': 'application/gzip' },
        body: gzipSync(FIXTURE.replaceAll('"date":"2026-04-16"', `"date":"${day}"`)),
      };
    };
}
