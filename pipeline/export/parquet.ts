/**
 * `earshot export --parquet <dir>`: the datasets of ./datasets.ts as Hive-partitioned Parquet that
 * MotherDuck, DuckLake, Spark, Trino or ClickHouse read as they are.
 *
 * Incremental: the manifest keeps, per partition, its row count and a fingerprint DuckDB computes
 * (bit_xor of every row's hash). A later export rewrites only partitions whose fingerprint changed
 * or that are new, and deletes partitions that no longer exist, so erasure, retention, upstream
 * deletions and engagement updates reach the export and no erased row lives on in it. Every file is
 * replaced atomically (temp + rename) and the manifest is written last, so a crash mid-export leaves
 * each file whole: the previous export stays readable and the next one repairs the rest.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, rmdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { z } from 'zod';
import { sqlText } from '../adoption/population.js';
import { recordAudit } from '../audit/log.js';
import { existingFolder } from '../backup/backup.js';
import { type BackupKey, copyOut, ENCRYPTED_SUFFIX, writeAtomically } from '../backup/crypto.js';
import { errorMessage, UserError } from '../errors.js';
import { plainRows, type Store, storeFolders } from '../store.js';
import { type Dataset, datasets } from './datasets.js';

export const EXPORT_MANIFEST = 'manifest.json';

const partitionSchema = z.object({
  rows: z.number().int().nonnegative(),
  fingerprint: z.string(),
  // Names DuckDB gives (FILENAME_PATTERN part_{i}), nothing else: a forged '' or '../x' would make a
  // partition look intact while its real file is deleted as unlisted.
  files: z.array(z.string().regex(/^part_\d{1,6}\.parquet(\.enc)?$/)).min(1),
});
const manifestSchema = z.object({
  format: z.literal(1),
  duckdbVersion: z.string(),
  encrypted: z.boolean(),
  keyId: z.string().nullable(),
  updatedAt: z.string(),
  datasets: z.record(
    z.string(),
    z.object({ partitionBy: z.array(z.string()), partitions: z.record(z.string(), partitionSchema) }),
  ),
});
export type ExportManifest = z.infer<typeof manifestSchema>;
type Partition = z.infer<typeof partitionSchema>;

export interface DatasetOutcome {
  partitions: number;
  rows: number;
  written: string[];
  deleted: string[];
}

export interface ExportResult {
  dir: string;
  encrypted: boolean;
  datasets: Record<string, DatasetOutcome>;
}

/** Partition values become folder names: only plain ones, so a path can never leave the folder. */
const SAFE_VALUE = /^[A-Za-z0-9_.-]+$/;

async function readPreviousManifest(dir: string): Promise<ExportManifest | null> {
  const path = join(dir, EXPORT_MANIFEST);
  if (!existsSync(path)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new UserError(
      `${path} is not readable JSON (${errorMessage(err)}): is ${dir} an earshot export?`,
      422,
    );
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success)
    throw new UserError(
      `${path} is not an earshot export manifest; export into an empty folder instead`,
      422,
    );
  return parsed.data;
}

/**
 * Partition path -> rows and fingerprint, in the transaction's snapshot. A dataset without partition
 * columns is one partition at the dataset's folder itself (path ''), absent when it has no rows.
 */
async function fingerprints(conn: DuckDBConnection, ds: Dataset): Promise<Map<string, Partition>> {
  const keys = ds.partitionBy.map((k) => `"${k}"`).join(', ');
  const rows = plainRows(
    await conn.runAndReadAll(
      keys
        ? `SELECT ${keys}, count(*) AS n, bit_xor(hash(d))::VARCHAR AS fp FROM (${ds.sql}) d GROUP BY ${keys}`
        : `SELECT count(*) AS n, bit_xor(hash(d))::VARCHAR AS fp FROM (${ds.sql}) d HAVING count(*) > 0`,
    ),
  );
  const out = new Map<string, Partition>();
  for (const r of rows) {
    const values = ds.partitionBy.map((k) => String(r[k]));
    const bad = values.find((v) => !SAFE_VALUE.test(v));
    if (bad !== undefined)
      throw new UserError(`${ds.name}: partition value "${bad}" cannot name a folder`, 500);
    const path = ds.partitionBy.map((k, i) => `${k}=${values[i]}`).join('/');
    out.set(path, { rows: Number(r.n), fingerprint: String(r.fp), files: [] });
  }
  return out;
}

/**
 * Writes the given partitions of `ds` with one scan, into `staging/<partition path>/part_N.parquet`;
 * `all` when every partition changed (a first export), which needs no filter. Unpartitioned: the
 * whole dataset into `staging/part_0.parquet`.
 */
async function writeStaging(
  conn: DuckDBConnection,
  ds: Dataset,
  paths: string[],
  all: boolean,
  staging: string,
): Promise<void> {
  const keys = ds.partitionBy.map((k) => `"${k}"`).join(', ');
  if (!keys) {
    await mkdir(staging, { recursive: true });
    await conn.run(`COPY (${ds.sql}) TO ${sqlText(join(staging, 'part_0.parquet'))} (FORMAT parquet)`);
    return;
  }
  const values = paths.map(
    (p) =>
      `(${p
        .split('/')
        .map((kv) => sqlText(kv.slice(kv.indexOf('=') + 1)))
        .join(', ')})`,
  );
  const on = ds.partitionBy.map((k) => `d."${k}" = v."${k}"`).join(' AND ');
  const filter = all ? '' : `SEMI JOIN (VALUES ${values.join(', ')}) v(${keys}) ON ${on}`;
  await conn.run(
    `COPY (SELECT d.* FROM (${ds.sql}) d ${filter}) TO ${sqlText(staging)}
     (FORMAT parquet, PARTITION_BY (${keys}), FILENAME_PATTERN 'part_{i}')`,
  );
}

