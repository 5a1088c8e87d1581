/**
 * Erasure (issue 7, part 5): one person's data removed everywhere it is stored, in one transaction
 * with its audit entry, then the rollups they counted in recomputed. The audit entry holds counts
 * only: the append-only log cannot forget, so it never learns who was erased (not even a hash,
 * which a dictionary of handles or emails would reverse).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { collectors } from '../../collectors/registry.js';
import { bumpAdoptionData, warmWeekFigures } from '../adoption/week-cache.js';
import { appendAudit } from '../audit/log.js';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { refreshRollups } from '../scoring/rollups.js';
import { plainRows, type Store } from '../store.js';
import { type PurgeCounts, purgeMentions, stagePurge } from './purge.js';

export interface EraseDeps {
  store: Store;
  timezone: string;
  now: () => Date;
  /** Who asked, for the audit log. */
  actor: string;
  /** Where a failure to keep the adoption report's weeks again is logged (it never fails the erasure). */
  logger?: Logger | undefined;
}

export interface EraseResult {
  kind: 'author' | 'employee';
  /** Rows removed (or cleared) per table. */
  counts: Record<string, number>;
}

/** `<source>:<handle>` (a leading @ optional; the author id works too). */
export function parseAuthorRef(text: string): { source: string; handle: string } {
  const m = /^([a-z0-9_-]+):@?(.+)$/.exec(text.trim());
  if (!m?.[1] || !m[2]?.trim()) {
    throw new UserError(
      `--author: "${text}" is not <source>:<handle>; use e.g. x:@alice or mastodon:bob@example.social`,
    );
  }
  if (!collectors.has(m[1])) {
    throw new UserError(
      `--author: unknown source "${m[1]}"; the sources are ${[...collectors.keys()].join(', ')}`,
    );
  }
  return { source: m[1], handle: m[2].trim() };
}

const rows = async (conn: DuckDBConnection, sql: string, params: Record<string, string>) =>
  plainRows(await conn.runAndReadAll(sql, params));

/** Runs `sql` and returns how many rows it changed. */
async function changed(
  conn: DuckDBConnection,
  sql: string,
  params: Record<string, string> = {},
): Promise<number> {
  const result = await conn.run(sql, params);
  return Number(result.rowsChanged);
}

async function eraseAuthorIn(conn: DuckDBConnection, tz: string, source: string, handle: string) {
  const params = { source, handle: handle.toLowerCase() };
  // Handles are compared without case and a leading @; the platform's author id matches as given.
  const sameHandle = (col: string) => `lower(ltrim(${col}, '@')) = $handle`;
  const ids = (
    await rows(
      conn,
      `SELECT author_id AS id FROM authors WHERE source = $source AND (${sameHandle('handle')} OR lower(author_id) = $handle)
       UNION SELECT author_id FROM mentions WHERE source = $source AND author_id IS NOT NULL
         AND (${sameHandle('author_handle')} OR lower(author_id) = $handle)`,
      params,
    )
  ).map((r) => String(r.id));
  const mentions = await rows(
    conn,
    `SELECT native_id FROM mentions WHERE source = $source
       AND (${sameHandle('author_handle')} OR list_contains($ids::VARCHAR[], author_id))`,
    { ...params, ids: JSON.stringify(ids) },
  );
  if (ids.length === 0 && mentions.length === 0) return null;
  await stagePurge(
    conn,
    mentions.map((r) => [source, String(r.native_id)] as const),
  );
  const purged: PurgeCounts = await purgeMentions(conn, tz);
  // Author rows the purge did not reach (a handle stored without any mention left).
  const authors =
    purged.authors +
    (await changed(
      conn,
      `DELETE FROM authors WHERE source = $source AND (list_contains($ids::VARCHAR[], author_id) OR ${sameHandle('handle')})`,
      { ...params, ids: JSON.stringify(ids) },
    ));
  // Unparseable payloads are kept raw: any of the source's that names the person goes with them.
  const needles = JSON.stringify([handle.toLowerCase(), ...ids.map((i) => i.toLowerCase())]);
  const quarantine = await changed(
    conn,
    `DELETE FROM quarantine WHERE source = $source
       AND list_bool_or(list_transform($needles::VARCHAR[], n -> contains(lower(raw), n)))`,
    { source, needles },
  );
  return { ...purged, authors, quarantine };
}

