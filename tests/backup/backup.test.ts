import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAudit } from '../../pipeline/audit/log.js';
import { createBackup, MANIFEST } from '../../pipeline/backup/backup.js';
import { type BackupKey, parseBackupKey } from '../../pipeline/backup/crypto.js';
import { restoreBackup } from '../../pipeline/backup/restore.js';
import { UserError } from '../../pipeline/errors.js';
import { Secret } from '../../pipeline/secrets.js';
import { type Store, storeFolders } from '../../pipeline/store.js';
import { openTestStore } from '../helpers/store.js';
import { seedFacts } from './seed.js';

const NOW = new Date('2026-11-23T02:00:00Z');
const newKey = () => parseBackupKey(new Secret('EARSHOT_BACKUP_KEY', randomBytes(32).toString('hex')));

let t: Awaited<ReturnType<typeof openTestStore>>;
let backups: string;
beforeEach(async () => {
  t = await openTestStore();
  backups = join(t.dir, 'my-backups');
  mkdirSync(backups);
});
afterEach(() => t.cleanup());

function backup(opts: { key?: BackupKey | null; now?: Date; keepDays?: number } = {}) {
  return createBackup(t.store, {
    dir: backups,
    key: opts.key ?? null,
    keepDays: opts.keepDays ?? 30,
    now: opts.now ?? NOW,
    actor: 'cli:test',
  });
}

/** A restore target the test store may ATTACH (its backups folder is one of its allowed folders). */
function restoreTarget(name = 'restored.duckdb'): string {
  const dir = storeFolders(t.path).backups;
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}

function restore(to: string, key: BackupKey | null = null, dir = backups) {
  return restoreBackup({ dir, to, key, actor: 'cli:test', now: NOW });
}

async function tableNames(store: Store): Promise<string[]> {
  return (
    await store.query(
      'SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() ORDER BY table_name',
    )
  ).map((r) => String(r.table_name));
}

/** Rows in one database and not the other (both ways, with multiplicity), per table. */
async function differences(store: Store, file: string): Promise<Record<string, number>> {
  const conn = await store.connect();
  await conn.run(`ATTACH '${file}' AS restored (READ_ONLY)`);
  const out: Record<string, number> = {};
  try {
    for (const name of await tableNames(store)) {
      const reader = await conn.runAndReadAll(
        `SELECT (SELECT count(*) FROM (FROM "${name}" EXCEPT ALL FROM restored."${name}")) +
                (SELECT count(*) FROM (FROM restored."${name}" EXCEPT ALL FROM "${name}"))`,
      );
      out[name] = Number(reader.getRows()[0]?.[0]);
    }
  } finally {
    await conn.run('DETACH restored');
    store.release(conn);
  }
  return out;
}

