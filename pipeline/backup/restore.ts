/**
 * `earshot restore <dir>`: a backup back into a NEW database file, verified before it appears.
 *
 * Runs in the calling process and never touches the live database, so it works when that file is
 * lost. The restored file is checked (sha256 of the bytes, then every table's row count against the
 * manifest) under a temporary name and renamed into place only when all of it matches; then it is
 * opened as earshot opens a database (pending migrations applied) and the restore is recorded in its
 * own audit log, so the file that goes live says where it came from.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { appendAudit } from '../audit/log.js';
import { errorMessage, UserError } from '../errors.js';
import { migrationsDir } from '../paths.js';
import { Store } from '../store.js';
import { type BackupManifest, existingFolder, MANIFEST, manifestSchema, tableCounts } from './backup.js';
import { type BackupKey, copyIn } from './crypto.js';

export interface RestoreResult {
  from: string;
  to: string;
  createdAt: string;
  encrypted: boolean;
  tables: Record<string, number>;
}

/** The backup folder itself, or the newest backup folder inside `dir`. */
async function findBackup(dir: string): Promise<string> {
  await existingFolder(dir, 'backup folder');
  if (existsSync(join(dir, MANIFEST))) return dir;
  const names = (await readdir(dir)).filter((n) => existsSync(join(dir, n, MANIFEST))).sort();
  const newest = names.at(-1);
  if (!newest) throw new UserError(`${dir} holds no earshot backup (no ${MANIFEST} in it or its folders)`);
  return join(dir, newest);
}

async function readManifest(folder: string): Promise<BackupManifest> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(join(folder, MANIFEST), 'utf8'));
  } catch (err) {
    throw new UserError(`${join(folder, MANIFEST)} is not readable JSON: ${errorMessage(err)}`, 422);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(
      `${join(folder, MANIFEST)} is not an earshot backup manifest: ${issue?.path.join('.') || '(top level)'} ${issue?.message ?? ''}`,
      422,
    );
  }
  return parsed.data;
}

/** Row counts of every table, read from the file opened read-only (nothing in it changes). */
async function countRows(file: string): Promise<Record<string, number>> {
  // Locked down like the live instance: a doctored file gets no file access through its contents.
  const instance = await DuckDBInstance.create(file, {
    access_mode: 'READ_ONLY',
    enable_external_access: 'false',
    autoinstall_known_extensions: 'false',
  });
  try {
    const conn = await instance.connect();
    const [db] = (await conn.runAndReadAll('SELECT current_database()')).getRows();
    const counts = await tableCounts(conn, String(db?.[0]));
    conn.closeSync();
    return counts;
  } finally {
    instance.closeSync();
  }
}

function countDifferences(expected: Record<string, number>, found: Record<string, number>): string[] {
  const names = [...new Set([...Object.keys(expected), ...Object.keys(found)])].sort();
  return names
    .filter((n) => expected[n] !== found[n])
    .map((n) => `${n}: manifest ${expected[n] ?? 'no table'}, file ${found[n] ?? 'no table'}`);
}

export async function restoreBackup(opts: {
  dir: string;
  to: string;
  key: BackupKey | null;
  actor: string;
  now: Date;
}): Promise<RestoreResult> {
  const folder = await findBackup(opts.dir);
  const manifest = await readManifest(folder);
  const known = Math.max(0, ...readdirSync(migrationsDir).map((f) => Number.parseInt(f, 10) || 0));
  if (manifest.schemaVersion > known)
    throw new UserError(
      `the backup in ${folder} has schema version ${manifest.schemaVersion}; this earshot knows up to ${known}: upgrade earshot first`,
    );
  if (existsSync(opts.to) || existsSync(`${opts.to}.wal`))
    throw new UserError(
      `${opts.to} already exists: restore never overwrites a database; choose a new file with --to`,
      409,
    );
  await existingFolder(dirname(opts.to), 'the folder of --to');
  const source = join(folder, manifest.file);
  if (!existsSync(source)) throw new UserError(`${source} is missing: the backup is incomplete`, 422);
  if (manifest.encrypted && !opts.key)
    throw new UserError(
      `the backup in ${folder} is encrypted (key id ${manifest.keyId}): set EARSHOT_BACKUP_KEY to the key it was made with`,
      422,
    );

  const tmp = `${opts.to}.restoring-${randomBytes(6).toString('hex')}`;
  let found: Record<string, number>;
  try {
    const hash = createHash('sha256');
    await copyIn(source, tmp, opts.key, (chunk) => hash.update(chunk));
    if (hash.digest('hex') !== manifest.sha256 || (await stat(tmp)).size !== manifest.bytes)
      throw new UserError(
        `${source} does not match its manifest (sha256 differs): the backup is damaged`,
        422,
      );
    try {
      found = await countRows(tmp);
    } catch (err) {
      throw new UserError(`${source} is not a readable database: ${errorMessage(err)}`, 422, { cause: err });
    }
    const differences = countDifferences(manifest.tables, found);
    if (differences.length > 0)
      throw new UserError(`the restored rows do not match the manifest: ${differences.join('; ')}`, 422);
    if (existsSync(opts.to))
      throw new UserError(`${opts.to} appeared while restoring; nothing replaced`, 409);
    await rename(tmp, opts.to);
  } finally {
    await rm(tmp, { force: true });
    await rm(`${tmp}.wal`, { force: true });
  }

  const store = await Store.open(opts.to);
  try {
    await store.write((conn) =>
      appendAudit(
        conn,
        {
          actor: opts.actor,
          action: 'backup.restore',
          target: opts.to,
          detail: { from: folder, createdAt: manifest.createdAt, encrypted: manifest.encrypted },
        },
        opts.now,
      ),
    );
  } finally {
    await store.closeGracefully();
  }
  return {
    from: folder,
    to: opts.to,
    createdAt: manifest.createdAt,
    encrypted: manifest.encrypted,
    tables: found,
  };
}
