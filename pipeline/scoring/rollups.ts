/**
 * The rollups the dashboard and the spike detector read instead of raw mentions. Each refresh
 * recomputes whole buckets from the source tables (DELETE + INSERT ... SELECT in one transaction)
 * instead of adding and subtracting deltas, so running it twice, or after a crash, gives the same
 * rows. Buckets are local hours and days of the reporting time zone.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { plainRows, type Store, timestamptz } from '../store.js';
import { syncAuthorDays } from './rollups-authors.js';

// Re-seen mentions (new engagement counts) are found by seen_at. Collectors stamp a batch before it
// waits for the writer, so a batch can commit just below a watermark another one advanced; the
// refresh re-reads this much before the watermark (see REREAD_SLACK in pipeline/topics/tag.ts).
const SEEN_SLACK = "INTERVAL '10 minutes'";

const TZ_KEY = 'rollup_timezone';

/** What one refresh recomputed. */
export interface RollupResult {
  /** Local days recomputed for every topic. */
  days: number;
  /** Topics whose rollups were rebuilt in full (edited, re-tagged or new). */
  topics: string[];
  /** True when the reporting time zone changed and everything was rebuilt. */
  rebuilt: boolean;
}

/** SQL: the instant the local hour of `col` starts, in the zone of parameter $tz. */
export const localHour = (col: string) => `timezone($tz, date_trunc('hour', timezone($tz, ${col})))`;

/**
 * The scored mentions in scope, one row per (topic, mention): topic '*' for every mention, and one
 * row per topic the mention is tagged with. `originals` count in volume; reposts and copies apart.
 */
