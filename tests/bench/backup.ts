/**
 * npm run bench:backup [-- --rows N]
 *
 * How to copy the live database while it runs, measured on N synthetic mentions (default 500,000,
 * with scores and topics) in a temp file:
 *   copy-db     ATTACH a new file, COPY FROM DATABASE (one MVCC snapshot; writes go on meanwhile)
 *   file-copy   what `earshot backup` does instead: hold the Store's write queue and copy the file
 *               and its WAL with node:fs (writes wait while the file is copied)
 * then `earshot backup` as a whole, plain and encrypted, and `earshot export --parquet` in full,
 * again with nothing changed, and after one mention changed. Wall-clock on a shared machine: the
 * figures are noisy.
 */
import { copyFile, mkdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackup } from '../../pipeline/backup/backup.js';
import { parseBackupKey } from '../../pipeline/backup/crypto.js';
import { errorMessage } from '../../pipeline/errors.js';
import { exportParquet } from '../../pipeline/export/parquet.js';
import { Secret } from '../../pipeline/secrets.js';
import { storeFolders } from '../../pipeline/store.js';
import { openBenchStore } from './store.js';

const rowsArg = process.argv.indexOf('--rows');
const ROWS = rowsArg > 0 ? Number(process.argv[rowsArg + 1]) : 500_000;
const dir = join(tmpdir(), `earshot-bench-backup-${process.pid}`);
await rm(dir, { recursive: true, force: true });
await mkdir(dir);
const store = await openBenchStore(join(dir, 'live.duckdb'));
const folders = storeFolders(store.path);
await mkdir(folders.backups, { recursive: true });

await store.write(async (c) => {
  await c.run(
    `INSERT INTO mentions SELECT ['x', 'rss', 'reddit'][1 + i % 3], 'n' || i, 'q', NULL, 'https://example.com/' || i,
       NULL, repeat('word ', 20 + i % 40), 'en', 'a' || (i % 5000), 'h' || (i % 5000), NULL, i % 10000,
       TIMESTAMPTZ '2026-01-01 00:00:00+00' + (i % 300) * INTERVAL 1 DAY + i * INTERVAL 1 SECOND, false,
       now(), now(), i % 100, 0, 0, NULL, NULL, NULL, false, NULL, '{"k": 1}'
     FROM range(${ROWS}) t(i)`,
  );
  await c.run(
    `INSERT INTO mention_scores SELECT source, native_id, 'en', 'platform', 'neutral', 0, 'en-linear@1',
       NULL, NULL, url, NULL, now() FROM mentions`,
  );
  await c.run(`INSERT INTO mention_topics SELECT source, native_id, 'brand' FROM mentions`);
});
await store.connect().then(async (c) => {
  await c.run('CHECKPOINT');
  store.release(c);
});
const size = (await stat(store.path)).size;
console.log(`${ROWS} mentions, database file ${(size / 1e6).toFixed(1)} MB`);

async function timed(label: string, fn: () => Promise<string | undefined>): Promise<void> {
  const started = performance.now();
  try {
    const note = await fn();
    console.log(`${label.padEnd(28)} ${((performance.now() - started) / 1000).toFixed(2)} s ${note ?? ''}`);
  } catch (err) {
    console.log(`${label.padEnd(28)} failed: ${errorMessage(err)}`);
  }
}

await timed('copy-db (COPY FROM DATABASE)', async () => {
  const c = await store.connect();
  const file = join(folders.backups, 'copy.duckdb');
  await c.run(`ATTACH '${file}' AS bench_copy`);
  await c.run('COPY FROM DATABASE live TO bench_copy');
  await c.run('DETACH bench_copy');
  store.release(c);
  return `${((await stat(file)).size / 1e6).toFixed(1)} MB`;
});

await timed('file-copy (write queue held)', () =>
  store.write(async () => {
    await copyFile(store.path, join(dir, 'file-copy.duckdb'));
    return 'writes waited this long';
  }),
);

const key = parseBackupKey(new Secret('EARSHOT_BACKUP_KEY', Buffer.alloc(32, 7).toString('hex')));
const target = join(dir, 'kept-backups');
await mkdir(target);
for (const [label, k] of [
  ['earshot backup (plain)', null],
  ['earshot backup (encrypted)', key],
] as const) {
  await timed(label, async () => {
    const r = await createBackup(store, {
      dir: target,
      key: k,
      keepDays: 30,
      now: new Date(),
      actor: 'bench',
    });
    return `${(r.manifest.bytes / 1e6).toFixed(1)} MB`;
  });
}

const lake = join(dir, 'lake');
await mkdir(lake);
for (const label of [
  'export --parquet (full)',
  'export --parquet (unchanged)',
  'export --parquet (1 changed)',
]) {
  if (label.includes('1 changed'))
    await store.write((c) => c.run("UPDATE mentions SET likes = -1 WHERE native_id = 'n7'"));
  await timed(label, async () => {
    const r = await exportParquet(store, { dir: lake, key: null, now: new Date(), actor: 'bench' });
    const m = r.datasets.mentions;
    return `mentions: ${m?.partitions} partitions, ${m?.written.length} written`;
  });
}

store.close();
await rm(dir, { recursive: true, force: true });
