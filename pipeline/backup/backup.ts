/**
 * `earshot backup <dir>`: a consistent copy of the live database, taken while the server runs.
 *
 * The copy is DuckDB's COPY FROM DATABASE into a new file ATTACHed in earshot's backups folder (the
 * only place the locked instance may write). It is one statement, so it reads one MVCC snapshot:
 * writes go on meanwhile and none is half in the copy (tests/backup/backup.test.ts proves it under
 * concurrent writes). The copy is then moved (encrypted when a key is set) into `<dir>` beside a
 * manifest, and backups older than the configured number of days are removed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { z } from 'zod';
import { sqlText } from '../adoption/population.js';
import { appendAudit } from '../audit/log.js';
import { UserError } from '../errors.js';
import { projectRoot } from '../paths.js';
import { type Store, storeFolders } from '../store.js';
import { type BackupKey, copyOut, ENCRYPTED_SUFFIX } from './crypto.js';

export const MANIFEST = 'manifest.json';
const DATABASE_FILE = 'earshot.duckdb';
/** Backup folders are named by their creation instant, so names sort by age. */
const BACKUP_NAME = /^earshot-\d{8}T\d{9}Z$/;

export const manifestSchema = z.object({
  format: z.literal(1),
  earshotVersion: z.string(),
  schemaVersion: z.number().int(),
  duckdbVersion: z.string(),
  createdAt: z.iso.datetime(),
  /** The database file in this folder, `earshot.duckdb` or `earshot.duckdb.enc`. */
  file: z.string().regex(/^earshot\.duckdb(\.enc)?$/),
  encrypted: z.boolean(),
  keyId: z.string().nullable(),
  /** Of the database file before encryption (what restore gets back after decrypting). */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
  tables: z.record(z.string(), z.number().int().nonnegative()),
});
export type BackupManifest = z.infer<typeof manifestSchema>;

export interface BackupResult {
  folder: string;
  manifest: BackupManifest;
  /** Backup folders removed because they were older than keepDays. */
  pruned: string[];
}

const earshotVersion = (
  JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }
).version;

/** `path` must be an existing folder; `what` names it in the message. Nothing is created. */
export async function existingFolder(path: string, what: string): Promise<void> {
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch {
    throw new UserError(`${what} ${path} does not exist; create it first`);
  }
  if (!isDir) throw new UserError(`${what} ${path} is a file, not a folder`);
}

/** Rows per table of one database the connection sees (`database` as DuckDB names it). */
export async function tableCounts(conn: DuckDBConnection, database: string): Promise<Record<string, number>> {
  const names = (
    await conn.runAndReadAll(
      `SELECT table_name FROM duckdb_tables() WHERE database_name = ${sqlText(database)} ORDER BY table_name`,
    )
  ).getRows();
  const counts: Record<string, number> = {};
  for (const [name] of names) {
    const [row] = (
      await conn.runAndReadAll(`SELECT count(*) FROM "${database}"."${String(name)}"`)
    ).getRows();
    counts[String(name)] = Number(row?.[0]);
  }
  return counts;
}

/** 2026-11-23T01:15:00.123Z -> earshot-20261123T011500123Z */
function backupName(at: Date): string {
  return `earshot-${at.toISOString().replace(/[-:.]/g, '')}`;
}

/** Copies the live database into a new file in the backups folder; returns its row counts. */
async function snapshot(
  store: Store,
  file: string,
): Promise<{ tables: Record<string, number>; schemaVersion: number; duckdbVersion: string }> {
  const conn = await store.connect();
  const alias = `earshot_backup_${randomBytes(4).toString('hex')}`;
  try {
    const [db] = (await conn.runAndReadAll('SELECT current_database(), version()')).getRows();
    await conn.run(`ATTACH ${sqlText(file)} AS ${alias}`);
    try {
      await conn.run(`COPY FROM DATABASE "${String(db?.[0])}" TO ${alias}`);
      // Counted in the copy itself: these are the numbers restore must find again.
      const tables = await tableCounts(conn, alias);
      const [version] = (
        await conn.runAndReadAll(`SELECT coalesce(max(version), 0) FROM ${alias}.schema_migrations`)
      ).getRows();
      return { tables, schemaVersion: Number(version?.[0]), duckdbVersion: String(db?.[1]) };
    } finally {
      await conn.run(`DETACH ${alias}`);
    }
  } finally {
    conn.closeSync();
  }
}

/** Removes backup folders in `dir` made more than `keepDays` before `now`; only earshot's own. */
export async function pruneBackups(dir: string, keepDays: number, now: Date): Promise<string[]> {
  const cutoff = now.getTime() - keepDays * 86_400_000;
  const pruned: string[] = [];
  for (const name of (await readdir(dir)).filter((n) => BACKUP_NAME.test(n)).sort()) {
    let createdAt: number;
    try {
      const manifest = manifestSchema.parse(JSON.parse(await readFile(join(dir, name, MANIFEST), 'utf8')));
      createdAt = Date.parse(manifest.createdAt);
    } catch {
      continue; // not a backup we can date: never delete what we cannot vouch for
    }
    if (createdAt < cutoff) {
      await rm(join(dir, name), { recursive: true, force: true });
      pruned.push(name);
    }
  }
  return pruned;
}

/** Takes a backup into a new folder of `dir`, records it in the audit log, prunes expired ones. */
export async function createBackup(
  store: Store,
  opts: { dir: string; key: BackupKey | null; keepDays: number; now: Date; actor: string },
): Promise<BackupResult> {
  await existingFolder(opts.dir, 'backup folder');
  const staging = storeFolders(store.path).backups;
  await mkdir(staging, { recursive: true });
  const stagingFile = join(staging, `.staging-${randomBytes(6).toString('hex')}.duckdb`);
  const name = backupName(opts.now);
  const partial = join(opts.dir, `.${name}.partial`);
  try {
    const copy = await snapshot(store, stagingFile);
    await mkdir(partial);
    const file = opts.key ? `${DATABASE_FILE}${ENCRYPTED_SUFFIX}` : DATABASE_FILE;
    const hash = createHash('sha256');
    let bytes = 0;
    await copyOut(stagingFile, join(partial, file), opts.key, (chunk) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    const manifest: BackupManifest = {
      format: 1,
      earshotVersion,
      schemaVersion: copy.schemaVersion,
      duckdbVersion: copy.duckdbVersion,
      createdAt: opts.now.toISOString(),
      file,
      encrypted: opts.key !== null,
      keyId: opts.key?.id ?? null,
      sha256: hash.digest('hex'),
      bytes,
      tables: copy.tables,
    };
    await writeFile(join(partial, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    // The folder appears under its final name complete, or not at all.
    await rename(partial, join(opts.dir, name));
    const pruned = await pruneBackups(opts.dir, opts.keepDays, opts.now);
    await store.write((conn) =>
      appendAudit(
        conn,
        {
          actor: opts.actor,
          action: 'backup.create',
          target: join(opts.dir, name),
          detail: { encrypted: manifest.encrypted, keyId: manifest.keyId, bytes, pruned },
        },
        opts.now,
      ),
    );
    return { folder: join(opts.dir, name), manifest, pruned };
  } finally {
    await rm(stagingFile, { force: true });
    await rm(`${stagingFile}.wal`, { force: true });
    await rm(partial, { recursive: true, force: true });
  }
}