/** Every file under `dir`, as paths relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

/** Removes folders left empty under `dir` (deepest first), keeping `dir`. */
async function removeEmptyFolders(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  const folders = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => join(e.parentPath, e.name))
    .sort((a, b) => b.length - a.length);
  for (const f of folders) if ((await readdir(f)).length === 0) await rmdir(f);
}

export async function exportParquet(
  store: Store,
  opts: { dir: string; key: BackupKey | null; now: Date; actor: string },
): Promise<ExportResult> {
  await existingFolder(opts.dir, 'export folder');
  const previous = await readPreviousManifest(opts.dir);
  const staging = join(storeFolders(store.path).exports, `.staging-${randomBytes(6).toString('hex')}`);
  await mkdir(staging, { recursive: true });
  const conn = await store.connect();
  const suffix = opts.key ? ENCRYPTED_SUFFIX : '';
  const result: ExportResult = { dir: opts.dir, encrypted: opts.key !== null, datasets: {} };
  try {
    // One read transaction: the fingerprints and the files are of the same snapshot.
    await conn.run('BEGIN TRANSACTION');
    const [version] = (await conn.runAndReadAll('SELECT version()')).getRows();
    const duckdbVersion = String(version?.[0]);
    // Fingerprints are DuckDB hashes, and the files' form depends on the key: trust the previous
    // manifest only when both are unchanged.
    const reusable =
      previous &&
      previous.duckdbVersion === duckdbVersion &&
      previous.encrypted === (opts.key !== null) &&
      previous.keyId === (opts.key?.id ?? null)
        ? previous
        : null;
    const manifest: ExportManifest = {
      format: 1,
      duckdbVersion,
      encrypted: opts.key !== null,
      keyId: opts.key?.id ?? null,
      updatedAt: opts.now.toISOString(),
      datasets: {},
    };
    const pending: { ds: Dataset; changed: string[] }[] = [];
    for (const ds of datasets) {
      const current = await fingerprints(conn, ds);
      const before = reusable?.datasets[ds.name]?.partitions ?? {};
      const changed: string[] = [];
      for (const [path, part] of current) {
        const old = before[path];
        const intact =
          old?.rows === part.rows &&
          old.fingerprint === part.fingerprint &&
          old.files.every((f) => existsSync(join(opts.dir, ds.name, path, f)));
        if (intact) part.files = old.files;
        else changed.push(path);
      }
      if (changed.length > 0)
        await writeStaging(conn, ds, changed, changed.length === current.size, join(staging, ds.name));
      manifest.datasets[ds.name] = {
        partitionBy: [...ds.partitionBy],
        partitions: Object.fromEntries(current),
      };
      pending.push({ ds, changed });
      result.datasets[ds.name] = {
        partitions: current.size,
        rows: [...current.values()].reduce((a, p) => a + p.rows, 0),
        written: changed,
        deleted: Object.keys(previous?.datasets[ds.name]?.partitions ?? {}).filter((p) => !current.has(p)),
      };
    }
    await conn.run('COMMIT');

    for (const { ds, changed } of pending) {
      const entry = manifest.datasets[ds.name];
      for (const path of changed) {
        const part = entry?.partitions[path];
        const files = (await filesUnder(join(staging, ds.name, path))).sort();
        if (!part || files.length === 0) throw new Error(`${ds.name}/${path}: DuckDB wrote no file`);
        await mkdir(join(opts.dir, ds.name, path), { recursive: true });
        for (const f of files)
          await copyOut(join(staging, ds.name, path, f), join(opts.dir, ds.name, path, f + suffix), opts.key);
        part.files = files.map((f) => f + suffix);
      }
      // Whatever is not in the new manifest goes: vanished partitions (erased, expired, deleted
      // upstream), files of the other form (key added or removed), leftovers of a crashed export.
      const keep = new Set(
        Object.entries(entry?.partitions ?? {}).flatMap(([path, p]) => p.files.map((f) => join(path, f))),
      );
      for (const f of await filesUnder(join(opts.dir, ds.name)))
        if (!keep.has(f)) await rm(join(opts.dir, ds.name, f), { force: true });
      await removeEmptyFolders(join(opts.dir, ds.name));
    }
    await writeAtomically(join(opts.dir, EXPORT_MANIFEST), (out) =>
      out.writeFile(`${JSON.stringify(manifest, null, 2)}\n`),
    );
  } catch (err) {
    await conn.run('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    store.release(conn);
    await rm(staging, { recursive: true, force: true });
  }
  await recordAudit(
    store,
    {
      actor: opts.actor,
      action: 'export.parquet',
      target: opts.dir,
      detail: {
        encrypted: result.encrypted,
        written: Object.fromEntries(Object.entries(result.datasets).map(([k, d]) => [k, d.written.length])),
        deleted: Object.fromEntries(Object.entries(result.datasets).map(([k, d]) => [k, d.deleted.length])),
      },
    },
    opts.now,
  );
  return result;
}
