/**
 * Browser sessions (issue 6, part 4). The cookie holds a random token; the database keeps only its
 * SHA-256, with a CSRF synchronizer token per session. A session ends after IDLE_MS without a
 * request or ABSOLUTE_MS after sign-in, whichever comes first. Sign-in, sign-out and failed
 * attempts are audited; no token or password is ever written to the audit log.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Role, SessionUser } from '../../dashboard/roles.js';
import { appendAudit, recordAudit } from '../audit/log.js';
import { perWrite, type Row, type Store, timestamptz } from '../store.js';
import { authenticate } from './users.js';

export const IDLE_MS = 12 * 3_600_000;
export const ABSOLUTE_MS = 7 * 86_400_000;
/** last_seen_at is rewritten at most this often, so reading pages does not queue a write each time. */
const TOUCH_MS = 60_000;

export interface Session {
  user: SessionUser;
  csrf: string;
  tokenHash: string;
}

/** A new session: the token goes in the cookie and nowhere else. */
export interface NewSession {
  user: SessionUser;
  csrf: string;
  token: string;
}

export const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');
const randomToken = () => randomBytes(32).toString('base64url');

/** Who an audit entry names: the user, or `demo:<role>` for the demo role switcher. */
export function actorOf(user: SessionUser): string {
  return user.name === 'demo' ? `demo:${user.role}` : user.name;
}

async function insertSession(
  conn: DuckDBConnection,
  user: SessionUser,
  demoRole: Role | null,
  now: Date,
  replaces: string | null,
): Promise<NewSession> {
  const token = randomToken();
  const csrf = randomToken();
  // Expired sessions of anyone go at each sign-in: the table stays as small as the signed-in users.
  await conn.run('DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2 OR token_hash = $3', [
    timestamptz(now),
    timestamptz(new Date(now.getTime() - IDLE_MS)),
    replaces ?? '',
  ]);
  await conn.run(
    `INSERT INTO sessions (token_hash, user_name, demo_role, csrf_token, created_at, last_seen_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $5, $6)`,
    [
      tokenHash(token),
      user.name,
      demoRole,
      csrf,
      timestamptz(now),
      timestamptz(new Date(now.getTime() + ABSOLUTE_MS)),
    ],
  );
  return { user, csrf, token };
}

/**
 * Checks the password and opens a session, or returns null (wrong name or password, audited as
 * auth.sign_in_failed). `replaces` is the token hash of the browser's previous session, ended here.
 */
export async function signIn(
  store: Store,
  args: { name: unknown; password: unknown },
  now: Date,
  replaces: string | null = null,
): Promise<NewSession | null> {
  const found = await authenticate(store, args.name, args.password);
  const opened =
    found &&
    (await store.write(async (conn) => {
      // The password may have changed, or the user gone, while scrypt ran outside the transaction.
      const still = await conn.runAndReadAll('SELECT 1 FROM users WHERE name = $1 AND password_hash = $2', [
        found.user.name,
        found.hash,
      ]);
      if (still.currentRowCount === 0) return null;
      await conn.run('UPDATE users SET last_sign_in_at = $1 WHERE name = $2', [
        timestamptz(now),
        found.user.name,
      ]);
      const session = await insertSession(conn, found.user, null, now, replaces);
      await appendAudit(
        conn,
        { actor: found.user.name, action: 'auth.sign_in', target: found.user.name },
        now,
      );
      return session;
    }));
  if (opened) return opened;
  // The attempted name is recorded only when it is a user's: people type passwords into the name field.
  const known =
    typeof args.name === 'string' &&
    (await store.query('SELECT 1 FROM users WHERE name = $1', [args.name])).length > 0;
  await recordAudit(
    store,
    {
      actor: known ? String(args.name) : 'anonymous',
      action: 'auth.sign_in_failed',
      target: known ? String(args.name) : null,
      detail: { reason: known ? 'wrong password' : 'unknown name' },
    },
    now,
  );
  return null;
}

/** The demo role switcher: a session as user "demo" acting as `role`. Only for a demo database. */
export function signInDemo(
  store: Store,
  role: Role,
  now: Date,
  replaces: string | null = null,
): Promise<NewSession> {
  const user: SessionUser = { name: 'demo', role };
  return store.write(async (conn) => {
    const session = await insertSession(conn, user, role, now, replaces);
    await appendAudit(
      conn,
      { actor: actorOf(user), action: 'auth.sign_in', target: 'demo', detail: { role } },
      now,
    );
    return session;
  });
}

// Cap on the tokens remembered between two writes: unknown tokens are remembered too (as null),
// and a flood of them must not grow the map without end.
const REMEMBERED = 10_000;

/**
 * Session rows (with their user's role) read since the last committed write, by token hash: every
 * change to a session or a user (sign-in, sign-out, role, password, removal, touch) is a write, so
 * until the next one a row read before is still the row. Expiry depends on the time only and is
 * checked on every request. The query cost about 1.6 ms of CPU on every request of a signed-in
 * browser, three times the whole of a cheap route's (bench:dashboard).
 */
const sessionRows = perWrite(async () => new Map<string, Row | null>());

/** The live session of a cookie token, or null (unknown, idle too long, past its end, user removed). */
export async function findSession(store: Store, token: string, now: Date): Promise<Session | null> {
  const hash = tokenHash(token);
  const rows = await sessionRows(store);
  let row = rows.get(hash);
  if (row === undefined) {
    [row = null] = await store.query(
      `SELECT s.user_name, coalesce(s.demo_role, u.role) AS role, s.csrf_token, s.last_seen_at, s.expires_at
       FROM sessions s LEFT JOIN users u ON u.name = s.user_name
       WHERE s.token_hash = $hash AND (s.demo_role IS NOT NULL OR u.name IS NOT NULL)`,
      { hash },
    );
    if (rows.size < REMEMBERED) rows.set(hash, row);
  }
  if (row === null) return null;
  const lastSeen = (row.last_seen_at as Date).getTime();
  if ((row.expires_at as Date).getTime() <= now.getTime() || lastSeen <= now.getTime() - IDLE_MS) return null;
  if (now.getTime() - lastSeen >= TOUCH_MS)
    await store.write((conn) =>
      conn.run('UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2', [timestamptz(now), hash]),
    );
  return {
    user: { name: String(row.user_name), role: row.role as Role },
    csrf: String(row.csrf_token),
    tokenHash: hash,
  };
}

/** Signs out: the session row goes, with an auth.sign_out entry. */
export async function endSession(store: Store, session: Session, now: Date): Promise<void> {
  await store.write(async (conn) => {
    await conn.run('DELETE FROM sessions WHERE token_hash = $1', [session.tokenHash]);
    await appendAudit(
      conn,
      { actor: actorOf(session.user), action: 'auth.sign_out', target: session.user.name },
      now,
    );
  });
}
