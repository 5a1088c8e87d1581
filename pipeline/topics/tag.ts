/**
 * Re-tags stored mentions with topics by matching their queries locally. Each topic is replaced in
 * a transaction of its own, so editing one topic changes only its tags and never needs a
 * re-collection, and a crash mid-way leaves every topic either fully old or fully new. Newly
 * collected mentions are tagged incrementally (tagNewMentions) so a collect never rescans the table.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { appendRows } from '../ingest.js';
import { plainRows, type Row, type Store } from '../store.js';
import { compileQuery, type Matcher, MentionDoc } from './match.js';
import { QuerySyntaxError, topicQuery } from './query.js';

export interface TopicTagResult {
  topicId: string;
  /** Mentions now tagged with the topic. */
  tagged: number;
  /** Mentions read and matched. */
  scanned: number;
  /** Why the topic was left as it was (a query that does not parse); its old tags are kept. */
  error?: string;
}

interface TopicRow {
  id: string;
  query: string | null;
  keywords: string[];
}

/** The topic's matcher, or the reason it has none. */
export function topicMatcher(topic: { query: string | null; keywords: readonly string[] }): Matcher {
  const query = topicQuery(topic);
  if (query === '') throw new QuerySyntaxError('the topic has neither a query nor keywords', 0);
  return compileQuery(query);
}

async function loadTopics(store: Store, topicIds?: readonly string[]): Promise<TopicRow[]> {
  const rows =
    topicIds === undefined
      ? await store.query('SELECT id, query, keywords FROM topics ORDER BY id')
      : await store.query(
          'SELECT id, query, keywords FROM topics WHERE list_contains($1::VARCHAR[], id) ORDER BY id',
          [JSON.stringify(topicIds)],
        );
  return topicRows(rows);
}

function topicRows(rows: Row[]): TopicRow[] {
  return rows.map((r) => ({
    id: String(r.id),
    query: r.query === null || r.query === undefined ? null : String(r.query),
    keywords: Array.isArray(r.keywords) ? r.keywords.map(String) : [],
  }));
}

/**
 * The topics as tagging reads them (`key` changes whenever any of them is edited, added or removed)
 * and the query of each one that parses, in id order; a topic whose query does not parse is left
 * out, as tagNewMentions skips it.
 */
export async function topicQueries(
  conn: DuckDBConnection,
): Promise<{ key: string; topics: Array<{ id: string; query: string }> }> {
  const rows = topicRows(
    plainRows(await conn.runAndReadAll('SELECT id, query, keywords FROM topics ORDER BY id')),
  );
  const topics: Array<{ id: string; query: string }> = [];
  for (const topic of rows) {
    try {
      topicMatcher(topic);
      topics.push({ id: topic.id, query: topicQuery(topic) });
    } catch (err) {
      if (!(err instanceof QuerySyntaxError)) throw err;
    }
  }
  return { key: JSON.stringify(rows), topics };
}

const str = (v: DuckDBValue): string | null => (v === null ? null : String(v));

/**
 * Streams the mentions `sql` selects (source, native_id, title, text, lang, author_handle) and
 * matches each against every topic, so a mention is folded and split once however many topics
 * there are. Hits are collected before anything is appended: a connection cannot append while a
 * result streams.
 */
async function matchMentions(
  conn: DuckDBConnection,
  sql: string,
  topics: ReadonlyArray<readonly [id: string, matcher: Matcher]>,
): Promise<{ hits: DuckDBValue[][]; scanned: number }> {
  const hits: DuckDBValue[][] = [];
  let scanned = 0;
  const result = await conn.stream(sql);
  for (
    let chunk = await result.fetchChunk();
    chunk && chunk.rowCount > 0;
    chunk = await result.fetchChunk()
  ) {
    const [source, nativeId, title, text, lang, author] = chunk.getColumns() as DuckDBValue[][];
    for (let i = 0; i < chunk.rowCount; i++) {
      scanned++;
      const doc = new MentionDoc({
        text: str(text?.[i] ?? null) ?? '',
        title: str(title?.[i] ?? null),
        lang: str(lang?.[i] ?? null),
        source: str(source?.[i] ?? null),
        authorHandle: str(author?.[i] ?? null),
      });
      for (const [id, matcher] of topics) {
        if (matcher(doc)) hits.push([source?.[i] ?? null, nativeId?.[i] ?? null, id]);
      }
    }
  }
  return { hits, scanned };
}

/**
 * Replaces the tags of the given topics (all topics when omitted) from the stored mentions. A
 * topic id that is not in the topics table has its tags removed (the topic was deleted).
 */
export async function tagMentions(store: Store, topicIds?: readonly string[]): Promise<TopicTagResult[]> {
  const topics = await loadTopics(store, topicIds);
  const known = new Set(topics.map((t) => t.id));
  const results: TopicTagResult[] = [];
  for (const id of topicIds ?? []) {
    if (known.has(id)) continue;
    await store.write((conn) => conn.run('DELETE FROM mention_topics WHERE topic_id = $1', [id]));
    results.push({ topicId: id, tagged: 0, scanned: 0 });
  }
  for (const topic of topics) {
    let matcher: Matcher;
    try {
      matcher = topicMatcher(topic);
    } catch (err) {
      if (!(err instanceof QuerySyntaxError)) throw err;
      results.push({ topicId: topic.id, tagged: 0, scanned: 0, error: err.message });
      continue;
    }
    results.push(
      await store.write(async (conn) => {
        await conn.run('DELETE FROM mention_topics WHERE topic_id = $1', [topic.id]);
        // Read inside the transaction so the tags describe exactly the mentions this snapshot holds.
        const { hits, scanned } = await matchMentions(
          conn,
          'SELECT source, native_id, title, text, lang, author_handle FROM mentions',
          [[topic.id, matcher]],
        );
        const tagged = await appendRows(conn, 'mention_topics', hits);
        return { topicId: topic.id, tagged, scanned };
      }),
    );
  }
  return results;
}

