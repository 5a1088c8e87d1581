import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/config.js';
import { projectRoot } from '../../pipeline/paths.js';
import { perWrite, Store } from '../../pipeline/store.js';
import { tempDir } from '../helpers/store.js';

const run = promisify(execFile);
let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(() => cleanup());

describe('store', () => {
  it('applies the migrations once and keeps the tables', async () => {
    const path = join(dir, 'a.duckdb');
    const store = await Store.open(path);
    const tables = (
      await store.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")
    ).map((r) => r.table_name);
    for (const t of [
      'mentions',
      'authors',
      'bookmarks',
      'collection_runs',
      'quarantine',
      'topics',
      'schema_migrations',
    ]) {
      expect(tables).toContain(t);
    }
    store.close();
    const again = await Store.open(path);
    const versions = await again.query('SELECT count(*) AS n FROM schema_migrations');
    expect(Number(versions[0]?.n)).toBeGreaterThan(0);
    again.close();
  });

  it('refuses a database written by a newer earshot', async () => {
    const path = join(dir, 'b.duckdb');
    const store = await Store.open(path);
    await store.write((c) => c.run("INSERT INTO schema_migrations VALUES (999, '999_future.sql', now())"));
    store.close();
    await expect(Store.open(path)).rejects.toThrow(/newer earshot \(schema version 999/);
  });

  it('locks file access and settings for every connection', async () => {
    const store = await Store.open(join(dir, 'c.duckdb'));
    const conn = await store.connect();
    await expect(conn.run("SELECT * FROM read_csv('/etc/passwd')")).rejects.toThrow(
      /disabled by configuration/,
    );
    await expect(conn.run('SET threads = 1')).rejects.toThrow(/locked/);
    store.release(conn);
    store.close();
  });

  it('answers prepared queries like plain ones: concurrent bindings kept apart, writes seen, a full cache still right', async () => {
    const store = await Store.open(join(dir, 'p.duckdb'));
    try {
      await store.write((c) => c.run('CREATE TABLE t AS SELECT range AS i, range * 3 AS v FROM range(100)'));
      const sql = 'SELECT sum(v) AS s, count(*) AS n FROM t WHERE i >= $lo AND i < $hi';
      // Sixty requests at once on four connections: many share a connection and its statement.
      const asked = Array.from({ length: 60 }, (_, k) => ({ lo: k, hi: k + 1 + (k % 7) }));
      const got = await Promise.all(asked.map((p) => store.queryPrepared(sql, p)));
      const want = await Promise.all(asked.map((p) => store.query(sql, p)));
      expect(got).toEqual(want);
      expect(new Set(got.map((r) => JSON.stringify(r))).size).toBeGreaterThan(30);

      await store.write((c) => c.run('UPDATE t SET v = v + 1000 WHERE i = 5'));
      expect(await store.queryPrepared(sql, { lo: 5, hi: 6 })).toEqual([{ s: 1015, n: 1 }]);

      // More distinct texts than a connection keeps (512): the oldest are dropped, none answer wrong.
      for (let k = 0; k < 600; k++) {
        const rows = await store.queryPrepared(`SELECT $x::INTEGER + ${k} AS y`, { x: k });
        expect(rows).toEqual([{ y: 2 * k }]);
      }
      expect(await store.queryPrepared(sql, { lo: 0, hi: 3 })).toEqual([{ s: 9, n: 3 }]);

      // Columns: the same answers by column, every column there (empty) when no row matches.
      const bySql =
        'SELECT i::INTEGER AS i, v::DOUBLE AS v, i::VARCHAR AS t FROM t WHERE i >= $lo AND i < $hi ORDER BY i';
      const rows = await store.queryPrepared(bySql, { lo: 2, hi: 5 });
      expect(await store.queryColumns(bySql, { lo: 2, hi: 5 })).toEqual({
        i: rows.map((r) => r.i),
        v: rows.map((r) => r.v),
        t: rows.map((r) => r.t),
      });
      expect(rows.map((r) => r.t)).toEqual(['2', '3', '4']);
      expect(await store.queryColumns(bySql, { lo: 9, hi: 2 })).toEqual({ i: [], v: [], t: [] });

      // A statement that cannot be prepared fails every time, and is not kept.
      for (let k = 0; k < 2; k++)
        await expect(
          store.queryPrepared('SELECT * FROM no_such_table WHERE x = $x', { x: 1 }),
        ).rejects.toThrow(/no_such_table/);
    } finally {
      store.close();
    }
  });

  it('gives the next free connection to a read marked ahead before reads that waited longer', async () => {
    const store = await Store.open(join(dir, 'ahead.duckdb'));
    try {
      // Four reads hold the four connections, the first done well before the others.
      const busy = [1, 4, 4, 4].map((k) =>
        store.query('SELECT count(*) AS n FROM range($n::BIGINT)', { n: k * 60_000_000 }),
      );
      const done: string[] = [];
      const read = (name: string, ahead: boolean) =>
        store.queryPrepared('SELECT 1 AS x', {}, { ahead }).then(() => done.push(name));
      // Queued in this order while every connection is busy: the first to come free takes `later`.
      const waits = [read('first', false), read('later', true)];
      await Promise.all([...busy, ...waits]);
      expect(done).toEqual(['later', 'first']);
    } finally {
      store.close();
    }
  });

  it('reads results of many chunks whole while other reads wait for the same connection', async () => {
    const store = await Store.open(join(dir, 'chunks.duckdb'));
    try {
      // Streamed results of several 2,048-row chunks, 24 at once on four connections: a query
      // started on a connection mid-stream would end the other's stream early with no error.
      const sizes = Array.from({ length: 24 }, (_, k) => 5000 + k * 997);
      const sql = 'SELECT range AS i FROM range($n::BIGINT)';
      const [plain, prepared, columns] = await Promise.all([
        Promise.all(sizes.map((n) => store.query(sql, { n }))),
        Promise.all(sizes.map((n) => store.queryPrepared(sql, { n }))),
        Promise.all(sizes.map((n) => store.queryColumns(sql, { n }))),
      ]);
      expect(plain.map((r) => r.length)).toEqual(sizes);
      expect(prepared.map((r) => r.length)).toEqual(sizes);
      expect(columns.map((c) => (c.i as unknown[]).length)).toEqual(sizes);
      expect(plain.map((r) => r.at(-1)?.i)).toEqual(sizes.map((n) => n - 1));
    } finally {
      store.close();
    }
  });

  it('closes gracefully only after the reads and writes under way, refusing new ones meanwhile', async () => {
    const store = await Store.open(join(dir, 'c.duckdb'));
    // Long enough to be running when the close begins (DuckDB closed under it never settled it).
    const read = store.query('SELECT sum(x * x)::VARCHAR AS s FROM range(60000000) t(x)');
    const write = store.write((conn) => conn.run("INSERT INTO meta VALUES ('k', 'v')"));
    const closing = store.closeGracefully();
    await expect(store.query('SELECT 1')).rejects.toThrow(/closed/);
    await expect(store.write((conn) => conn.run('SELECT 1'))).rejects.toThrow(/closed/);
    expect((await read)[0]?.s).toMatch(/^\d+$/);
    await write;
    await closing;
    const reopened = await Store.open(join(dir, 'c.duckdb'));
    expect(await reopened.query("SELECT value FROM meta WHERE key = 'k'")).toEqual([{ value: 'v' }]);
    reopened.close();
  });

  it('interrupts work on lent connections when closing, and closes once every one is released', async () => {
    const store = await Store.open(join(dir, 'l.duckdb'));
    const busy = await store.connect();
    const idle = await store.connect();
    // Minutes of work: it ends only by the interrupt (or the test fails on what it returned).
    const long = busy.run('SELECT sum(x * x)::VARCHAR FROM range(20000000000) t(x)');
    await new Promise((resolve) => setTimeout(resolve, 300));
    let closed = false;
    const closing = store.closeGracefully().then(() => {
      closed = true;
    });
    await expect(store.connect()).rejects.toThrow(/closed/);
    await expect(long).rejects.toThrow(/interrupt/i);
    store.release(busy);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(closed, 'a connection is still lent').toBe(false);
    store.release(idle);
    await closing;
    expect(closed).toBe(true);
  });

  it('reads a per-write figure again only once a write has committed, and never keeps a failed read', async () => {
    const store = await Store.open(join(dir, 'w.duckdb'));
    try {
      let reads = 0;
      let fail = false;
      const keys = perWrite(async (s) => {
        reads++;
        if (fail) throw new Error('read failed');
        return (await s.query('SELECT count(*) AS n FROM meta'))[0]?.n;
      });
      expect(await keys(store)).toBe(0);
      expect(await keys(store)).toBe(0);
      expect(reads).toBe(1);
      await store.write((c) => c.run("INSERT INTO meta VALUES ('a', '1')"));
      expect(await keys(store)).toBe(1);
      expect(reads).toBe(2);
      // A rolled-back write changes nothing: the figure stands.
      await expect(store.write(() => Promise.reject(new Error('no')))).rejects.toThrow('no');
      expect(await keys(store)).toBe(1);
      expect(reads).toBe(2);
      await store.write((c) => c.run("INSERT INTO meta VALUES ('b', '1')"));
      fail = true;
      await expect(keys(store)).rejects.toThrow('read failed');
      fail = false;
      expect(await keys(store)).toBe(2);
      expect(reads).toBe(4);
    } finally {
      store.close();
    }
  });

  it('rolls a failed write back completely', async () => {
    const store = await Store.open(join(dir, 'd.duckdb'));
    await expect(
      store.write(async (c) => {
        await c.run("INSERT INTO meta VALUES ('a', '1')");
        await c.run("INSERT INTO meta VALUES ('a', '2')");
      }),
    ).rejects.toThrow();
    expect(await store.query('SELECT * FROM meta')).toEqual([]);
    await store.write((c) => c.run("INSERT INTO meta VALUES ('b', '1')"));
    expect(await store.query('SELECT key FROM meta')).toEqual([{ key: 'b' }]);
    store.close();
  });

  it('gives a second process a plain message instead of a lock error', async () => {
    const path = join(dir, 'e.duckdb');
    const store = await Store.open(path);
    const child = run(process.execPath, [join(projectRoot, 'dist/pipeline/cli.js'), 'status'], {
      env: { ...process.env, EARSHOT_DB: path, EARSHOT_CONFIG: '', LOG_LEVEL: 'silent' },
    });
    const err = (await child.then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    )) as { code: number; stderr: string } | null;
    expect(err?.code).toBe(1);
    expect(err?.stderr).toMatch(/is in use by another earshot process \(pid \d+\)/);
    expect(err?.stderr).not.toMatch(/IO Error|Conflicting lock/);
    store.close();
  });
});

describe('memory limit', () => {
  it('applies a configured DuckDB memory limit, and a bad one is refused naming the variable', async () => {
    const config = loadConfig({ EARSHOT_CONFIG: '', EARSHOT_DB: ':memory:', EARSHOT_MEMORY_LIMIT: '512MB' });
    expect(config.memoryLimit).toBe('512MB');
    const store = await Store.open(join(dir, 'm.duckdb'), undefined, { memoryLimit: '512MB' });
    const [row] = await store.query("SELECT current_setting('memory_limit') AS limit");
    expect(String(row?.limit)).toMatch(/^(512\.0 MiB|488\.2 MiB|512 MB|536\.8 MB)$/);
    store.close();
    expect(() =>
      loadConfig({ EARSHOT_CONFIG: '', EARSHOT_DB: ':memory:', EARSHOT_MEMORY_LIMIT: 'lots' }),
    ).toThrow(/EARSHOT_MEMORY_LIMIT: "lots" must be a size/);
  });
});
