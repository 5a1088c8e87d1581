import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBPreparedStatement,
  type DuckDBResultReader,
  DuckDBTimestampTZValue,
  type DuckDBValue,
} from '@duckdb/node-api';
import { UserError } from './errors.js';
import type { Logger } from './logger.js';
import { migrationsDir } from './paths.js';

export type Row = Record<string, unknown>;
/**
 * A result as columns by name (every column, empty when there are no rows), of DuckDB's own values:
 * numbers for DOUBLE, INTEGER and smaller, strings for VARCHAR, null for NULL (BIGINT, timestamps
 * and the rest as DuckDB's value objects).
 */
export type Columns = Record<string, DuckDBValue[]>;
export type Params = DuckDBValue[] | Record<string, DuckDBValue>;

interface Migration {
  version: number;
  name: string;
  sql: string;
}

function readMigrations(): Migration[] {
  return readdirSync(migrationsDir)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .map((f) => ({
      version: Number.parseInt(f, 10),
      name: f,
      sql: readFileSync(join(migrationsDir, f), 'utf8'),
    }))
    .sort((a, b) => a.version - b.version);
}

/** Folders the analyst console may read and write; everything else on disk is closed to SQL. */
export function storeFolders(databasePath: string): { imports: string; exports: string; backups: string } {
  const base = databasePath === ':memory:' ? join(process.cwd(), 'data') : dirname(databasePath);
  return { imports: join(base, 'imports'), exports: join(base, 'exports'), backups: join(base, 'backups') };
}

/** A JS instant as a DuckDB TIMESTAMPTZ parameter or appender value. */
export function timestamptz(date: Date): DuckDBTimestampTZValue {
  return new DuckDBTimestampTZValue(BigInt(date.getTime()) * 1000n);
}

function plainValue(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  return value;
}

/** Result rows as objects of plain JS values, safe for JSON. */
export function plainRows(reader: { getRowObjectsJS(): Record<string, unknown>[] }): Row[] {
  return reader.getRowObjectsJS().map((row) => {
    for (const key of Object.keys(row)) row[key] = plainValue(row[key]);
    return row;
  });
}

function lockHolder(message: string): string | null {
  const m = /Conflicting lock is held in .*?\(PID (\d+)\)/.exec(message);
  return m ? (m[1] ?? null) : null;
}

/**
 * Reader connections: one connection runs one query at a time, so a slow chart (a year of rollups,
 * the adoption report) would hold up every other request behind it; DuckDB runs queries on
 * separate connections in parallel.
 *
 * Reads are streamed, not materialized: a result's native memory is freed only when V8 collects its
 * JS object, and a materialized one holds whole 256 KB blocks (about 500 KB for a chart's 30 rows,
 * against about 110 KB streamed). Results that outlive a young-generation collection under load wait
 * for the next full one, and the server's RSS grew by hundreds of MB in a soak before V8 let them go.
 * A streamed result is read while its query runs, so a connection serves one read at a time: a second
 * query on it would end the first one's stream early, without an error.
 */
const READERS = 4;

/**
 * Prepared statements kept per reader connection (queryPrepared). The charts' SQL texts are a few
 * dozen (the limit and a comparison set's size are in the text); the bound only stops a caller
 * that puts values in the text from growing the cache without end.
 */
const PREPARED_PER_READER = 512;

export interface ReadOptions {
  /**
   * A later query of a request whose first one has already waited its turn (the stream's older
   * slices and its page): it goes before reads still waiting for their first, so a request of
   * several queries queues once, not once per query.
   */
  ahead?: boolean;
}

/** A prepared statement of one reader connection. */
type Prepared = Promise<DuckDBPreparedStatement>;

/**
 * `read` of a store, read again only once a write has committed: for what changes only in writes
 * and is asked for on every request (one process owns the file, so no write goes unseen).
 */
export function perWrite<T>(read: (store: Store) => Promise<T>): (store: Store) => Promise<T> {
  const cache = new WeakMap<Store, { version: number; value: Promise<T> }>();
  return (store) => {
    const cached = cache.get(store);
    if (cached?.version === store.version) return cached.value;
    const entry = { version: store.version, value: read(store) };
    cache.set(store, entry);
    entry.value.catch(() => {
      if (cache.get(store) === entry) cache.delete(store);
    });
    return entry.value;
  };
}

/**
 * The one DuckDBInstance of this process. Writes go through `write`, one transaction at a time on a
 * dedicated connection, so batches from concurrent jobs never interleave inside a transaction.
 */
export class Store {
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** Set by closeGracefully: new reads and writes are refused while those under way end. */
  #closing = false;
  /** Reads under way on the reader connections, and connections lent by `connect` until released. */
  readonly #reading = new Set<Promise<unknown>>();
  /** Per lent connection, what its release settles in #reading. */
  readonly #lent = new Map<DuckDBConnection, () => void>();
  #version = 0;
  /** Reader connections no read is using (indexes into readers), the last freed last. */
  readonly #idle: number[];
  /** Reads waiting for a reader connection, first come first served: those `ahead` before the rest. */
  readonly #waiting: Record<'ahead' | 'rest', Array<(reader: number) => void>> = { ahead: [], rest: [] };
  /** Per reader connection, its prepared statements by SQL text, least recently used first. */
  readonly #prepared: Array<Map<string, Prepared>>;