async function collectScope(
  conn: DuckDBConnection,
  tz: string,
  scope: { where: string; params: Record<string, DuckDBValue>; topics: string[] | null },
): Promise<void> {
  // Time zone conversion costs microseconds a row; every zone offset is a multiple of 15 minutes,
  // so each UTC quarter hour lies in one local hour and only the distinct quarters are converted.
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE rollup_src AS
     WITH src AS (
       SELECT m.source, m.native_id, m.created_at, time_bucket(INTERVAL '15 minutes', m.created_at) AS quarter,
         -- a user's correction, when there is one, is the label every metric counts
         s.lang, coalesce(c.label, s.sentiment) AS sentiment, m.is_repost AS repost,
         s.copy_of_id IS NOT NULL AND NOT m.is_repost AS copy,
         s.copy_of_id IS NULL AND NOT m.is_repost AS original,
         coalesce(m.likes, 0) + coalesce(m.reposts, 0) + coalesce(m.replies, 0) AS engagement,
         coalesce(m.author_followers, 0) AS reach, m.author_id, m.author_followers
       FROM mentions m JOIN mention_scores s USING (source, native_id)
       LEFT JOIN sentiment_corrections_latest c USING (source, native_id)
       WHERE ${scope.where}),
     quarters AS (
       SELECT quarter, ${localHour('quarter')} AS hour_start, timezone($tz, quarter)::DATE AS day
       FROM (SELECT DISTINCT quarter FROM src))
     SELECT src.* EXCLUDE (quarter), q.hour_start, q.day FROM src JOIN quarters q USING (quarter)`,
    { tz, ...scope.params },
  );
  const tagged = 'SELECT t.topic_id, r.* FROM rollup_src r JOIN mention_topics t USING (source, native_id)';
  await conn.run(
    scope.topics === null
      ? `CREATE OR REPLACE TEMP TABLE rollup_rows AS SELECT '*' AS topic_id, * FROM rollup_src UNION ALL ${tagged}`
      : `CREATE OR REPLACE TEMP TABLE rollup_rows AS ${tagged} WHERE list_contains($topics::VARCHAR[], t.topic_id)`,
    scope.topics === null ? {} : { topics: JSON.stringify(scope.topics) },
  );
}

/**
 * Writes the rollups from rollup_rows (whose buckets the caller has just deleted). The daily tables
 * sum the hourly rows just written: rollup_rows always holds whole local days. Rows go in ordered
 * by (topic, time), the order charts filter on (see compact). `terms` bounds the term index read
 * to the instants the mentions in scope were posted, when known.
 */
async function insertRollups(
  conn: DuckDBConnection,
  terms: { where: string; params: Record<string, DuckDBValue> } = { where: 'true', params: {} },
): Promise<void> {
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE rollup_new AS
     SELECT topic_id, hour_start, source, lang, sentiment,
       count(*) FILTER (WHERE original) AS mentions, count(*) FILTER (WHERE repost) AS reposts,
       count(*) FILTER (WHERE copy) AS copies,
       coalesce(sum(engagement) FILTER (WHERE original), 0) AS engagement,
       coalesce(sum(reach) FILTER (WHERE original), 0) AS reach, any_value(day) AS day
     FROM rollup_rows GROUP BY ALL`,
  );
  await conn.run(
    'INSERT INTO rollup_hourly SELECT * EXCLUDE (day) FROM rollup_new ORDER BY topic_id, hour_start',
  );
  await conn.run(
    `INSERT INTO rollup_mentions
     SELECT topic_id, created_at, source, native_id, lang, sentiment, original FROM rollup_rows
     ORDER BY topic_id, created_at`,
  );
  await conn.run(
    `INSERT INTO rollup_daily
     SELECT topic_id, day, source, lang, sentiment, sum(mentions), sum(reposts), sum(copies),
       sum(engagement), sum(reach)
     FROM rollup_new GROUP BY ALL ORDER BY topic_id, day`,
  );
  await conn.run(
    `INSERT INTO rollup_authors_daily
     SELECT topic_id, day, source, author_id, count(*), sum(engagement), max(author_followers)
     FROM rollup_rows WHERE original AND author_id IS NOT NULL GROUP BY ALL ORDER BY topic_id, day`,
  );
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE rollup_new AS
     SELECT r.topic_id, r.hour_start, t.term, count(*) AS mentions, any_value(r.day) AS day
     FROM rollup_rows r JOIN mention_terms t USING (source, native_id)
     WHERE r.original AND ${terms.where} GROUP BY ALL`,
    terms.params,
  );
  await conn.run(
    'INSERT INTO rollup_terms_hourly SELECT * EXCLUDE (day) FROM rollup_new ORDER BY topic_id, hour_start',
  );
  await conn.run(
    `INSERT INTO rollup_terms_daily
     SELECT topic_id, day, term, sum(mentions) FROM rollup_new GROUP BY ALL ORDER BY topic_id, day`,
  );
  await conn.run('DROP TABLE rollup_new');
  await conn.run('DROP TABLE rollup_rows');
  await conn.run('DROP TABLE rollup_src');
}

// Tables of instants, by the column holding the instant; tables of local days.
const HOURLY: Array<[string, string]> = [
  ['rollup_hourly', 'hour_start'],
  ['rollup_terms_hourly', 'hour_start'],
  ['rollup_mentions', 'created_at'],
];
const DAILY = ['rollup_daily', 'rollup_terms_daily', 'rollup_authors_daily'];
const ALL_ROLLUPS = [...HOURLY.map(([table]) => table), ...DAILY];
// Copied from rollup_authors_daily by syncAuthorDays.
const AUTHOR_TABLES = ['rollup_author_days', 'rollup_author_bounds', 'rollup_author_floors', 'author_keys'];

/** The order each table is kept in: the columns its readers filter on, most selective first. */
const LAYOUT: Array<[string, string]> = [
  ['rollup_hourly', 'topic_id, hour_start'],
  ['rollup_terms_hourly', 'topic_id, hour_start'],
  ['rollup_daily', 'topic_id, day'],
  ['rollup_terms_daily', 'topic_id, day'],
  ['rollup_authors_daily', 'topic_id, day'],
  ['rollup_author_days', 'topic_id, day'],
  // The chart reads a topic's highest bounds only (ub >= its floor): those row groups alone.
  ['rollup_author_bounds', 'topic_id, ub DESC'],
  ['rollup_mentions', 'topic_id, created_at'],
  ['mention_terms', 'term, created_at'],
];
// A table of one row group (DuckDB's default size) gains nothing from order. Above that it does: a
// year of rollup_daily at ten million mentions is four row groups, each holding every topic, and a
// chart's query read all four (13 ms of CPU) instead of one (6 ms) until it was kept in order too.
// (Migration 013 used 500,000 and recorded no compaction below it: the next refresh sorts those.)
const COMPACT_FLOOR = 122_880;

/**
 * How much one transaction of a refresh may hold. DuckDB frees a transaction's temp tables and
 * undo only at COMMIT, so a year of dirty days (a backfill, a restored history, a new time zone)
 * recomputed in one transaction ran out of memory at ten million mentions, and so did the
 * rewrite of the 125 million row term index: both are split into transactions of about this size.
 */
export interface RefreshLimits {
  /** Mentions whose local days one transaction recomputes (whole days: a bigger day goes alone). */
  sliceMentions: number;
  /** Rows one compaction transaction rewrites (whole keys: a bigger key goes alone). */
  compactRows: number;
}
const LIMITS: RefreshLimits = { sliceMentions: 1_000_000, compactRows: 5_000_000 };

/**
 * Consecutive runs of `items` (in order) whose sizes add up to at most `limit`; an item above it
 * forms a run of its own.
 */
function batches<T>(items: Array<{ item: T; n: number }>, limit: number): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const { item, n } of items) {
    if (current.length > 0 && size + n > limit) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += n;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * Rewrites `table` in its LAYOUT order once it has doubled since the last rewrite. Appends keep
 * each refresh's rows in order but interleave refreshes (time order), so a topic's or a term's rows
 * spread over every row group written since; a rewrite puts them back together so min/max pruning
 * skips the rest. Doubling makes the rewrites cost at most about twice the table over its life.
 * With `inOrder` (the caller knows the rows are already in that order) only the size is recorded.
 *
 * The rewrite moves ranges of the first layout column, in order, each in its own transaction:
 * each range is appended after the last, so once every range has moved the table is in order.
 * A crash part way leaves every row in place (some moved) and the size unrecorded, so the next
 * refresh rewrites the table again.
 */
async function compact(
  store: Store,
  table: string,
  order: string,
  inOrder: boolean,
  chunkRows: number,
): Promise<void> {
  const key = order.split(',')[0] as string;
  const plan = await store.write(async (conn) => {
    const [row] = plainRows(
      await conn.runAndReadAll(
        `SELECT (SELECT count(*) FROM ${table}) AS n,
           (SELECT value::BIGINT FROM meta WHERE key = $1) AS last`,
        [`compacted:${table}`],
      ),
    );
    const n = Number(row?.n ?? 0);
    if (n < COMPACT_FLOOR || n < 2 * Number(row?.last ?? 0)) return null;
    const keys = inOrder
      ? []
      : plainRows(
          await conn.runAndReadAll(`SELECT ${key} AS k, count(*) AS n FROM ${table} GROUP BY k ORDER BY k`),
        );
    return { n, keys: keys.map((r) => ({ item: r.k as string, n: Number(r.n) })) };
  });
  if (plan === null) return;
  for (const range of batches(plan.keys, chunkRows)) {
    await store.write(async (conn) => {
      const params = { lo: range[0] as string, hi: range[range.length - 1] as string };
      const inRange = `${key} >= $lo AND ${key} <= $hi`;
      await conn.run(
        `CREATE OR REPLACE TEMP TABLE compact_rows AS SELECT * FROM ${table} WHERE ${inRange} ORDER BY ${order}`,
        params,
      );
      await conn.run(`DELETE FROM ${table} WHERE ${inRange}`, params);
      // A scan keeps insertion order (DuckDB's preserve_insertion_order, on by default): no second sort.
      await conn.run(`INSERT INTO ${table} SELECT * FROM compact_rows`);
      await conn.run('DROP TABLE compact_rows');
    });
  }
  await store.write((conn) =>
    conn.run('INSERT OR REPLACE INTO meta VALUES ($1, $2)', [`compacted:${table}`, String(plan.n)]),
  );
}

/** Recomputes every topic for the local days in the temp table rollup_days. */
async function refreshDays(conn: DuckDBConnection, tz: string): Promise<number> {
  const [bounds] = plainRows(
    await conn.runAndReadAll(
      `SELECT count(*) AS n, min(timezone($tz, day::TIMESTAMP)) AS lo,
         max(timezone($tz, day::TIMESTAMP + INTERVAL 1 DAY)) AS hi FROM rollup_days`,
      { tz },
    ),
  );
  const n = Number(bounds?.n ?? 0);
  if (n === 0) return 0;
  // The instant bounds let DuckDB skip row groups by their created_at range before the day test.
  const params = { tz, lo: timestamptz(bounds?.lo as Date), hi: timestamptz(bounds?.hi as Date) };
  const inDays = (col: string) =>
    `${col} >= $lo AND ${col} < $hi AND timezone($tz, ${col})::DATE IN (SELECT day FROM rollup_days)`;
  for (const [table, at] of HOURLY) await conn.run(`DELETE FROM ${table} WHERE ${inDays(at)}`, params);
  for (const table of DAILY)
    await conn.run(`DELETE FROM ${table} WHERE day IN (SELECT day FROM rollup_days)`);
  await collectScope(conn, tz, {
    where: inDays('m.created_at'),
    params: { lo: params.lo, hi: params.hi },
    topics: null,
  });
  // The term index is ordered by (term, created_at): the instant bounds skip the other days' rows.
  await insertRollups(conn, {
    where: 't.created_at >= $lo AND t.created_at < $hi',
    params: { lo: params.lo, hi: params.hi },
  });
  return n;
}

/** Rebuilds the given topics' rollups over all time (after a topic is edited and re-tagged). */
async function refreshTopics(conn: DuckDBConnection, tz: string, topics: string[]): Promise<void> {
  if (topics.length === 0) return;
  const params = { topics: JSON.stringify(topics) };
  for (const table of ALL_ROLLUPS) {
    await conn.run(`DELETE FROM ${table} WHERE list_contains($topics::VARCHAR[], topic_id)`, params);
  }
  await collectScope(conn, tz, {
    where: `EXISTS (SELECT 1 FROM mention_topics t WHERE t.source = m.source AND t.native_id = m.native_id
              AND list_contains($topics::VARCHAR[], t.topic_id))`,
    params,
    topics,
  });
  await insertRollups(conn);
  await syncAuthorDays(conn, { topics });
  // Remembers which version of each topic its rollups describe.
  await conn.run(
    `INSERT OR REPLACE INTO pipeline_state
     SELECT 'rollup-topic', id, updated_at FROM topics WHERE list_contains($topics::VARCHAR[], id)`,
    params,
  );
}

async function storedTimezone(conn: DuckDBConnection): Promise<string | null> {
  const rows = plainRows(await conn.runAndReadAll('SELECT value FROM meta WHERE key = $1', [TZ_KEY]));
  return rows[0] ? String(rows[0].value) : null;
}

/**
 * Brings the rollups up to date: the local days of mentions scored or re-scored since the last
 * refresh (rollup_dirty) or re-seen with new counts (seen_at watermark), topics whose definition
 * changed since their rollups were built, and deleted topics. A new reporting time zone rebuilds
 * everything.
 *
 * The days are recomputed in slices of about `limits.sliceMentions` mentions, each in its own
 * transaction (see RefreshLimits). Recomputing a day is idempotent, and what marks the work done
 * is removed only with it: a slice clears its own days' rollup_dirty rows, and the seen watermark
 * moves (to where it stood when the days were listed) after the last slice. A crash between
 * slices leaves the rest to the next refresh; so does a new time zone, whose first transaction
 * empties the rollups and the watermark, so that every day is listed until all are rebuilt.
 */
export async function refreshRollups(
  store: Store,
  tz: string,
  limits: RefreshLimits = LIMITS,
): Promise<RollupResult> {
  const plan = await store.write(async (conn) => {
    const rebuilt = (await storedTimezone(conn)) !== tz;
    if (rebuilt) {
      for (const table of [...ALL_ROLLUPS, ...AUTHOR_TABLES]) await conn.run(`DELETE FROM ${table}`);
      await conn.run("DELETE FROM pipeline_state WHERE stage IN ('rollups', 'rollup-topic')");
      await conn.run('DELETE FROM rollup_dirty');
      await conn.run('INSERT OR REPLACE INTO meta VALUES ($1, $2)', [TZ_KEY, tz]);
      // The slices below recompute every topic over every day: no topic is left to rebuild.
      await conn.run(
        "INSERT OR REPLACE INTO pipeline_state SELECT 'rollup-topic', id, updated_at FROM topics",
      );
    }
    for (const table of ALL_ROLLUPS) {
      await conn.run(
        `DELETE FROM ${table} WHERE topic_id <> '*' AND topic_id NOT IN (SELECT id FROM topics)`,
      );
    }
    await conn.run(
      "DELETE FROM pipeline_state WHERE stage = 'rollup-topic' AND key NOT IN (SELECT id FROM topics)",
    );
    const through = `(SELECT through FROM pipeline_state WHERE stage = 'rollups' AND key = 'seen')`;
    const [seen] = plainRows(
      await conn.runAndReadAll(
        `SELECT greatest(max(seen_at), coalesce(${through}, max(seen_at))) AS through FROM mentions`,
      ),
    );
    const days = plainRows(
      await conn.runAndReadAll(
        `SELECT DISTINCT timezone($tz, hour_start)::DATE AS day FROM rollup_dirty
         UNION
         SELECT DISTINCT timezone($tz, quarter)::DATE FROM (
           SELECT DISTINCT time_bucket(INTERVAL '15 minutes', m.created_at) AS quarter
           FROM mentions m SEMI JOIN mention_scores s USING (source, native_id)
           WHERE m.seen_at >= coalesce(${through} - ${SEEN_SLACK}, '-infinity'::TIMESTAMPTZ))
         ORDER BY day`,
        { tz },
      ),
    ).map((r) => r.day as Date);
    return {
      rebuilt,
      through: (seen?.through as Date | null) ?? null,
      days: await dayMentions(conn, tz, days),
    };
  });

  const slices = batches(plan.days, limits.sliceMentions);
  for (const slice of slices) {
    await store.write(async (conn) => {
      await conn.run('CREATE OR REPLACE TEMP TABLE rollup_days AS SELECT unnest($days::DATE[]) AS day', {
        days: JSON.stringify(slice.map((d) => d.toISOString().slice(0, 10))),
      });
      await refreshDays(conn, tz);
      await syncAuthorDays(conn, { days: 'rollup_days' });
      await conn.run(
        'DELETE FROM rollup_dirty WHERE timezone($tz, hour_start)::DATE IN (SELECT day FROM rollup_days)',
        { tz },
      );
      await conn.run('DROP TABLE rollup_days');
    });
  }

  const stale = await store.write(async (conn) => {
    if (plan.through !== null) {
      await conn.run("INSERT OR REPLACE INTO pipeline_state VALUES ('rollups', 'seen', $1)", [
        timestamptz(plan.through),
      ]);
    }
    const topics = plainRows(
      await conn.runAndReadAll(
        `SELECT t.id FROM topics t LEFT JOIN pipeline_state p ON p.stage = 'rollup-topic' AND p.key = t.id
         WHERE p.through IS DISTINCT FROM t.updated_at ORDER BY t.id`,
      ),
    ).map((r) => String(r.id));
    await refreshTopics(conn, tz, topics);
    return topics;
  });
  // After a rebuild in one slice each rollup table holds exactly one ordered INSERT of
  // insertRollups (no stale topic is left to add a second): already in layout order, so rewriting
  // it would only cost. The term index is written by the scoring batches in time order and always
  // needs the rewrite.
  const inOrder = plan.rebuilt && slices.length <= 1 && stale.length === 0;
  for (const [table, order] of LAYOUT) {
    await compact(store, table, order, inOrder && ALL_ROLLUPS.includes(table), limits.compactRows);
  }
  return { days: plan.days.length, topics: stale, rebuilt: plan.rebuilt };
}

/**
 * How many mentions were posted on each of `days` (local days of `tz`, in order), to cut the
 * refresh into slices. One day needs no count: it is one slice whatever its size.
 */
async function dayMentions(
  conn: DuckDBConnection,
  tz: string,
  days: Date[],
): Promise<Array<{ item: Date; n: number }>> {
  if (days.length <= 1) return days.map((item) => ({ item, n: 0 }));
  const first = days[0] as Date;
  const last = days[days.length - 1] as Date;
  const counts = plainRows(
    await conn.runAndReadAll(
      `SELECT timezone($tz, quarter)::DATE AS day, sum(n) AS n FROM (
         SELECT time_bucket(INTERVAL '15 minutes', created_at) AS quarter, count(*) AS n FROM mentions
         WHERE created_at >= timezone($tz, $lo::TIMESTAMP) AND created_at < timezone($tz, $hi::TIMESTAMP + INTERVAL 1 DAY)
         GROUP BY quarter)
       GROUP BY day`,
      { tz, lo: first.toISOString().slice(0, 10), hi: last.toISOString().slice(0, 10) },
    ),
  );
  const byDay = new Map(counts.map((r) => [(r.day as Date).toISOString().slice(0, 10), Number(r.n)]));
  return days.map((item) => ({ item, n: byDay.get(item.toISOString().slice(0, 10)) ?? 0 }));
}

/**
 * Rebuilds topics' rollups right after their tags changed (a topic edit). Before the first refresh
 * there is nothing to rebuild: the reporting time zone is not known here yet.
 */
export function refreshTopicRollups(store: Store, topicIds: readonly string[]): Promise<void> {
  return store.write(async (conn) => {
    const tz = await storedTimezone(conn);
    if (tz === null) return;
    const existing = plainRows(
      await conn.runAndReadAll('SELECT id FROM topics WHERE list_contains($1::VARCHAR[], id) ORDER BY id', [
        JSON.stringify(topicIds),
      ]),
    ).map((r) => String(r.id));
    await refreshTopics(conn, tz, existing);
  });
}

/** Removes a deleted topic's rollups, inside the caller's transaction (the one deleting the topic). */
export async function deleteTopicRollups(conn: DuckDBConnection, topicId: string): Promise<void> {
  for (const table of ALL_ROLLUPS) await conn.run(`DELETE FROM ${table} WHERE topic_id = $1`, [topicId]);
  await conn.run("DELETE FROM pipeline_state WHERE stage = 'rollup-topic' AND key = $1", [topicId]);
  await syncAuthorDays(conn, { topics: [topicId] });
}
