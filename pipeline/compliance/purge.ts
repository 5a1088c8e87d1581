/**
 * Removes mentions and everything derived from them, inside the caller's transaction: the one
 * step erasure and upstream deletions (X compliance, Mastodon, Bluesky) share. The
 * rollup hours they counted in are queued in rollup_dirty in the same transaction, so the caller's
 * refreshRollups (or the next scoring run, after a crash) recomputes them from what is left.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { appendRows, summariseAuthors } from '../ingest.js';
import { localHour } from '../scoring/rollups.js';
import { plainRows } from '../store.js';

export interface PurgeCounts {
  mentions: number;
  /** Other people's reposts of a purged mention (they carry its text). */
  reposts: number;
  /** Copies of a purged mention (syndicated elsewhere) that now count as originals again. */
  promotedCopies: number;
  corrections: number;
  /** Authors left with no mention, so removed. */
  authors: number;
  alertExamples: number;
}

/** Mention keys as the temp table purge_ids, which purgeMentions reads. */
export async function stagePurge(
  conn: DuckDBConnection,
  refs: Iterable<readonly [source: string, nativeId: string]>,
): Promise<void> {
  await conn.run('CREATE OR REPLACE TEMP TABLE purge_ids (source VARCHAR, native_id VARCHAR)');
  await appendRows(
    conn,
    'purge_ids',
    [...refs].map(([s, id]) => [s, id]),
  );
}

const count = async (conn: DuckDBConnection, sql: string, params: Record<string, string> = {}) =>
  Number(plainRows(await conn.runAndReadAll(sql, params))[0]?.n ?? 0);

/** An alert example stands for a purged mention when source and URL, or source, author and time, agree. */
interface ExampleKey {
  source: string;
  url: string | null;
  author: string | null;
  createdAt: string;
}

async function scrubAlertExamples(conn: DuckDBConnection, gone: ExampleKey[]): Promise<number> {
  if (gone.length === 0) return 0;
  const matches = (e: ExampleKey) =>
    gone.some(
      (g) =>
        g.source === e.source &&
        ((g.url !== null && g.url === e.url) || (g.author === e.author && g.createdAt === e.createdAt)),
    );
  const alerts = plainRows(
    await conn.runAndReadAll(
      "SELECT id, why::VARCHAR AS why FROM alerts WHERE json_array_length(why, '$.examples') > 0",
    ),
  );
  let removed = 0;
  for (const a of alerts) {
    const why = JSON.parse(String(a.why)) as { examples: ExampleKey[] };
    const kept = why.examples.filter((e) => !matches(e));
    if (kept.length === why.examples.length) continue;
    removed += why.examples.length - kept.length;
    await conn.run('UPDATE alerts SET why = $2::JSON WHERE id = $1', [
      Number(a.id),
      JSON.stringify({ ...why, examples: kept }),
    ]);
  }
  return removed;
}

/**
 * Deletes the mentions in purge_ids (and the reposts of them) with their scores, tags, terms,
 * corrections, training references and alert examples; refreshes their authors' counts (authors
 * left with no mention are deleted); promotes copies whose original is gone. Drops purge_ids.
 */
export async function purgeMentions(conn: DuckDBConnection, tz: string): Promise<PurgeCounts> {
  const direct = await count(
    conn,
    'SELECT count(*) AS n FROM mentions SEMI JOIN purge_ids USING (source, native_id)',
  );
  await conn.run(
    `INSERT INTO purge_ids SELECT m.source, m.native_id FROM mentions m
     WHERE m.is_repost AND EXISTS (SELECT 1 FROM purge_ids p WHERE p.source = m.source AND p.native_id = m.repost_of)
       AND NOT EXISTS (SELECT 1 FROM purge_ids p WHERE p.source = m.source AND p.native_id = m.native_id)`,
  );
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE purge_rows AS
     SELECT m.source, m.native_id, m.url, coalesce(m.author_handle, m.author_name) AS author, m.author_id, m.created_at
     FROM mentions m SEMI JOIN purge_ids USING (source, native_id)`,
  );
  const total = await count(conn, 'SELECT count(*) AS n FROM purge_rows');
  const gone = plainRows(
    await conn.runAndReadAll('SELECT source, url, author, created_at FROM purge_rows'),
  ).map((r) => ({
    source: String(r.source),
    url: (r.url as string | null) ?? null,
    author: (r.author as string | null) ?? null,
    createdAt: (r.created_at as Date).toISOString(),
  }));
  const alertExamples = await scrubAlertExamples(conn, gone);

  // The copies of a purged original: the first of each group becomes the original, the rest its copies.
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE purge_copies AS
     SELECT s.source, s.native_id, m.created_at,
       first_value(s.source) OVER w AS new_source, first_value(s.native_id) OVER w AS new_id
     FROM mention_scores s JOIN mentions m USING (source, native_id)
     JOIN purge_rows p ON p.source = s.copy_of_source AND p.native_id = s.copy_of_id
     WHERE NOT EXISTS (SELECT 1 FROM purge_rows q WHERE q.source = s.source AND q.native_id = s.native_id)
     WINDOW w AS (PARTITION BY s.copy_of_source, s.copy_of_id ORDER BY s.scored_at, s.source, s.native_id)`,
  );
  const promotedCopies = await count(
    conn,
    'SELECT count(DISTINCT (new_source, new_id)) AS n FROM purge_copies',
  );
  await conn.run(
    `UPDATE mention_scores s SET
       copy_of_source = CASE WHEN c.source = c.new_source AND c.native_id = c.new_id THEN NULL ELSE c.new_source END,
       copy_of_id = CASE WHEN c.source = c.new_source AND c.native_id = c.new_id THEN NULL ELSE c.new_id END
     FROM purge_copies c WHERE s.source = c.source AND s.native_id = c.native_id`,
  );

  await conn.run(
    `INSERT OR IGNORE INTO rollup_dirty
     SELECT DISTINCT ${localHour('created_at')} FROM (SELECT created_at FROM purge_rows UNION ALL SELECT created_at FROM purge_copies)`,
    { tz },
  );
  const corrections = await count(
    conn,
    'SELECT count(*) AS n FROM sentiment_corrections SEMI JOIN purge_rows USING (source, native_id)',
  );
  for (const table of [
    'mention_topics',
    'topic_tagged',
    'mention_terms',
    'mention_scores',
    'sentiment_corrections',
    'sentiment_layer_training',
    'mentions',
  ]) {
    await conn.run(
      `DELETE FROM ${table} t WHERE EXISTS (SELECT 1 FROM purge_rows p WHERE p.source = t.source AND p.native_id = t.native_id)`,
    );
  }
  // Authors are a summary of their mentions: recount the ones touched (deleting those left with none).
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE touched_authors AS
     SELECT DISTINCT source, author_id FROM purge_rows WHERE author_id IS NOT NULL`,
  );
  const authors = await count(
    conn,
    `SELECT count(*) AS n FROM touched_authors t
     WHERE NOT EXISTS (SELECT 1 FROM mentions m WHERE m.source = t.source AND m.author_id = t.author_id)
       AND EXISTS (SELECT 1 FROM authors a WHERE a.source = t.source AND a.author_id = t.author_id)`,
  );
  await summariseAuthors(conn);
  for (const t of ['touched_authors', 'purge_copies', 'purge_rows', 'purge_ids'])
    await conn.run(`DROP TABLE ${t}`);
  return { mentions: direct, reposts: total - direct, promotedCopies, corrections, authors, alertExamples };
}
