import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAudit } from '../../pipeline/audit/log.js';
import { type BackupKey, decryptFile, parseBackupKey } from '../../pipeline/backup/crypto.js';
import { eraseEmployee } from '../../pipeline/compliance/erase.js';
import { datasets } from '../../pipeline/export/datasets.js';
import { EXPORT_MANIFEST, exportParquet } from '../../pipeline/export/parquet.js';
import { Secret } from '../../pipeline/secrets.js';
import { seedFacts } from '../backup/seed.js';
import { openTestStore } from '../helpers/store.js';
import { CANONICAL, fixture, importAt, textFile } from '../imports/helpers.js';

const NOW = new Date('2026-11-23T02:00:00Z');

let t: Awaited<ReturnType<typeof openTestStore>>;
let out: string;
beforeEach(async () => {
  t = await openTestStore();
  out = join(t.dir, 'lake');
  mkdirSync(out);
  await seedFacts(t.store);
});
afterEach(() => t.cleanup());

const run = (key: BackupKey | null = null) =>
  exportParquet(t.store, { dir: out, key, now: NOW, actor: 'cli:test' });

/** Every file under `dir`, relative, sorted. */
function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

function plain(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

const normalise = (rows: Record<string, unknown>[]) =>
  rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, plain(v)])));

/**
 * A dataset read back with hyparquet (an independent reader, not DuckDB): the partition columns
 * come from the folder names, as Hive readers do. Encrypted files are decrypted first.
 */
async function readBack(name: string, key: BackupKey | null = null): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for (const f of files(join(out, name))) {
    let path = join(out, name, f);
    if (key) {
      expect(f.endsWith('.parquet.enc')).toBe(true);
      const dec = join(t.dir, `dec-${randomBytes(4).toString('hex')}.parquet`);
      await decryptFile(path, dec, key);
      path = dec;
    } else expect(f.endsWith('.parquet')).toBe(true);
    const buf = readFileSync(path);
    const data = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const partition = Object.fromEntries(
      f
        .split('/')
        .slice(0, -1)
        .map((kv) => kv.split('=') as [string, string]),
    );
    for (const r of await parquetReadObjects({ file: data })) rows.push({ ...partition, ...r });
  }
  return normalise(rows);
}

/** The same dataset straight from the database. */
async function fromDatabase(name: string): Promise<Record<string, unknown>[]> {
  const ds = datasets.find((d) => d.name === name);
  if (!ds) throw new Error(name);
  return normalise(await t.store.query(ds.sql));
}