  private constructor(
    readonly path: string,
    readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly readers: DuckDBConnection[],
  ) {
    this.#idle = readers.map((_, i) => i);
    this.#prepared = readers.map(() => new Map());
  }

  /**
   * Opens (creating if needed) the database, locks its configuration down (no file access outside
   * earshot's folders, no settings changes) and applies pending migrations.
   */
  static async open(path: string, logger?: Logger, options: { memoryLimit?: string } = {}): Promise<Store> {
    const folders = storeFolders(path);
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(path, {
        autoinstall_known_extensions: 'false',
        // The default 16MB makes DuckDB rewrite the primary-key index every few batches while
        // backfilling; 128MB keeps checkpoints rare without letting the WAL grow large.
        checkpoint_threshold: '128MB',
        ...(options.memoryLimit === undefined ? {} : { memory_limit: options.memoryLimit }),
      });
    } catch (err) {
      const message = (err as Error).message;
      const pid = lockHolder(message);
      if (pid !== null || /Could not set lock/.test(message)) {
        throw new UserError(
          `the database ${path} is in use by another earshot process${pid ? ` (pid ${pid})` : ''}. ` +
            'Run this command again when that process has finished, or start `earshot serve` so every command goes through it.',
          409,
          { cause: err },
        );
      }
      throw new UserError(`cannot open the database ${path}: ${message}`, 500, { cause: err });
    }
    const setup = await instance.connect();
    const sqlList = (dirs: string[]) => `[${dirs.map((d) => `'${d.replaceAll("'", "''")}/'`).join(', ')}]`;
    await setup.run(`SET GLOBAL TimeZone = 'UTC'`);
    await setup.run(`SET GLOBAL allowed_directories = ${sqlList(Object.values(folders))}`);
    await setup.run('SET GLOBAL enable_external_access = false');
    // DuckDB 1.5 answers a small ORDER BY ... LIMIT by finding the rows' ids, then reading the table
    // again for them by rowid; that second scan checks every row group (21 M rows of rollup_mentions
    // for a 21-row stream page: 15-20 ms, three quarters of the page query). Off: a Top-N reads its
    // columns in the one scan its filters already prune.
    await setup.run('SET GLOBAL late_materialization_max_rows = 0');
    await setup.run('SET GLOBAL lock_configuration = true');
    setup.closeSync();
    const readers = await Promise.all(Array.from({ length: READERS }, () => instance.connect()));
    const store = new Store(path, instance, await instance.connect(), readers);
    try {
      await store.migrate(logger);
    } catch (err) {
      store.close();
      throw err;
    }
    return store;
  }

  private async migrate(logger?: Logger): Promise<void> {
    const migrations = readMigrations();
    const known = migrations.at(-1)?.version ?? 0;
    await this.writer.run(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)',
    );
    const applied = new Set(
      (await this.writer.runAndReadAll('SELECT version FROM schema_migrations'))
        .getColumns()[0]
        ?.map(Number) ?? [],
    );
    const unknown = [...applied].filter((v) => !migrations.some((m) => m.version === v));
    if (unknown.length > 0) {
      throw new UserError(
        `the database ${this.path} was written by a newer earshot (schema version ${Math.max(...unknown)}; this build knows up to ${known}). ` +
          'Upgrade earshot, or point EARSHOT_DB at another file.',
        500,
      );
    }
    // Every migration not yet applied, in order: one added out of order (merged late) still runs.
    for (const m of migrations.filter((m) => !applied.has(m.version))) {
      await this.write(async (conn) => {
        await conn.run(m.sql);
        await conn.run('INSERT INTO schema_migrations VALUES ($1, $2, now())', [m.version, m.name]);
      });
      logger?.info({ migration: m.name }, 'applied migration');
    }
  }

  /** Runs `fn` in one transaction on the writer connection: all of it is committed, or none. */
  write<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    // Writes queued before closeGracefully still run; later ones are refused.
    if (this.#closing) return Promise.reject(new UserError('the database is closed', 503));
    const next = this.#queue.then(async () => {
      if (this.#closed) throw new UserError('the database is closed', 503);
      await this.writer.run('BEGIN TRANSACTION');
      try {
        const result = await fn(this.writer);
        await this.writer.run('COMMIT');
        this.#version++;
        return result;
      } catch (err) {
        try {
          await this.writer.run('ROLLBACK');
        } catch {
          // The transaction may already be aborted by the failing statement.
        }
        throw err;
      }
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Counts committed writes: anything computed from the data before is stale once it moves. */
  get version(): number {
    return this.#version;
  }

  /** Rows as plain JS objects: integers as numbers (strings past 2^53), TIMESTAMPTZ as Date. */
  query(sql: string, params?: Params): Promise<Row[]> {
    return this.#onReader((conn) => conn.streamAndReadAll(sql, params), plainRows);
  }

  /**
   * As query, with the statement prepared once per reader connection and kept: a request skips
   * parsing and preparing the SQL text again (the charts' texts are long: a window is three unions).
   * For the few SQL texts asked again and again (the charts); anything else would only fill the cache.
   */
  queryPrepared(sql: string, params: Params, opts: ReadOptions = {}): Promise<Row[]> {
    return this.#onReader((conn, i) => this.#runPrepared(conn, i, sql, params), plainRows, opts);
  }

  /**
   * As queryPrepared, the result as columns (see Columns): for results of hundreds of numeric
   * rows, which cost five times as much to turn into row objects of JS values as to read as they
   * come, on the one JavaScript thread every request shares.
   */
  queryColumns(sql: string, params: Params): Promise<Columns> {
    return this.#onReader(
      (conn, i) => this.#runPrepared(conn, i, sql, params),
      (reader) => {
        const columns = reader.getColumnsObject();
        // With no rows DuckDB's reader gives no columns at all: every column is there, empty.
        for (const name of reader.deduplicatedColumnNames()) columns[name] ??= [];
        return columns;
      },
    );
  }

  async #runPrepared(conn: DuckDBConnection, i: number, sql: string, params: Params) {
    const cache = this.#prepared[i] as Map<string, Prepared>;
    let statement = cache.get(sql);
    if (statement === undefined) {
      const created = conn.prepare(sql);
      created.catch(() => {
        if (cache.get(sql) === created) cache.delete(sql);
      });
      statement = created;
      this.#evict(cache);
    } else cache.delete(sql);
    // Most recently used last.
    cache.set(sql, statement);
    // The connection runs this read alone (#onReader): no other request has the statement bound.
    const prepared = await statement;
    prepared.bind(params);
    return prepared.streamAndReadAll();
  }

  /** Makes room in a full cache, destroying the least recently used statement (no read is under way). */
  #evict(cache: Map<string, Prepared>): void {
    if (cache.size < PREPARED_PER_READER) return;
    const [sql, statement] = cache.entries().next().value as [string, Prepared];
    cache.delete(sql);
    statement.then((s) => s.destroySync()).catch(() => undefined);
  }

  /**
   * Runs `fn` on a reader connection of its own, its result as `convert` turns it. A read waits for
   * the first connection to come free, not for a given one, so a slow query (a year of a busy
   * topic) holds up no read that another connection can take meanwhile.
   */
  async #onReader<T>(
    fn: (conn: DuckDBConnection, i: number) => Promise<DuckDBResultReader>,
    convert: (reader: DuckDBResultReader) => T,
    opts: ReadOptions = {},
  ): Promise<T> {
    if (this.#closed || this.#closing) throw new UserError('the database is closed', 503);
    const queue = opts.ahead ? this.#waiting.ahead : this.#waiting.rest;
    const read = (async () => {
      // The most recently freed connection first: its prepared statements are the likeliest warm.
      const i = this.#idle.pop() ?? (await new Promise<number>((resolve) => queue.push(resolve)));
      try {
        return await fn(this.readers[i] as DuckDBConnection, i);
      } finally {
        const next = this.#waiting.ahead.shift() ?? this.#waiting.rest.shift();
        if (next) next(i);
        else this.#idle.push(i);
      }
    })();
    this.#reading.add(read);
    try {
      return convert(await read);
    } finally {
      this.#reading.delete(read);
    }
  }

  /**
   * A connection of its own, for work that holds one across calls (a streamed read, a report's temp
   * tables, an export's snapshot) or must be interruptible on its own (the SQL console). Give it
   * back with `release`: closing waits for it.
   */
  async connect(): Promise<DuckDBConnection> {
    if (this.#closed || this.#closing) throw new UserError('the database is closed', 503);
    // In #reading before the first await, so a close that starts meanwhile waits for it too.
    let settle = () => {};
    const lent = new Promise<void>((resolve) => {
      settle = resolve;
    });
    this.#reading.add(lent);
    const done = () => {
      this.#reading.delete(lent);
      settle();
    };
    try {
      const conn = await this.instance.connect();
      this.#lent.set(conn, done);
      return conn;
    } catch (err) {
      done();
      throw err;
    }
  }

  /** Closes a connection from `connect`. */
  release(conn: DuckDBConnection): void {
    conn.closeSync();
    this.#lent.get(conn)?.();
    this.#lent.delete(conn);
  }

  /**
   * Closes once the writes queued and the reads under way have ended, refusing new ones meanwhile:
   * DuckDB closed under a running query never settles it, and the process then hangs in exit. Work
   * on lent connections (an export, a console query, a report) is interrupted: it ends with an
   * error, and every writer leaves whole transactions behind.
   */
  async closeGracefully(): Promise<void> {
    this.#closing = true;
    for (const conn of this.#lent.keys()) conn.interrupt();
    await this.#queue;
    await Promise.allSettled(this.#reading);
    this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.writer.closeSync();
    for (const reader of this.readers) reader.closeSync();
    this.instance.closeSync();
  }
}
