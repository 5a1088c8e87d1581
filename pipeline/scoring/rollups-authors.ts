/**
 * rollup_author_days (migration 015): rollup_authors_daily with each author as a 64-bit key and
 * their first day of the topic on every row, what the opinion-leaders chart reads, with each
 * author's bound of impact and each topic's floor (migration 016). Copied, not
 * computed from mentions: the refresh calls this for the local days or the topics it has just
 * rewritten in rollup_authors_daily (a topic's deletion included), inside its transaction, and
 * whatever changed those rows (new mentions, new counts, a re-score, a correction, an erasure,
 * retention, a topic edit) is copied with them. Only the scope is read: comparing the whole table
 * each time (a fingerprint per topic and day) cost 175 ms CPU a refresh at a million mentions.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { plainRows } from '../store.js';

// The key of (source, author_id) at a given attempt; 0 is the one migration 015 gives.
const keyOf = (attempt: number) =>
  attempt === 0
    ? "md5_number_lower(source || ':' || author_id)"
    : `md5_number_lower(source || ':' || author_id || ':${attempt}')`;

/**
 * How many authors per topic the opinion-leaders chart groups first (rollup_author_floors): four
 * times its largest limit, so that the limit-th impact among them is usually high enough to rule
 * out every other author in one pass. Migration 016 used the same number.
 */
const LEADER_CANDIDATES = 800;

/** A list of strings as a SQL literal (topic ids: lowercase letters, digits, '-' and '_'). */
const sqlList = (items: readonly string[]) =>
  `[${items.map((i) => `'${i.replaceAll("'", "''")}'`).join(', ')}]::VARCHAR[]`;

async function count(conn: DuckDBConnection, table: string): Promise<number> {
  const [row] = plainRows(await conn.runAndReadAll(`SELECT count(*) AS n FROM ${table}`));
  return Number(row?.n ?? 0);
}

/**
 * Gives every author of author_rows without a key one nobody else holds. Some collision among ten
 * million authors has odds of about 1 in 370,000 (n^2 / 2^65); the loser takes the next attempt's key.
 */
