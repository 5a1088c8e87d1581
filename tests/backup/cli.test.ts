import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../pipeline/store.js';
import { runCli, type Served, startServe } from '../helpers/cli.js';
import { tempDir } from '../helpers/store.js';
import { seedFacts } from './seed.js';

const KEY = randomBytes(32).toString('base64');
const OTHER_KEY = randomBytes(32).toString('hex');

describe('earshot backup, restore, export and decrypt as commands', { timeout: 120_000 }, () => {
  let tmp: ReturnType<typeof tempDir>;
  let env: NodeJS.ProcessEnv;
  let db: string;
  let served: Served;
  let backups: string;
  let lake: string;

  beforeAll(async () => {
    tmp = tempDir();
    db = join(tmp.dir, 'live.duckdb');
    const store = await Store.open(db);
    await seedFacts(store);
    await store.closeGracefully();
    const config = join(tmp.dir, 'earshot.yaml');
    writeFileSync(config, 'backup:\n  keepDays: 7\n');
    backups = join(tmp.dir, 'backups');
    lake = join(tmp.dir, 'lake');
    mkdirSync(backups);
    mkdirSync(lake);
    env = { EARSHOT_CONFIG: config, EARSHOT_DB: db, PORT: '0', LOG_LEVEL: 'warn', EARSHOT_BACKUP_KEY: KEY };
    served = await startServe(env, db);
  });
  afterAll(async () => {
    if (served.child.exitCode === null) served.child.kill('SIGKILL');
    tmp.cleanup();
  });

  it('backs up through the running server, encrypted with the key', async () => {
    const r = await runCli(['backup', backups], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^backup .*earshot-\d{8}T\d{9}Z: \d+ tables, \d+ rows, \d+ bytes, encrypted \(key id [0-9a-f]{16}\)/,
    );
    const [folder] = readdirSync(backups);
    expect(readdirSync(join(backups, folder ?? '')).sort()).toEqual(['earshot.duckdb.enc', 'manifest.json']);
    expect(served.stderr()).not.toContain(KEY);
  });

  it('refuses when the caller holds another key than the server, and writes nothing', async () => {
    const before = readdirSync(backups);
    const r = await runCli(['backup', backups], { ...env, EARSHOT_BACKUP_KEY: OTHER_KEY });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/server holding the database has another EARSHOT_BACKUP_KEY/);
    expect(r.stderr).not.toContain(OTHER_KEY);
    expect(readdirSync(backups)).toEqual(before);
  });

  it('says what is wrong with a bad key or a missing folder', async () => {
    const bad = await runCli(['backup', backups], { ...env, EARSHOT_BACKUP_KEY: 'not-a-real-key-value' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/EARSHOT_BACKUP_KEY: must be 32 random bytes/);
    expect(bad.stderr).not.toContain('not-a-real-key-value');
    const missing = await runCli(['backup', join(tmp.dir, 'nope')], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/backup folder .*nope does not exist; create it first/);
    expect(existsSync(join(tmp.dir, 'nope'))).toBe(false);
  });

  it('restores into a new file that earshot then opens, and needs the key to do it', async () => {
    const to = join(tmp.dir, 'restored.duckdb');
    const noKey = await runCli(['restore', backups, '--to', to], { ...env, EARSHOT_BACKUP_KEY: '' });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/is encrypted \(key id [0-9a-f]{16}\): set EARSHOT_BACKUP_KEY/);
    expect(existsSync(to)).toBe(false);

    const r = await runCli(['restore', backups, '--to', to], env);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(
      /restored .* into .*restored\.duckdb: \d+ tables, \d+ rows, checksum and row counts verified/,
    );
    const again = await runCli(['restore', backups, '--to', to], env);
    expect(again.stderr).toMatch(/already exists: restore never overwrites/);

    const counted = await runCli(['sql', 'SELECT count(*) AS n FROM mentions', '--format', 'csv'], {
      ...env,
      EARSHOT_DB: to,
    });
    expect(counted.stdout).toBe('n\n60\n');
  });

  it('exports Parquet through the server, encrypted, and earshot decrypt gives readable Parquet', async () => {
    const r = await runCli(['export', '--parquet', lake], env);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/mentions\s+6\s+60\s+6\s+0/);
    expect(r.stdout).toMatch(/encrypted \(\.parquet\.enc/);
    const enc = join(lake, 'mentions/date=2026-11-20/source=x/part_0.parquet.enc');
    const dec = await runCli(['decrypt', enc], env);
    expect(dec.stderr).toBe('');
    const buf = readFileSync(enc.slice(0, -'.enc'.length));
    const rows = await parquetReadObjects({
      file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength),
    });
    expect(rows).toHaveLength(10);
    const twice = await runCli(['decrypt', enc], env);
    expect(twice.stderr).toMatch(/already exists/);
    const wrong = await runCli(['decrypt', enc, '--out', join(tmp.dir, 'w.parquet')], {
      ...env,
      EARSHOT_BACKUP_KEY: OTHER_KEY,
    });
    expect(wrong.stderr).toMatch(/another key .*wrong key/);
    expect(existsSync(join(tmp.dir, 'w.parquet'))).toBe(false);
  });

  it('backs up by opening the file itself when no server runs', async () => {
    const stopped = await served.stop();
    expect(stopped.code).toBe(0);
    const r = await runCli(['backup', backups, '--json'], env);
    expect(r.stderr).toBe('');
    const result = JSON.parse(r.stdout) as {
      manifest: { encrypted: boolean; tables: Record<string, number> };
    };
    expect(result.manifest.encrypted).toBe(true);
    expect(result.manifest.tables.mentions).toBe(60);
    // The first backup's audit entry is in the live database, so this copy holds it.
    expect(result.manifest.tables.audit_log).toBeGreaterThanOrEqual(2);
  });
});
