/**
 * What `earshot export --parquet` writes: one dataset per folder, Hive-partitioned. Each query
 * yields the partition columns first; they name the folders (`date=2026-11-20/source=x/`) and are
 * left out of the files, as Hive readers expect.
 *
 * Mentions are exported JOINED with their scores, the sentiment in force (a user's correction wins)
 * and their topics as a list: an engine reading Parquet wants one row per mention, and a re-score,
 * a correction or a re-tag then rewrites exactly the partitions it touched. The raw JSON payload is
 * not exported (it is the bulkiest and most personal column, and retention trims it first).
 * Partition days and ISO weeks are UTC: a partition never moves when the reporting time zone does.
 *
 * The employee directory is one unpartitioned dataset (no partition columns, one file rewritten
 * whenever any row changes, so an erased employee leaves the export at the next run): a row per
 * stretch of its department history, with the person's directory fields, so adoption facts group by
 * department as of their day (`employee_id` equal, `valid_from <= day < coalesce(valid_to, ...)`).
 */
export interface Dataset {
  name: string;
  partitionBy: readonly string[];
  sql: string;
}

const weekly = (table: string, column: string): Dataset => ({
  name: table,
  partitionBy: ['week'],
  sql: `SELECT strftime(${column}, '%G-W%V') AS week, * FROM ${table}`,
});

/** In the directory now, no history kept yet (imported before history existed): one open stretch. */
const stretch = (column: string) => `if(h.employee_id IS NULL, e.${column}, h.${column}) AS ${column}`;

export const datasets: readonly Dataset[] = [
  {
    name: 'mentions',
    partitionBy: ['date', 'source'],
    sql: `SELECT strftime(m.created_at AT TIME ZONE 'UTC', '%Y-%m-%d') AS date, m.source,
        m.native_id, m.partition AS source_partition, m.channel, m.url, m.title, m.text,
        m.lang AS platform_lang, m.author_id, m.author_handle, m.author_name, m.author_followers,
        m.created_at, m.created_at_estimated, m.collected_at, m.seen_at, m.likes, m.reposts, m.replies,
        m.views, m.parent_id, m.conversation_id, m.is_repost, m.repost_of,
        s.lang, coalesce(c.label, s.sentiment) AS sentiment, s.sentiment AS model_sentiment,
        c.label IS NOT NULL AS sentiment_corrected, s.sentiment_score, s.sentiment_model,
        s.copy_of_source, s.copy_of_id, s.canonical_url, coalesce(t.topics, []) AS topics
      FROM mentions m
      LEFT JOIN mention_scores s ON s.source = m.source AND s.native_id = m.native_id
      LEFT JOIN sentiment_corrections_latest c ON c.source = m.source AND c.native_id = m.native_id
      LEFT JOIN (SELECT source, native_id, list(topic_id ORDER BY topic_id) AS topics
                 FROM mention_topics GROUP BY source, native_id) t
        ON t.source = m.source AND t.native_id = m.native_id`,
  },
  // Adoption facts by the ISO week of their day (interactions and threads: of their UTC instant).
  weekly('activity_daily', 'activity_date'),
  weekly('activity_period', 'period_end'),
  weekly('comm_volume_weekly', 'week_start'),
  weekly('interactions', "event_ts AT TIME ZONE 'UTC'"),
  weekly('threads', "created_ts AT TIME ZONE 'UTC'"),
  // updated_at is left out: it is bookkeeping of the imports, and would rewrite the file at each one.
  {
    name: 'employees',
    partitionBy: [],
    sql: `SELECT e.employee_id, e.email, e.display_name, e.hire_date, e.term_date,
        if(h.employee_id IS NULL, e.hire_date, h.valid_from) AS valid_from, h.valid_to,
        ${['department', 'location', 'level', 'is_manager', 'is_executive', 'manager_id'].map(stretch).join(',\n        ')}
      FROM employees e LEFT JOIN employee_history h ON h.employee_id = e.employee_id`,
  },
];
