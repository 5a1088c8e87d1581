/**
 * `earshot backup <dir>`: a consistent copy of the live database, taken while the server runs.
 *
 * The file is copied between two transactions of the Store's write queue (see snapshot), into
 * earshot's backups folder. Measured against ATTACH + COPY FROM DATABASE (one MVCC snapshot, writes
 * never wait) with `npm run bench:backup`: both are consistent (tests/backup/backup.test.ts copies
 * under concurrent writes), but COPY FROM DATABASE rebuilds every table and index and took about
 * 100 times longer (10 s against 0.1 s for 200,000 mentions), while the file copy holds writes back
 * only for as long as copying the file takes. The copy is then moved (encrypted when a key is set)
 * into `<dir>` beside a manifest, and backups older than the configured number of days are removed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
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

/**
 * Copies the live database into `file` (in the backups folder) and returns the copy's row counts.
 * Every write goes through the Store's queue and DuckDB checkpoints only when a write commits, so
 * while the queue is held the file and its WAL stand still.
 */
async function snapshot(
  store: Store,
  file: string,
): Promise<{ tables: Record<string, number>; schemaVersion: number; duckdbVersion: string }> {
  if (store.path === ':memory:') throw new UserError('an in-memory database has no file to back up');
  const conn = await store.connect();
  const alias = `earshot_backup_${randomBytes(4).toString('hex')}`;
  try {
    // Holding the write queue, nothing changes the file or its WAL: the pair is one committed state.
    await store.write(async () => {
      await copyFile(store.path, file);
      if (existsSync(`${store.path}.wal`)) await copyFile(`${store.path}.wal`, `${file}.wal`);
    });
    // Attaching replays the WAL into the copy and CHECKPOINT folds it in: one self-contained file.
    await conn.run(`ATTACH ${sqlText(file)} AS ${alias}`);
    try {
      // Counted in the copy itself: these are the numbers restore must find again.
      const tables = await tableCounts(conn, alias);
      const [row] = (
        await conn.runAndReadAll(
          `SELECT coalesce(max(version), 0), version() FROM ${alias}.schema_migrations`,
        )
      ).getRows();
      await conn.run(`CHECKPOINT ${alias}`);
      return { tables, schemaVersion: Number(row?.[0]), duckdbVersion: String(row?.[1]) };
    } finally {
      await conn.run(`DETACH ${alias}`);
    }
  } finally {
    store.release(conn);
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
