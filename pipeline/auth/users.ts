/**
 * Dashboard users (issue 6, part 4): added, re-roled, given a new password and removed by an admin
 * (or `earshot user ...`), each change committed together with its audit entry. Passwords are kept
 * only as scrypt hashes (password.ts) and never appear in an audit entry, a log or an answer.
 */
import { randomBytes } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ROLES, type Role, type SessionUser } from '../../dashboard/roles.js';
import { appendAudit } from '../audit/log.js';
import { UserError } from '../errors.js';
import { plainRows, type Row, type Store, timestamptz } from '../store.js';
import { checkPassword, hashPassword, MAX_PASSWORD, verifyPassword } from './password.js';

/** Names the system itself signs in as: the local token's caller and the demo role switcher. */
const RESERVED = new Set(['cli', 'demo']);
const NAME = /^[a-z0-9][a-z0-9._@-]{0,63}$/;

export interface UserRecord {
  name: string;
  role: Role;
  createdAt: string;
  lastSignInAt: string | null;
}

export function checkName(name: unknown): string {
  if (typeof name !== 'string' || name === '') throw new UserError('name: give a user name');
  if (!NAME.test(name))
    throw new UserError(
      `name: "${name.slice(0, 80)}" is not a user name; use 1-64 lowercase letters, digits, ".", "_", "-" or "@", starting with a letter or digit`,
    );
  if (RESERVED.has(name)) throw new UserError(`name: "${name}" is reserved for earshot itself; pick another`);
  return name;
}

export function checkRole(role: unknown): Role {
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role))
    throw new UserError(`role: use one of ${ROLES.join(', ')}`);
  return role as Role;
}

function toRecord(r: Row): UserRecord {
  return {
    name: String(r.name),
    role: r.role as Role,
    createdAt: (r.created_at as Date).toISOString(),
    lastSignInAt: r.last_sign_in_at instanceof Date ? r.last_sign_in_at.toISOString() : null,
  };
}

const COLUMNS = 'name, role, created_at, last_sign_in_at';

async function findUser(conn: DuckDBConnection, name: string): Promise<UserRecord> {
  const rows = plainRows(await conn.runAndReadAll(`SELECT ${COLUMNS} FROM users WHERE name = $1`, [name]));
  if (!rows[0]) throw new UserError(`no user "${name}"`, 404);
  return toRecord(rows[0]);
}

/** Refuses to leave the installation without an admin (nobody could manage users any more). */
async function keepAnAdmin(conn: DuckDBConnection, user: UserRecord, change: string): Promise<void> {
  if (user.role !== 'admin') return;
  const rows = plainRows(await conn.runAndReadAll("SELECT count(*) AS n FROM users WHERE role = 'admin'"));
  if (Number(rows[0]?.n) <= 1)
    throw new UserError(
      `${user.name} is the last admin and cannot be ${change}; make another user admin first`,
      409,
    );
}

export async function listUsers(store: Store): Promise<UserRecord[]> {
  return (await store.query(`SELECT ${COLUMNS} FROM users ORDER BY name`)).map(toRecord);
}

export async function addUser(
  store: Store,
  args: { name: unknown; role: unknown; password: unknown },
  actor: string,
  now: Date,
): Promise<UserRecord> {
  const name = checkName(args.name);
  const role = checkRole(args.role);
  const hash = await hashPassword(checkPassword(args.password));
  return store.write(async (conn) => {
    const exists = await conn.runAndReadAll('SELECT 1 FROM users WHERE name = $1', [name]);
    if (exists.currentRowCount > 0) throw new UserError(`name: user "${name}" already exists`, 409);
    await conn.run(
      'INSERT INTO users (name, role, password_hash, created_at, last_sign_in_at) VALUES ($1, $2, $3, $4, NULL)',
      [name, role, hash, timestamptz(now)],
    );
    await appendAudit(conn, { actor, action: 'user.add', target: name, detail: { role } }, now);
    return findUser(conn, name);
  });
}

/**
 * Changes a user's role and/or password in one transaction. A new password signs the user out
 * everywhere; a new role applies to open sessions at once (sessions read the role per request).
 */
export async function updateUser(
  store: Store,
  name: string,
  changes: { role?: unknown; password?: unknown },
  actor: string,
  now: Date,
): Promise<UserRecord> {
  if (changes.role === undefined && changes.password === undefined)
    throw new UserError('give a new role or password');
  const role = changes.role === undefined ? undefined : checkRole(changes.role);
  const hash =
    changes.password === undefined ? undefined : await hashPassword(checkPassword(changes.password));
  return store.write(async (conn) => {
    const before = await findUser(conn, name);
    if (role !== undefined && role !== before.role) {
      if (role !== 'admin') await keepAnAdmin(conn, before, `made ${role}`);
      await conn.run('UPDATE users SET role = $1 WHERE name = $2', [role, name]);
      await appendAudit(
        conn,
        { actor, action: 'user.role', target: name, detail: { from: before.role, to: role } },
        now,
      );
    }
    if (hash !== undefined) {
      await conn.run('UPDATE users SET password_hash = $1 WHERE name = $2', [hash, name]);
      await conn.run('DELETE FROM sessions WHERE user_name = $1', [name]);
      await appendAudit(conn, { actor, action: 'user.password', target: name }, now);
    }
    return findUser(conn, name);
  });
}

export async function removeUser(store: Store, name: string, actor: string, now: Date): Promise<void> {
  await store.write(async (conn) => {
    const user = await findUser(conn, name);
    await keepAnAdmin(conn, user, 'removed');
    await conn.run('DELETE FROM sessions WHERE user_name = $1', [name]);
    await conn.run('DELETE FROM users WHERE name = $1', [name]);
    await appendAudit(conn, { actor, action: 'user.remove', target: name, detail: { role: user.role } }, now);
  });
}

/** A hash of a random password, checked against when the name is unknown: both paths do one scrypt. */
let decoy: Promise<string> | undefined;

/**
 * The user when `password` is theirs, else null. Unknown names cost the same scrypt work as known
 * ones, so the answer time does not tell which names exist. `hash` lets the caller confirm, inside
 * its transaction, that the password was not changed meanwhile.
 */
export async function authenticate(
  store: Store,
  name: unknown,
  password: unknown,
): Promise<{ user: SessionUser; hash: string } | null> {
  const given = typeof password === 'string' && password.length <= MAX_PASSWORD ? password : '';
  const rows =
    typeof name === 'string' && NAME.test(name)
      ? await store.query('SELECT name, role, password_hash FROM users WHERE name = $1', [name])
      : [];
  const row = rows[0];
  decoy ??= hashPassword(randomBytes(24).toString('base64'));
  const hash = row ? String(row.password_hash) : await decoy;
  const ok = await verifyPassword(given, hash);
  return ok && row ? { user: { name: String(row.name), role: row.role as Role }, hash } : null;
}
