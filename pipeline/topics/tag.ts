/**
 * Re-tags stored mentions with topics by matching their queries locally. Each topic is replaced in
 * a transaction of its own, so editing one topic changes only its tags and never needs a
 * re-collection, and a crash mid-way leaves every topic either fully old or fully new.
 */
import type { DuckDBValue } from '@duckdb/node-api';
import { appendRows } from '../ingest.js';
import type { Store } from '../store.js';
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
  return rows.map((r) => ({
    id: String(r.id),
    query: r.query === null || r.query === undefined ? null : String(r.query),
    keywords: Array.isArray(r.keywords) ? r.keywords.map(String) : [],
  }));
}

const str = (v: DuckDBValue): string | null => (v === null ? null : String(v));

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
        // Matches are collected before appending: a connection cannot append while a result streams.
        const hits: DuckDBValue[][] = [];
        let scanned = 0;
        const result = await conn.stream(
          'SELECT source, native_id, title, text, lang, author_handle FROM mentions',
        );
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
            if (matcher(doc)) hits.push([source?.[i] ?? null, nativeId?.[i] ?? null, topic.id]);
          }
        }
        const tagged = await appendRows(conn, 'mention_topics', hits);
        return { topicId: topic.id, tagged, scanned };
      }),
    );
  }
  return results;
}