async function assignKeys(conn: DuckDBConnection): Promise<void> {
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE author_unkeyed AS
     SELECT DISTINCT source, author_id FROM author_rows ANTI JOIN author_keys USING (source, author_id)`,
  );
  for (let attempt = 0; (await count(conn, 'author_unkeyed')) > 0; attempt++) {
    await conn.run(
      `INSERT INTO author_keys
       SELECT n.author_key, n.source, n.author_id, a.handle, a.name FROM (
         SELECT author_key, source, author_id FROM (SELECT ${keyOf(attempt)} AS author_key, source, author_id FROM author_unkeyed)
         ANTI JOIN author_keys USING (author_key)
         QUALIFY row_number() OVER (PARTITION BY author_key ORDER BY source, author_id) = 1) n
       LEFT JOIN authors a USING (source, author_id)`,
    );
    await conn.run(
      'DELETE FROM author_unkeyed u WHERE EXISTS (SELECT 1 FROM author_keys k WHERE k.source = u.source AND k.author_id = u.author_id)',
    );
  }
  await conn.run('DROP TABLE author_unkeyed');
}

/**
 * What a refresh rewrote in rollup_authors_daily: every topic's rows of the local days in a table
 * (column `day`), or the given topics' rows of every day; null: everything (a new time zone).
 */
export type AuthorDaysScope = { days: string } | { topics: readonly string[] } | null;

/** Brings rollup_author_days and author_keys in line with rollup_authors_daily within `scope`. */
export async function syncAuthorDays(conn: DuckDBConnection, scope: AuthorDaysScope): Promise<void> {
  if (scope !== null && 'topics' in scope && scope.topics.length === 0) return;
  const inScope =
    scope === null
      ? 'true'
      : 'days' in scope
        ? `day IN (SELECT day FROM ${scope.days})`
        : `list_contains(${sqlList(scope.topics)}, topic_id)`;
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE author_rows AS SELECT * FROM rollup_authors_daily WHERE ${inScope}`,
  );
  await assignKeys(conn);
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE author_new AS
     SELECT r.topic_id, r.day, k.author_key, r.mentions, r.engagement, r.followers
     FROM author_rows r JOIN author_keys k USING (source, author_id)`,
  );
  // Authors of the scope, before and after: only their first days can have moved.
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE author_touched AS
     SELECT topic_id, author_key FROM rollup_author_days WHERE ${inScope}
     UNION SELECT topic_id, author_key FROM author_new`,
  );
  await conn.run(`DELETE FROM rollup_author_days WHERE ${inScope}`);
  // Each touched author's first day from their rows left and their new ones; `moved` when it is
  // not the one their rows left carry (rare: an earlier day arrived late, or the first one went).
  // With it their bound over all those rows (migration 016), recomputed rather than only raised:
  // an erasure, retention or a correction can lower it.
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE author_firsts AS
     SELECT topic_id, author_key, min(day) AS first_day,
       coalesce(min(old_first) <> min(day) OR max(old_first) <> min(day), false) AS moved,
       ln(1 + coalesce(max(followers), 0)) + ln(1 + sum(engagement)) AS ub
     FROM (
       SELECT topic_id, author_key, day, first_day AS old_first, engagement, followers
       FROM rollup_author_days SEMI JOIN author_touched USING (topic_id, author_key)
       UNION ALL SELECT topic_id, author_key, day, NULL, engagement, followers FROM author_new)
     GROUP BY topic_id, author_key`,
  );
  // Both steps below read the whole table: only when there is something to do.
  if ((await count(conn, 'author_firsts WHERE moved')) > 0) {
    await conn.run(
      `UPDATE rollup_author_days r SET first_day = f.first_day FROM author_firsts f
       WHERE f.moved AND r.topic_id = f.topic_id AND r.author_key = f.author_key`,
    );
  }
  await conn.run(
    `INSERT INTO rollup_author_days
     SELECT n.*, f.first_day FROM author_new n JOIN author_firsts f USING (topic_id, author_key)
     ORDER BY n.topic_id, n.day`,
  );
  await conn.run(
    `DELETE FROM rollup_author_bounds b USING author_touched t
     WHERE b.topic_id = t.topic_id AND b.author_key = t.author_key`,
  );
  await conn.run(
    `INSERT INTO rollup_author_bounds
     SELECT topic_id, author_key, first_day, ub FROM author_firsts ORDER BY topic_id, ub DESC`,
  );
  await conn.run(`DELETE FROM rollup_author_floors WHERE topic_id IN (SELECT topic_id FROM author_touched)`);
  await conn.run(
    `INSERT INTO rollup_author_floors
     SELECT topic_id, list_min(max(ub, ${LEADER_CANDIDATES})) FROM rollup_author_bounds
     WHERE topic_id IN (SELECT topic_id FROM author_touched) GROUP BY topic_id`,
  );
  // Keys of authors left without a row in any topic go (an erased author's among them).
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE author_gone AS
     SELECT DISTINCT author_key FROM author_touched ANTI JOIN author_firsts USING (topic_id, author_key)`,
  );
  if ((await count(conn, 'author_gone')) > 0) {
    await conn.run(
      `DELETE FROM author_keys WHERE author_key IN (
         SELECT author_key FROM author_gone ANTI JOIN rollup_author_days USING (author_key))`,
    );
  }
  for (const t of ['author_rows', 'author_new', 'author_touched', 'author_firsts', 'author_gone'])
    await conn.run(`DROP TABLE ${t}`);
}

/**
 * Copies the handles and names of the authors in the temp table touched_authors (source,
 * author_id) to their keys, after summariseAuthors recomputed them (NULL for one it deleted).
 */
export async function copyAuthorNames(conn: DuckDBConnection): Promise<void> {
  await conn.run(
    `UPDATE author_keys k SET handle = t.handle, name = t.name
     FROM (SELECT u.source, u.author_id, a.handle, a.name FROM touched_authors u LEFT JOIN authors a USING (source, author_id)) t
     WHERE k.source = t.source AND k.author_id = t.author_id
       AND (k.handle IS DISTINCT FROM t.handle OR k.name IS DISTINCT FROM t.name)`,
  );
}