describe('earshot backup and restore', () => {
  it('round trip: the restored file equals the source on every table, plus its own restore entry', async () => {
    await seedFacts(t.store);
    const made = await backup();
    expect(made.manifest.tables.mentions).toBe(60);
    expect(made.manifest.encrypted).toBe(false);
    expect(made.manifest.schemaVersion).toBeGreaterThanOrEqual(9);
    expect(readdirSync(made.folder).sort()).toEqual(['earshot.duckdb', MANIFEST]);

    const to = restoreTarget();
    const restored = await restore(to);
    expect(restored.from).toBe(made.folder);
    expect(restored.tables).toEqual(made.manifest.tables);
    const diff = await differences(t.store, to);
    const expected = Object.fromEntries(Object.keys(diff).map((k) => [k, 0]));
    // The source gained its backup.create entry after the copy; the restored file its backup.restore.
    expect(diff).toEqual({ ...expected, audit_log: 2 });
    const actions = (await listAudit(t.store)).map((a) => a.action);
    expect(actions).toEqual(['backup.create']);
  });

  it('takes a consistent copy while writes go on: no transaction is half in it', async () => {
    await seedFacts(t.store, { mentions: 3000 });
    let stop = false;
    let batches = 0;
    // Each transaction adds a mention and its score together; a torn copy would have them differ.
    const writer = (async () => {
      while (!stop) {
        const i = batches++;
        await t.store.write(async (conn) => {
          await conn.run(
            `INSERT INTO mentions SELECT source, 'w${i}-' || native_id, partition, channel, url, title, text, lang,
               author_id, author_handle, author_name, author_followers, created_at, created_at_estimated,
               collected_at, seen_at, likes, reposts, replies, views, parent_id, conversation_id, is_repost,
               repost_of, raw FROM mentions WHERE native_id LIKE 'm%' AND likes < 200`,
          );
          await conn.run(
            `INSERT INTO mention_scores SELECT source, 'w${i}-' || native_id, lang, lang_origin, sentiment,
               sentiment_score, sentiment_model, copy_of_source, copy_of_id, canonical_url, text_sig, scored_at
             FROM mention_scores WHERE native_id LIKE 'm%' AND native_id IN
               (SELECT native_id FROM mentions WHERE likes < 200)`,
          );
        });
      }
    })();
    // Wait on a real signal: some writes committed before the copy starts.
    while (batches < 3) await new Promise((r) => setImmediate(r));
    const made = await backup();
    stop = true;
    await writer;
    expect(made.manifest.tables.mentions).toBe(made.manifest.tables.mention_scores);
    expect(made.manifest.tables.mentions).toBeGreaterThan(3000);
    const to = restoreTarget();
    const restored = await restore(to);
    expect(restored.tables.mentions).toBe(restored.tables.mention_scores);
  });

  it('copies what is committed, also rows still only in the WAL, and no uncommitted transaction', async () => {
    await seedFacts(t.store);
    // Committed after the last checkpoint: these rows are in the WAL only.
    await t.store.write((c) => c.run("INSERT INTO meta VALUES ('committed', 'yes')"));
    expect(existsSync(`${t.path}.wal`)).toBe(true);
    const other = await t.store.connect();
    await other.run('BEGIN TRANSACTION');
    await other.run("INSERT INTO meta VALUES ('uncommitted', 'no')");
    try {
      const made = await backup();
      expect(made.manifest.tables.meta).toBe(1);
    } finally {
      await other.run('ROLLBACK');
      t.store.release(other);
    }
    const to = restoreTarget();
    await restore(to);
    const diff = await differences(t.store, to);
    expect(diff.meta).toBe(0);
    expect(diff.mentions).toBe(0);
  });

  it('encrypts with a key: the plaintext is nowhere in the folder; restore needs the same key', async () => {
    await seedFacts(t.store);
    await t.store.write((c) =>
      c.run("UPDATE mentions SET text = 'SECRET-MARKER-4711' WHERE native_id = 'm3'"),
    );
    const key = newKey();
    const made = await backup({ key });
    expect(made.manifest).toMatchObject({ encrypted: true, keyId: key.id, file: 'earshot.duckdb.enc' });
    for (const f of readdirSync(made.folder))
      expect(readFileSync(join(made.folder, f)).includes('SECRET-MARKER-4711')).toBe(false);
    // Nothing plaintext is left in the staging folder either.
    expect(readdirSync(storeFolders(t.path).backups)).toEqual([]);

    const to = restoreTarget();
    await expect(restore(to, null)).rejects.toThrow(
      /encrypted \(key id [0-9a-f]{16}\): set EARSHOT_BACKUP_KEY/,
    );
    await expect(restore(to, newKey())).rejects.toThrow(/another key .*wrong key/);
    expect(readdirSync(storeFolders(t.path).backups)).toEqual([]);
    const restored = await restore(to, key);
    expect(restored.encrypted).toBe(true);
    const diff = await differences(t.store, to);
    expect(diff.mentions).toBe(0);
  });

  it('a damaged or doctored backup is refused and nothing is written', async () => {
    await seedFacts(t.store);
    const key = newKey();
    const made = await backup({ key });
    const enc = join(made.folder, 'earshot.duckdb.enc');
    const original = readFileSync(enc);
    const target = restoreTarget();
    const nothingWritten = () => expect(readdirSync(storeFolders(t.path).backups)).toEqual([]);

    const flipped = Buffer.from(original);
    flipped[original.length >> 1] = (flipped[original.length >> 1] ?? 0) ^ 0x80;
    writeFileSync(enc, flipped);
    await expect(restore(target, key)).rejects.toThrow(/damaged or was changed/);
    nothingWritten();

    writeFileSync(enc, original.subarray(0, original.length - 100));
    await expect(restore(target, key)).rejects.toThrow(/ends early/);
    nothingWritten();

    writeFileSync(enc, original);
    const manifestPath = join(made.folder, MANIFEST);
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    writeFileSync(
      manifestPath,
      JSON.stringify({ ...manifest, tables: { ...manifest.tables, mentions: 61 } }),
    );
    await expect(restore(target, key)).rejects.toThrow(/mentions: manifest 61, file 60/);
    nothingWritten();

    writeFileSync(manifestPath, JSON.stringify({ ...manifest, sha256: '0'.repeat(64) }));
    await expect(restore(target, key)).rejects.toThrow(/sha256 differs/);
    nothingWritten();

    writeFileSync(manifestPath, '{"format": 1, "file": "../../etc/passwd"');
    await expect(restore(target, key)).rejects.toThrow(/not readable JSON/);
    writeFileSync(manifestPath, JSON.stringify({ ...manifest, file: '../../etc/passwd' }));
    await expect(restore(target, key)).rejects.toThrow(/not an earshot backup manifest: file/);
    nothingWritten();
  });

  it('never overwrites: an existing --to, a missing folder or no backup at all say so', async () => {
    await seedFacts(t.store);
    await backup();
    await expect(restore(t.path)).rejects.toThrow(/already exists: restore never overwrites/);
    const missing = join(t.dir, 'nope');
    await expect(restore(restoreTarget(), null, missing)).rejects.toThrow(/does not exist/);
    await expect(restore(join(missing, 'x.duckdb'))).rejects.toThrow(/folder of --to .* does not exist/);
    const empty = join(t.dir, 'empty');
    mkdirSync(empty);
    await expect(restore(restoreTarget(), null, empty)).rejects.toThrow(/holds no earshot backup/);
    await expect(
      createBackup(t.store, { dir: missing, key: null, keepDays: 30, now: NOW, actor: 'x' }),
    ).rejects.toThrow(UserError);
    expect(existsSync(missing)).toBe(false);
    writeFileSync(join(t.dir, 'a-file'), 'x');
    await expect(
      createBackup(t.store, { dir: join(t.dir, 'a-file'), key: null, keepDays: 30, now: NOW, actor: 'x' }),
    ).rejects.toThrow(/is a file, not a folder/);
  });

  it('keeps backups keepDays: older ones are removed after the next backup, foreign folders never', async () => {
    await seedFacts(t.store);
    const day = 86_400_000;
    const old = await backup({ now: new Date(NOW.getTime() - 40 * day) });
    const recent = await backup({ now: new Date(NOW.getTime() - 10 * day) });
    mkdirSync(join(backups, 'earshot-20200101T000000000Z')); // no manifest: not provably ours
    mkdirSync(join(backups, 'holiday-photos'));
    const latest = await backup({ keepDays: 30 });
    expect(latest.pruned).toEqual([old.folder.split('/').at(-1)]);
    expect(readdirSync(backups).sort()).toEqual(
      [
        'earshot-20200101T000000000Z',
        'holiday-photos',
        recent.folder.split('/').at(-1),
        latest.folder.split('/').at(-1),
      ].sort(),
    );
    // The newest backup is the one restored from a folder of backups.
    const restored = await restore(restoreTarget());
    expect(restored.from).toBe(latest.folder);
    const audit = await listAudit(t.store, { action: 'backup.' });
    expect(audit[0]?.detail).toMatchObject({ pruned: [old.folder.split('/').at(-1)] });
  });
});
