import { topicSchema } from '../config.js';
import { UserError } from '../errors.js';
import { deleteTopicRollups, refreshTopicRollups } from '../scoring/rollups.js';
import { type Store, timestamptz } from '../store.js';
import { type TopicTagResult, tagMentions } from './tag.js';

/**
 * Adds or edits a topic at run time (origin 'user', so the config file no longer overrides it) and
 * re-tags the stored mentions for that topic only (and rebuilds its rollups): other topics' tags stay as they are, and
 * nothing is collected again. A bad query is refused with its position before anything changes.
 */
export async function saveTopic(store: Store, input: unknown, now: Date): Promise<TopicTagResult> {
  const parsed = topicSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(
      `${issue?.path.join('.') || 'topic'}: ${issue?.message ?? 'is not a valid topic'}`,
      400,
    );
  }
  const t = parsed.data;
  await store.write((conn) =>
    conn.run(
      `INSERT INTO topics VALUES ($1, $2, $3::VARCHAR[], $4, $5, 'user', $6)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, keywords = excluded.keywords, query = excluded.query,
         comparison_set = excluded.comparison_set, origin = 'user', updated_at = excluded.updated_at`,
      [t.id, t.name, JSON.stringify(t.keywords), t.query ?? null, t.comparisonSet ?? null, timestamptz(now)],
    ),
  );
  const [result] = await tagMentions(store, [t.id]);
  await refreshTopicRollups(store, [t.id]);
  return result ?? { topicId: t.id, tagged: 0, scanned: 0 };
}

/** Removes a topic and its tags in one transaction; false when there was no such topic. */
export async function deleteTopic(store: Store, id: string): Promise<boolean> {
  return store.write(async (conn) => {
    await conn.run('DELETE FROM mention_topics WHERE topic_id = $1', [id]);
    await deleteTopicRollups(conn, id);
    const deleted = await conn.runAndReadAll('DELETE FROM topics WHERE id = $1 RETURNING id', [id]);
    return deleted.currentRowCount > 0;
  });
}

/** Every topic with how many mentions carry it. */
export async function listTopics(store: Store): Promise<
  Array<{
    id: string;
    name: string;
    keywords: string[];
    query: string | null;
    comparisonSet: string | null;
    origin: string;
    mentions: number;
  }>
> {
  const rows = await store.query(
    `SELECT t.id, t.name, t.keywords, t.query, t.comparison_set, t.origin, count(m.topic_id) AS mentions
     FROM topics t LEFT JOIN mention_topics m ON m.topic_id = t.id
     GROUP BY ALL ORDER BY t.id`,
  );
  return rows.map((r) => ({
    id: String(r.id),
    name: String(r.name),
    keywords: Array.isArray(r.keywords) ? r.keywords.map(String) : [],
    query: r.query === null ? null : String(r.query),
    comparisonSet: r.comparison_set === null ? null : String(r.comparison_set),
    origin: String(r.origin),
    mentions: Number(r.mentions),
  }));
}