export interface NewMentionsTagResult {
  /** Mentions read: those collected since the watermark (the boundary instant and slack included). */
  scanned: number;
  /** Tags added over all topics; tags already stored are not counted again. */
  tagged: number;
  /** Tags added per topic, or why a topic was skipped (a query that does not parse). */
  topics: TopicTagResult[];
}

// Collectors take a batch's collected_at before queueing for the writer, so a batch of another
// source can commit with a time just below a watermark that an earlier-committed batch advanced.
// Re-reading a short window before the watermark catches those; the append skips what is tagged.
const REREAD_SLACK = "INTERVAL '10 minutes'";

/**
 * Tags, for every topic, the mentions collected since the last call (a watermark kept in
 * pipeline_state, advanced in the same transaction, so a crash never loses or half-applies a
 * round). Running it again adds nothing and reads no mention again: those of the re-read window
 * already matched are recorded in topic_tagged. A topic whose query does not parse is skipped and its
 * error returned; its missed mentions come back when the fixed query is re-tagged with
 * `tagMentions`, which any edit of a topic triggers. `skip` names a table of (source, native_id)
 * on the writer connection whose mentions were already tagged with the current topics in the
 * transaction that scored them (pipeline/scoring/score.ts), so they are not read again.
 */
export async function tagNewMentions(
  store: Store,
  opts: { skip?: string } = {},
): Promise<NewMentionsTagResult> {
  return store.write(async (conn) => {
    const topics = topicRows(
      plainRows(await conn.runAndReadAll('SELECT id, query, keywords FROM topics ORDER BY id')),
    );
    const results = new Map<string, TopicTagResult>();
    const matchers: Array<[string, Matcher]> = [];
    for (const topic of topics) {
      try {
        matchers.push([topic.id, topicMatcher(topic)]);
        results.set(topic.id, { topicId: topic.id, tagged: 0, scanned: 0 });
      } catch (err) {
        if (!(err instanceof QuerySyntaxError)) throw err;
        results.set(topic.id, { topicId: topic.id, tagged: 0, scanned: 0, error: err.message });
      }
    }
    // >= rather than >: mentions sharing the watermark's instant may have committed after it was
    // taken; re-reading them is harmless because the append below skips existing tags.
    const since = `collected_at >= coalesce(
      (SELECT through FROM pipeline_state WHERE stage = 'topics' AND key = '*') - ${REREAD_SLACK},
      '-infinity'::TIMESTAMPTZ)`;
    let scanned = 0;
    let tagged = 0;
    if (matchers.length > 0) {
      const found = await matchMentions(
        conn,
        `SELECT source, native_id, title, text, lang, author_handle FROM mentions
         ANTI JOIN topic_tagged USING (source, native_id)
         ${opts.skip ? `ANTI JOIN ${opts.skip} USING (source, native_id)` : ''} WHERE ${since}`,
        matchers,
      );
      scanned = found.scanned;
      for (const id of matchers.map(([id]) => id)) {
        const r = results.get(id);
        if (r) r.scanned = scanned;
      }
      if (found.hits.length > 0) {
        await conn.run(
          'CREATE OR REPLACE TEMP TABLE topic_hits (source VARCHAR NOT NULL, native_id VARCHAR NOT NULL, topic_id VARCHAR NOT NULL)',
        );
        await appendRows(conn, 'topic_hits', found.hits);
        await conn.run(
          `CREATE OR REPLACE TEMP TABLE topic_new AS
           SELECT h.* FROM topic_hits h ANTI JOIN mention_topics t
             ON t.source = h.source AND t.native_id = h.native_id AND t.topic_id = h.topic_id`,
        );
        await conn.run('INSERT INTO mention_topics SELECT * FROM topic_new');
        const counts = await conn.runAndReadAll(
          'SELECT topic_id, count(*) AS n FROM topic_new GROUP BY topic_id',
        );
        for (const row of plainRows(counts)) {
          const r = results.get(String(row.topic_id));
          if (r) r.tagged = Number(row.n);
          tagged += Number(row.n);
        }
        await conn.run('DROP TABLE topic_hits');
        await conn.run('DROP TABLE topic_new');
      }
    }
    // Every mention of the window is matched now: read above, tagged while scored (skip), or before.
    await conn.run(
      `INSERT INTO topic_tagged SELECT source, native_id, collected_at FROM mentions
       ANTI JOIN topic_tagged USING (source, native_id) WHERE ${since}`,
    );
    // Only forward: with the slack the scan also covers mentions older than the stored watermark.
    await conn.run(
      `INSERT OR REPLACE INTO pipeline_state
       SELECT 'topics', '*', greatest(max(collected_at),
         coalesce((SELECT through FROM pipeline_state WHERE stage = 'topics' AND key = '*'), max(collected_at)))
       FROM mentions WHERE ${since} HAVING max(collected_at) IS NOT NULL`,
    );
    await conn.run(
      `DELETE FROM topic_tagged WHERE collected_at <
         (SELECT through FROM pipeline_state WHERE stage = 'topics' AND key = '*') - ${REREAD_SLACK}`,
    );
    return { scanned, tagged, topics: [...results.values()] };
  });
}