const byKey = (rows: Record<string, unknown>[]) =>
  [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

describe('earshot export --parquet', () => {
  it('writes Hive partitions whose rows, read back by hyparquet, equal the database', async () => {
    const result = await run();
    expect(result.datasets.mentions).toMatchObject({ partitions: 6, rows: 60 });
    expect(files(join(out, 'mentions'))).toContain('date=2026-11-20/source=x/part_0.parquet');
    const mentions = await readBack('mentions');
    expect(mentions).toHaveLength(60);
    expect(byKey(mentions)).toEqual(byKey(await fromDatabase('mentions')));
    // Spot checks against the tables themselves, not the export's own query.
    const m1 = mentions.find((r) => r.native_id === 'm1');
    expect(m1).toMatchObject({
      source: 'rss',
      date: '2026-11-21',
      text: "text 1 'quoted' 한빛",
      sentiment: 'negative',
      model_sentiment: 'neutral',
      sentiment_corrected: true,
      topics: ['brand'],
      likes: 1,
    });
    expect(mentions.find((r) => r.native_id === 'm20')?.topics).toEqual(['brand', 'rival']);
    expect(Object.keys(m1 ?? {})).not.toContain('raw');

    for (const name of [
      'activity_daily',
      'activity_period',
      'comm_volume_weekly',
      'interactions',
      'threads',
    ]) {
      const rows = await readBack(name);
      expect(byKey(rows)).toEqual(byKey(await fromDatabase(name)));
      const [{ n }] = (await t.store.query(`SELECT count(*) AS n FROM ${name}`)) as [{ n: number }];
      expect(rows).toHaveLength(n);
    }
    // 2026-11-12 .. 2026-11-21 spans ISO weeks 46 and 47.
    expect(readdirSync(join(out, 'activity_daily')).sort()).toEqual(['week=2026-W46', 'week=2026-W47']);
    const manifest = JSON.parse(readFileSync(join(out, EXPORT_MANIFEST), 'utf8'));
    expect(manifest.datasets.mentions.partitions['date=2026-11-20/source=x']).toMatchObject({
      rows: 10,
      files: ['part_0.parquet'],
    });
    expect((await listAudit(t.store, { action: 'export.' }))[0]).toMatchObject({
      action: 'export.parquet',
      target: out,
    });
  });

  it('a later export rewrites exactly the changed partitions and deletes vanished ones', async () => {
    await run();
    const untouched = join(out, 'mentions/date=2026-11-22/source=x/part_0.parquet');
    const before = statSync(untouched);
    await t.store.write(async (c) => {
      // An engagement update (2026-11-20/x), an erasure that empties a partition (2026-11-21/rss:
      // m1, m7, ..., m55 are the odd i with i % 3 = 1), and a new day.
      await c.run("UPDATE mentions SET likes = 999 WHERE native_id = 'm0'");
      await c.run(
        "DELETE FROM mention_topics WHERE source = 'rss' AND native_id IN (SELECT native_id FROM mentions WHERE source = 'rss' AND created_at::DATE = DATE '2026-11-21')",
      );
      await c.run(
        "DELETE FROM mention_scores WHERE source = 'rss' AND native_id IN (SELECT native_id FROM mentions WHERE source = 'rss' AND created_at::DATE = DATE '2026-11-21')",
      );
      await c.run("DELETE FROM mentions WHERE source = 'rss' AND created_at::DATE = DATE '2026-11-21'");
      await c.run(
        "UPDATE mentions SET created_at = TIMESTAMPTZ '2026-11-25 10:00:00+00', text = 'moved' WHERE native_id = 'm3'",
      );
    });
    const second = await run();
    expect(second.datasets.mentions?.written.sort()).toEqual([
      'date=2026-11-20/source=rss',
      'date=2026-11-20/source=x',
      'date=2026-11-25/source=rss',
    ]);
    expect(second.datasets.mentions?.deleted).toEqual(['date=2026-11-21/source=rss']);
    expect(second.datasets.activity_daily?.written).toEqual([]);
    expect(existsSync(join(out, 'mentions/date=2026-11-21/source=rss'))).toBe(false);
    expect(statSync(untouched).mtimeMs).toBe(before.mtimeMs);
    expect(statSync(untouched).ino).toBe(before.ino);
    expect(byKey(await readBack('mentions'))).toEqual(byKey(await fromDatabase('mentions')));
    // Nothing erased lives on anywhere in the export.
    for (const f of files(out)) expect(readFileSync(join(out, f)).includes('text 7 ')).toBe(false);

    const third = await run();
    for (const d of Object.values(third.datasets)) expect(d.written.concat(d.deleted)).toEqual([]);
  });

  it('encrypts with a key (.parquet.enc, decrypted by earshot decrypt) and switching form rewrites all', async () => {
    await run();
    const key = parseBackupKey(new Secret('EARSHOT_BACKUP_KEY', randomBytes(32).toString('base64')));
    const result = await run(key);
    expect(result.datasets.mentions?.written).toHaveLength(6);
    const all = files(out);
    expect(all.filter((f) => f !== EXPORT_MANIFEST).every((f) => f.endsWith('.parquet.enc'))).toBe(true);
    for (const f of all) expect(readFileSync(join(out, f)).includes('quoted')).toBe(false);
    expect(byKey(await readBack('mentions', key))).toEqual(byKey(await fromDatabase('mentions')));
  });

  it('a crash mid-export leaves every file whole and the previous manifest; the next export repairs', async () => {
    await run();
    const manifestBefore = readFileSync(join(out, EXPORT_MANIFEST), 'utf8');
    await t.store.write(async (c) => {
      await c.run("UPDATE mentions SET likes = 5 WHERE native_id IN ('m0', 'm4')");
      await c.run(
        "UPDATE mentions SET created_at = TIMESTAMPTZ '2026-11-30 10:00:00+00' WHERE native_id = 'm2'",
      );
    });
    // A folder where the new partition's file must go makes its rename fail, as a crash would stop it.
    const obstacle = join(out, 'mentions/date=2026-11-30/source=x/part_0.parquet');
    mkdirSync(join(obstacle, 'in-the-way'), { recursive: true });
    await expect(run()).rejects.toThrow();
    expect(readFileSync(join(out, EXPORT_MANIFEST), 'utf8')).toBe(manifestBefore);
    expect(files(out).filter((f) => f.includes('.tmp-'))).toEqual([]);
    // Every file the previous manifest lists is there and reads.
    expect(await readBack('activity_daily')).toHaveLength(10);
    const previous = JSON.parse(manifestBefore);
    for (const [path, p] of Object.entries(previous.datasets.mentions.partitions) as [
      string,
      { files: string[] },
    ][])
      for (const f of p.files) expect(existsSync(join(out, 'mentions', path, f))).toBe(true);

    rmSync(obstacle, { recursive: true });
    await run();
    expect(byKey(await readBack('mentions'))).toEqual(byKey(await fromDatabase('mentions')));
  });

  it('bad folders are refused and nothing is written', async () => {
    const missing = join(t.dir, 'missing');
    await expect(exportParquet(t.store, { dir: missing, key: null, now: NOW, actor: 'x' })).rejects.toThrow(
      /export folder .* does not exist/,
    );
    expect(existsSync(missing)).toBe(false);
    writeFileSync(join(out, EXPORT_MANIFEST), '{"something": "else"}');
    await expect(run()).rejects.toThrow(/not an earshot export manifest/);
    expect(files(out)).toEqual([EXPORT_MANIFEST]);
    expect(await listAudit(t.store, { action: 'export.' })).toEqual([]);
  });
});

describe('earshot export --parquet: the employee directory', () => {
  it('is one unpartitioned dataset, a row per department stretch, rewritten only when it changes', async () => {
    await importAt(t.store, 'auto', CANONICAL.map(fixture));
    // E002 moves from Sales to Marketing on the second directory's day: two stretches.
    const moved = fixture('canonical/employees.csv')
      .content.toString('utf8')
      .replace('E002,user02@example.com,User 02,Sales,', 'E002,user02@example.com,User 02,Marketing,');
    await importAt(
      t.store,
      'employees',
      [textFile('employees.csv', moved)],
      new Date('2026-05-01T00:00:00Z'),
    );
    const first = await run();
    expect(first.datasets.employees?.written).toEqual(['']);
    expect(files(join(out, 'employees'))).toEqual(['part_0.parquet']);
    const manifest = JSON.parse(readFileSync(join(out, EXPORT_MANIFEST), 'utf8'));
    expect(manifest.datasets.employees).toMatchObject({
      partitionBy: [],
      partitions: { '': { files: ['part_0.parquet'] } },
    });
    const rows = await readBack('employees');
    expect(byKey(rows)).toEqual(byKey(await fromDatabase('employees')));
    const e002 = rows
      .filter((r) => r.employee_id === 'E002')
      .map((r) => [r.department, r.valid_from, r.valid_to]);
    expect(byKey(e002 as never)).toEqual(
      byKey([
        ['Sales', '2020-01-03T00:00:00.000Z', '2026-05-01T00:00:00.000Z'],
        ['Marketing', '2026-05-01T00:00:00.000Z', null],
      ] as never),
    );
    // The seeded employee has no history rows: one open stretch from the directory itself.
    expect(rows.filter((r) => r.employee_id === 'me1')).toMatchObject([
      { department: 'Sales', valid_to: null },
    ]);
    expect(Object.keys(rows[0] ?? {})).not.toContain('updated_at');
    // Nothing changed: nothing rewritten.
    expect((await run()).datasets.employees?.written).toEqual([]);
  });

  it('after earshot erase --employee, the next export holds no trace of the person in any file', async () => {
    await importAt(t.store, 'auto', CANONICAL.map(fixture));
    await run();
    const everything = async () => {
      const text: string[] = [];
      for (const ds of datasets)
        if (existsSync(join(out, ds.name))) text.push(JSON.stringify(await readBack(ds.name)));
      return text.join('\n');
    };
    const before = await everything();
    for (const needle of ['"E001"', 'user01@example.com', 'User 01']) expect(before).toContain(needle);

    await eraseEmployee({ store: t.store, timezone: 'UTC', now: () => NOW, actor: 'cli:test' }, 'E001');
    const after = await run();
    expect(after.datasets.employees?.written).toEqual(['']);
    const text = await everything();
    for (const needle of ['"E001"', 'user01@example.com', 'User 01']) expect(text).not.toContain(needle);
    // Only what the manifest lists is in the folder: no file of the previous export lives on.
    const listed = Object.entries(
      JSON.parse(readFileSync(join(out, EXPORT_MANIFEST), 'utf8')).datasets as Record<
        string,
        { partitions: Record<string, { files: string[] }> }
      >,
    ).flatMap(([name, d]) =>
      Object.entries(d.partitions).flatMap(([path, p]) => p.files.map((f) => join(name, path, f))),
    );
    expect(files(out).filter((f) => f !== EXPORT_MANIFEST)).toEqual(listed.sort());
  });
});
