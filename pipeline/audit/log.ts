/**
 * The audit log (issue 7, part 6): sign-ins, role changes, config and topic changes, SQL console
 * queries, exports, erasures, retention runs. Append-only and hash-chained; details are redacted
 * so no secret ever lands here.
 */
import { createHash } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { redact } from '../secrets.js';
import { plainRows, type Row, type Store, timestamptz } from '../store.js';

export interface AuditEntry {
  actor: string;
  action: string;
  target?: string | null;
  detail?: Record<string, unknown> | null;
}

export interface AuditRecord {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  detail: Record<string, unknown> | null;
}

const GENESIS = '0'.repeat(64);

function entryHash(
  prev: string,
  at: Date,
  e: { actor: string; action: string; target: string | null; detail: string | null },
): string {
  return createHash('sha256')
    .update(JSON.stringify([prev, at.toISOString(), e.actor, e.action, e.target, e.detail]))
    .digest('hex');
}

/**
 * Appends one entry inside the caller's transaction (`store.write(conn => ...)`), so the entry and
 * the change it records commit together or not at all.
 */
export async function appendAudit(
  conn: DuckDBConnection,
  entry: AuditEntry,
  at: Date = new Date(),
): Promise<void> {
  const last = plainRows(await conn.runAndReadAll('SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1'));
  const prev = last[0] ? String(last[0].hash) : GENESIS;
  const target = entry.target ?? null;
  const detail = entry.detail ? redact(JSON.stringify(entry.detail)) : null;
  const actor = redact(entry.actor);
  const hash = entryHash(prev, at, { actor, action: entry.action, target, detail });
  await conn.run(
    'INSERT INTO audit_log ("at", actor, action, target, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5::JSON, $6, $7)',
    [timestamptz(at), actor, entry.action, target, detail, prev, hash],
  );
}

/** Appends one entry in its own transaction. */
export function recordAudit(store: Store, entry: AuditEntry, at: Date = new Date()): Promise<void> {
  return store.write((conn) => appendAudit(conn, entry, at));
}

function toRecord(r: Row): AuditRecord {
  return {
    id: Number(r.id),
    at: (r.at as Date).toISOString(),
    actor: String(r.actor),
    action: String(r.action),
    target: r.target === null ? null : String(r.target),
    detail: r.detail === null ? null : (JSON.parse(String(r.detail)) as Record<string, unknown>),
  };
}

/** Newest first, optionally one action prefix ('auth.') and before an id (paging). */
export async function listAudit(
  store: Store,
  opts: { action?: string; beforeId?: number; limit?: number } = {},
): Promise<AuditRecord[]> {
  const rows = await store.query(
    `SELECT id, "at", actor, action, target, detail::VARCHAR AS detail FROM audit_log
     WHERE ($action IS NULL OR starts_with(action, $action)) AND ($before IS NULL OR id < $before)
     ORDER BY id DESC LIMIT ${Math.min(Math.max(opts.limit ?? 100, 1), 1000)}`,
    { action: opts.action ?? null, before: opts.beforeId ?? null },
  );
  return rows.map(toRecord);
}

/** Walks the chain; returns the first entry that does not match, or null when the log is intact. */
export async function verifyAudit(store: Store): Promise<{ entries: number; brokenAt: number | null }> {
  const rows = await store.query(
    'SELECT id, "at", actor, action, target, detail::VARCHAR AS detail, prev_hash, hash FROM audit_log ORDER BY id',
  );
  let prev = GENESIS;
  for (const r of rows) {
    const target = r.target === null ? null : String(r.target);
    const detail = r.detail === null ? null : String(r.detail);
    const expected = entryHash(prev, r.at as Date, {
      actor: String(r.actor),
      action: String(r.action),
      target,
      detail,
    });
    if (String(r.prev_hash) !== prev || String(r.hash) !== expected)
      return { entries: rows.length, brokenAt: Number(r.id) };
    prev = expected;
  }
  return { entries: rows.length, brokenAt: null };
}
