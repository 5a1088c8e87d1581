import { type DuckDBConnection, DuckDBDataChunk, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import type { MentionRecord, QuarantineItem } from '../collectors/contract.js';
import { copyAuthorNames } from './scoring/rollups-authors.js';
import { redact } from './secrets.js';
import { type Store, timestamptz } from './store.js';

/** Everything one collector batch changes; written by `writeBatch` in the caller's transaction. */
export interface BatchWrite {
  source: string;
  partition: string;
  runId: number;
  records: readonly MentionRecord[];
  quarantine: readonly QuarantineItem[];
  bookmark: unknown;
  /** Calls taken from shared daily quotas while fetching this batch: provider -> day -> calls. */
  budget: ReadonlyMap<string, ReadonlyMap<string, number>>;
  now: Date;
}

export interface BatchResult {
  /** Records written (new + updated), after removing repeats inside the batch. */
  rows: number;
  newRows: number;
}

// DuckDB's vector size: the most rows one data chunk holds.
const CHUNK_ROWS = 2048;

// A count past BIGINT is no real count; stored, it would fail its whole batch on every run
// (a reposts_count of 9.3e18, found by tests/fuzz/collectors.test.ts).
const int = (n: number | null): bigint | null =>
  n === null || !Number.isFinite(n) || Math.abs(n) >= 2 ** 63 ? null : BigInt(Math.trunc(n));

/**
 * JSON text DuckDB's JSON type accepts. JSON.stringify writes a lone UTF-16 surrogate (collected
 * text is attacker-controlled) as an escape such as \\ud800, which DuckDB refuses ("no low
 * surrogate"): each becomes U+FFFD, as a decoder would. Paired surrogates are written as they are,
 * and an escape is one only after an even run of backslashes.
 */
export function storedJson(value: unknown): string {
  const text = JSON.stringify(value ?? null);
  return text.includes('\\ud')
    ? text.replace(/(?<!\\)((?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/g, '$1\\ufffd')
    : text;
}

/** One mention as a row of the mentions table, in column order (data/migrations/001_init.sql). */
export function mentionRow(
  source: string,
  partition: string,
  r: MentionRecord,
  now: DuckDBValue,
): DuckDBValue[] {
  return [
    source,
    r.nativeId,
    partition,
    r.channel,
    r.url,
    r.title,
    r.text,
    r.lang,
    r.authorId,
    r.authorHandle,
    r.authorName,
    int(r.authorFollowers),
    timestamptz(r.createdAt),
    r.createdAtEstimated,
    now,
    now,
    int(r.likes),
    int(r.reposts),
    int(r.replies),
    int(r.views),
    r.parentId,
    r.conversationId,
    r.repostOf !== null,
    r.repostOf,
    storedJson(r.raw),
  ];
}

const typeCache = new WeakMap<DuckDBConnection, Map<string, DuckDBType[]>>();

/**
 * Appends rows to `table` through one Appender in whole data chunks. Rows are pulled lazily, one
 * chunk's worth at a time, so a large batch is never held twice in memory as rows.
 */
export async function appendRows(
  conn: DuckDBConnection,
  table: string,
  rows: Iterable<DuckDBValue[]>,
): Promise<number> {
  const appender = await conn.createAppender(table);
  let count = 0;
  try {
    const cache = typeCache.get(conn) ?? new Map<string, DuckDBType[]>();
    typeCache.set(conn, cache);
    let types = cache.get(table);
    if (!types) {
      types = Array.from({ length: appender.columnCount }, (_, i) => appender.columnType(i));
      cache.set(table, types);
    }
    let part: DuckDBValue[][] = [];
    const appendPart = () => {
      const chunk = DuckDBDataChunk.create(types, part.length);
      chunk.setRows(part);
      appender.appendDataChunk(chunk);
      count += part.length;
      part = [];
    };
    for (const row of rows) {
      part.push(row);
      if (part.length === CHUNK_ROWS) appendPart();
    }
    if (part.length > 0) appendPart();
    appender.flushSync();
  } catch (err) {
    // A failed append aborts the transaction, and closing then fails too: that second error must
    // not replace the first, which says why (storeBatch retries on a duplicate key; found by
    // tests/fuzz/collectors.test.ts). The rows it could not flush stay buffered in the appender,
    // and its finalizer flushes them again whenever it is garbage-collected, into whatever
    // transaction the connection is in by then (aborting the retry or a later batch; found by CI):
    // so they are cleared first.
    appender.clear();
    try {
      appender.closeSync();
    } catch {}
    throw err;
  }
  appender.closeSync();
  return count;
}

/**
 * The batch's scratch tables. Created in the batch's own transaction every time: a rolled-back
 * transaction takes temp tables created in it along, so remembering "created" per connection
 * broke the retry of the first batch after a restart.
 */
async function prepareScratch(conn: DuckDBConnection): Promise<void> {
  await conn.run(
    'CREATE TEMP TABLE IF NOT EXISTS batch_keys (native_id VARCHAR NOT NULL, i INTEGER NOT NULL, unbounded BOOLEAN NOT NULL)',
  );
  await conn.run(`CREATE TEMP TABLE IF NOT EXISTS batch_updates (
    native_id VARCHAR NOT NULL, seen_at TIMESTAMPTZ NOT NULL, author_followers BIGINT,
    likes BIGINT, reposts BIGINT, replies BIGINT, views BIGINT)`);
}

/**
 * Which of the batch's records are already stored, by index. The join scans the keys of the
 * mentions table; when `window` is set only row groups whose created_at range overlaps the batch
 * are read (zone maps), which keeps a batch's cost from growing with the whole table. Records
 * whose time is estimated (first-seen) are looked up without the window.
 */
async function existingIndexes(
  conn: DuckDBConnection,
  source: string,
  records: readonly MentionRecord[],
  window: boolean,
): Promise<Set<number>> {
  await appendRows(
    conn,
    'batch_keys',
    records.map((r, i) => [r.nativeId, i, r.createdAtEstimated || !window]),
  );
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const r of records) {
    if (r.createdAtEstimated) continue;
    lo = Math.min(lo, r.createdAt.getTime());
    hi = Math.max(hi, r.createdAt.getTime());
  }
  const found = new Set<number>();
  const collect = async (sql: string, params: DuckDBValue[]) => {
    for (const i of (await conn.runAndReadAll(sql, params)).getColumns()[0] ?? []) found.add(Number(i));
  };
  if (Number.isFinite(lo)) {
    await collect(
      `SELECT k.i FROM batch_keys k JOIN mentions m ON m.source = $1 AND m.native_id = k.native_id
       WHERE NOT k.unbounded AND m.created_at BETWEEN $2 AND $3`,
      [source, timestamptz(new Date(lo)), timestamptz(new Date(hi))],
    );
  }
  if (records.some((r) => r.createdAtEstimated) || !window) {
    await collect(
      'SELECT k.i FROM batch_keys k JOIN mentions m ON m.source = $1 AND m.native_id = k.native_id WHERE k.unbounded',
      [source],
    );
  }
  await conn.run('DELETE FROM batch_keys');
  return found;
}

/** The error DuckDB raises when an insert meets a primary key. */
export const isDuplicateKey = (err: unknown) =>
  /duplicate key|primary key constraint/i.test(String((err as Error)?.message));

/**
 * Stores one batch in one transaction. The fast key lookup assumes a mention keeps its created_at;
 * when a source changed it (an RSS item re-dated), the insert meets the primary key, the
 * transaction rolls back whole, and the batch is written again with the full lookup.
 */
export async function storeBatch(
  store: Store,
  w: BatchWrite,
  /** More the batch writes in its transaction, before the bookmark (imported export files); its rows count with the batch's. */
  also?: (conn: DuckDBConnection) => Promise<BatchResult>,
): Promise<BatchResult> {
  const write = async (conn: DuckDBConnection, window: boolean) =>
    writeBatch(conn, w, window, also ? await also(conn) : undefined);
  try {
    return await store.write((conn) => write(conn, true));
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    return store.write((conn) => write(conn, false));
  }
}

/** How far past its collection a mention's time may lie: platforms' clocks run a little ahead. */
const AHEAD_MS = 3_600_000;

/**
 * The record with a time no later than AHEAD_MS past `now`, its collection: a post is not written
 * after it was seen, so a time further ahead (a feed's wrong zone or year, a post scheduled ahead)
 * becomes the collection time, marked as estimated. Every later stage may rely on it (the stream's
 * score look-up does: pipeline/metrics/stream.ts).
 */
function notAhead(r: MentionRecord, now: Date): MentionRecord {
  return r.createdAt.getTime() > now.getTime() + AHEAD_MS
    ? { ...r, createdAt: now, createdAtEstimated: true }
    : r;
}

/**
 * Writes one batch inside the caller's transaction. Exactly-once in effect: the batch's keys are
 * joined against the table once, new mentions go in through the Appender in whole data chunks,
 * re-seen ones only get their engagement counts and seen_at refreshed. Repeats inside the batch
 * keep the last copy. Quarantined payloads, the quota calls and the bookmark go in with them.
 */
export async function writeBatch(
  conn: DuckDBConnection,
  w: BatchWrite,
  window = false,
  /** Rows the caller already wrote in this transaction for the batch, counted with it. */
  extra: BatchResult = { rows: 0, newRows: 0 },
): Promise<BatchResult> {
  await prepareScratch(conn);
  const byId = new Map<string, MentionRecord>();
  for (const r of w.records) byId.set(r.nativeId, notAhead(r, w.now));
  const records = [...byId.values()];
  const now = timestamptz(w.now);

  let newRows = 0;
  if (records.length > 0) {
    const existing = await existingIndexes(conn, w.source, records, window);

    // Re-seen mentions only get their counts refreshed; new ones are converted chunk by chunk.
    const updates: DuckDBValue[][] = [];
    function* fresh(): Generator<DuckDBValue[]> {
      for (let i = 0; i < records.length; i++) {
        const r = records[i] as MentionRecord;
        if (!existing.has(i)) yield mentionRow(w.source, w.partition, r, now);
        else
          updates.push([
            r.nativeId,
            now,
            int(r.authorFollowers),
            int(r.likes),
            int(r.reposts),
            int(r.replies),
            int(r.views),
          ]);
      }
    }
    newRows = await appendRows(conn, 'mentions', fresh());
    if (updates.length > 0) {
      await appendRows(conn, 'batch_updates', updates);
      // A source that stops reporting a count (null) keeps the last one it gave.
      await conn.run(
        `UPDATE mentions m SET seen_at = u.seen_at,
           author_followers = coalesce(u.author_followers, m.author_followers),
           likes = coalesce(u.likes, m.likes), reposts = coalesce(u.reposts, m.reposts),
           replies = coalesce(u.replies, m.replies), views = coalesce(u.views, m.views)
         FROM batch_updates u WHERE m.source = $1 AND m.native_id = u.native_id`,
        [w.source],
      );
      await conn.run('DELETE FROM batch_updates');
    }
  }

  for (const q of w.quarantine) {
    await conn.run(
      'INSERT INTO quarantine (source, partition, received_at, url, error, raw) VALUES ($1, $2, $3, $4, $5, $6)',
      [w.source, w.partition, now, q.url === null ? null : redact(q.url), redact(q.error), q.raw],
    );
  }
  for (const [provider, days] of w.budget) {
    for (const [day, calls] of days) {
      await conn.run(
        `INSERT INTO api_budget VALUES ($1, $2::DATE, $3)
         ON CONFLICT (provider, day) DO UPDATE SET calls = api_budget.calls + excluded.calls`,
        [provider, day, calls],
      );
    }
  }
  await conn.run(
    `INSERT INTO bookmarks VALUES ($1, $2, $3, $4)
     ON CONFLICT (source, partition) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
    [w.source, w.partition, storedJson(w.bookmark), now],
  );
  await conn.run(
    'UPDATE collection_runs SET rows = rows + $2, new_rows = new_rows + $3, quarantined = quarantined + $4 WHERE id = $1',
    [w.runId, records.length + extra.rows, newRows + extra.newRows, w.quarantine.length],
  );
  return { rows: records.length + extra.rows, newRows: newRows + extra.newRows };
}

/**
 * Brings authors up to date with mentions seen since the last refresh of this source (a watermark
 * kept in pipeline_state, advanced in the same transaction), so a crash never leaves it behind.
 */
export async function refreshAuthors(conn: DuckDBConnection, source: string): Promise<void> {
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE touched_authors AS
     SELECT DISTINCT source, author_id FROM mentions
     WHERE source = $1 AND author_id IS NOT NULL
       AND seen_at >= coalesce((SELECT through FROM pipeline_state WHERE stage = 'authors' AND key = $1), '-infinity'::TIMESTAMPTZ)`,
    [source],
  );
  await summariseAuthors(conn);
  await conn.run(
    `INSERT OR REPLACE INTO pipeline_state
     SELECT 'authors', $1, max(seen_at) FROM mentions WHERE source = $1 HAVING max(seen_at) IS NOT NULL`,
    [source],
  );
  await conn.run('DROP TABLE touched_authors');
}

/**
 * Recomputes the authors listed in the temp table touched_authors (source, author_id) from their
 * stored mentions; one left with no mention is deleted (erasure and upstream deletions get here).
 */
export async function summariseAuthors(conn: DuckDBConnection): Promise<void> {
  await conn.run(
    `DELETE FROM authors a WHERE EXISTS (SELECT 1 FROM touched_authors t WHERE t.source = a.source AND t.author_id = a.author_id)
       AND NOT EXISTS (SELECT 1 FROM mentions m WHERE m.source = a.source AND m.author_id = a.author_id)`,
  );
  await conn.run(
    `INSERT OR REPLACE INTO authors
     SELECT m.source, m.author_id, arg_max(m.author_handle, m.seen_at), arg_max(m.author_name, m.seen_at),
            arg_max(m.author_followers, m.seen_at), min(m.created_at), max(m.created_at), count(*)
     FROM mentions m SEMI JOIN touched_authors t ON m.source = t.source AND m.author_id = t.author_id
     GROUP BY m.source, m.author_id`,
  );
  await copyAuthorNames(conn);
}