async function eraseEmployeeIn(conn: DuckDBConnection, ref: string) {
  const key = ref.trim().toLowerCase();
  const found = await rows(
    conn,
    `SELECT employee_id AS id FROM employees WHERE lower(employee_id) = $key OR lower(email) = $key
     UNION SELECT employee_id FROM identity_map WHERE lower(user_key) = $key`,
    { key },
  );
  if (found.length > 1) {
    throw new UserError(`--employee: "${ref}" matches ${found.length} employees; give the employee id`, 409);
  }
  const id = found[0] ? String(found[0].id) : null;
  // Every key the person is known by: their id, email, and platform user keys (UPN, Slack id, ...).
  const keyRows = await rows(
    conn,
    `SELECT $key AS k UNION SELECT lower(employee_id) FROM employees WHERE employee_id = $id
     UNION SELECT lower(email) FROM employees WHERE employee_id = $id AND email IS NOT NULL
     UNION SELECT lower(user_key) FROM identity_map WHERE employee_id = $id`,
    { key, id: id ?? '' },
  );
  const p = { id: id ?? '', keys: JSON.stringify(keyRows.map((r) => String(r.k))) };
  const isKey = (col: string) => `list_contains($keys::VARCHAR[], lower(${col}))`;
  const mine = (user: string, employee: string) => `(${employee} = $id OR ${isKey(user)})`;
  const counts: Record<string, number> = {
    activity_daily: await changed(
      conn,
      `DELETE FROM activity_daily WHERE ${mine('user_key', 'employee_id')}`,
      p,
    ),
    activity_period: await changed(
      conn,
      `DELETE FROM activity_period WHERE ${mine('user_key', 'employee_id')}`,
      p,
    ),
    interactions: await changed(
      conn,
      `DELETE FROM interactions WHERE ${mine('from_user', 'from_employee_id')} OR ${mine('to_user', 'to_employee_id')}`,
      p,
    ),
    threads: await changed(conn, `DELETE FROM threads WHERE ${mine('author_user', 'author_employee_id')}`, p),
    // Someone else's question they answered stays; who answered and when goes with them.
    thread_replies: await changed(
      conn,
      `UPDATE threads SET first_reply_ts = NULL, first_reply_user = NULL, first_reply_employee_id = NULL
       WHERE ${mine('first_reply_user', 'first_reply_employee_id')}`,
      p,
    ),
    comm_volume_weekly: await changed(conn, 'DELETE FROM comm_volume_weekly WHERE employee_id = $id', {
      id: p.id,
    }),
    group_owner: await changed(
      conn,
      `UPDATE group_activity_period SET owner_user = NULL, owner_employee_id = NULL
       WHERE ${mine('owner_user', 'owner_employee_id')}`,
      p,
    ),
    unmatched_identities: await changed(conn, `DELETE FROM unmatched_identities WHERE ${isKey('user_key')}`, {
      keys: p.keys,
    }),
    identity_map: await changed(conn, `DELETE FROM identity_map WHERE ${mine('user_key', 'employee_id')}`, p),
    reports_manager: await changed(conn, 'UPDATE employees SET manager_id = NULL WHERE manager_id = $id', {
      id: p.id,
    }),
    history_manager: await changed(
      conn,
      'UPDATE employee_history SET manager_id = NULL WHERE manager_id = $id',
      {
        id: p.id,
      },
    ),
    employee_history: await changed(conn, 'DELETE FROM employee_history WHERE employee_id = $id', {
      id: p.id,
    }),
    employees: await changed(conn, 'DELETE FROM employees WHERE employee_id = $id', { id: p.id }),
  };
  // The report's kept weeks hold aggregates over this person: dropped with them.
  await bumpAdoptionData(conn);
  return Object.values(counts).some((n) => n > 0) ? counts : null;
}

/** `earshot erase --author <source>:<handle>`: their mentions, author rows and quarantined payloads. */
export async function eraseAuthor(deps: EraseDeps, ref: string): Promise<EraseResult> {
  const { source, handle } = parseAuthorRef(ref);
  const counts = await deps.store.write(async (conn) => {
    const c = await eraseAuthorIn(conn, deps.timezone, source, handle);
    if (c === null) throw new UserError(`--author: nothing is stored for ${source}:${handle}`, 404);
    await appendAudit(
      conn,
      { actor: deps.actor, action: 'erase.author', detail: { source, ...c } },
      deps.now(),
    );
    return { ...c };
  });
  await refreshRollups(deps.store, deps.timezone);
  return { kind: 'author', counts };
}

/** `earshot erase --employee <id|email>`: directory rows, identities, activity, interactions, threads. */
export async function eraseEmployee(deps: EraseDeps, ref: string): Promise<EraseResult> {
  if (ref.trim() === '') throw new UserError('--employee: give an employee id or email');
  const counts = await deps.store.write(async (conn) => {
    const c = await eraseEmployeeIn(conn, ref);
    if (c === null) throw new UserError(`--employee: nothing is stored for "${ref}"`, 404);
    await appendAudit(conn, { actor: deps.actor, action: 'erase.employee', detail: c }, deps.now());
    return c;
  });
  // The erasure dropped the report's kept weeks (they counted this person): kept again without them,
  // as after an import, so the next leadership report is not the slow one.
  await warmWeekFigures(deps.store, deps.timezone, deps.logger);
  return { kind: 'employee', counts };
}
