import type { DuckDBConnection } from '@duckdb/node-api';
import { plainRows, timestamptz } from '../store.js';
import type { AlertExample, AlertWhy, SentimentMix } from './records.js';

const HOUR_MS = 3_600_000;
/** Example texts are cut to a tweet's length: enough to read, short enough for a chat message. */
const EXAMPLE_CHARS = 280;

export function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function mix(counts: Map<string, number>): SentimentMix {
  const positive = counts.get('positive') ?? 0;
  const negative = counts.get('negative') ?? 0;
  const mentions = [...counts.values()].reduce((a, b) => a + b, 0);
  const share = (n: number) => (mentions === 0 ? 0 : n / mentions);
  return {
    mentions,
    positive: share(positive),
    negative: share(negative),
    neutral: share(mentions - positive - negative),
    net: positive + negative === 0 ? null : (positive - negative) / (positive + negative),
  };
}

/**
 * The "why" of a topic alert for the hour starting at `hour`: terms rising most over their trailing
 * hourly mean, the sources carrying the hour, sentiment over the window before and in the hour, and
 * the three original mentions (no reposts, no syndicated copies) with most engagement — negative
 * ones only for a negative surge.
 */
export async function topicWhy(
  conn: DuckDBConnection,
  args: { topicId: string; hour: Date; windowHours: number; negativeOnly: boolean },
): Promise<AlertWhy> {
  const hour = timestamptz(args.hour);
  const from = timestamptz(new Date(args.hour.getTime() - args.windowHours * HOUR_MS));
  const end = timestamptz(new Date(args.hour.getTime() + HOUR_MS));
  const terms = plainRows(
    await conn.runAndReadAll(
      `SELECT term, coalesce(sum(mentions) FILTER (WHERE hour_start = $2), 0)::DOUBLE AS now_n,
         coalesce(sum(mentions) FILTER (WHERE hour_start < $2), 0)::DOUBLE / $4 AS base
       FROM rollup_terms_hourly WHERE topic_id = $1 AND hour_start >= $3 AND hour_start <= $2
       GROUP BY term HAVING now_n > 0
       ORDER BY now_n - base DESC, now_n DESC, term LIMIT 5`,
      [args.topicId, hour, from, args.windowHours],
    ),
  );
  const sources = plainRows(
    await conn.runAndReadAll(
      `SELECT source, sum(mentions)::DOUBLE AS n, sum(sum(mentions)) OVER ()::DOUBLE AS total
       FROM rollup_hourly WHERE topic_id = $1 AND hour_start = $2
       GROUP BY source HAVING n > 0 ORDER BY n DESC, source LIMIT 3`,
      [args.topicId, hour],
    ),
  );
  const sentiments = plainRows(
    await conn.runAndReadAll(
      `SELECT sentiment, coalesce(sum(mentions) FILTER (WHERE hour_start = $2), 0)::DOUBLE AS now_n,
         coalesce(sum(mentions) FILTER (WHERE hour_start < $2), 0)::DOUBLE AS before_n
       FROM rollup_hourly WHERE topic_id = $1 AND hour_start >= $3 AND hour_start <= $2
       GROUP BY sentiment`,
      [args.topicId, hour, from],
    ),
  );
  const examples = plainRows(
    await conn.runAndReadAll(
      `SELECT m.source, m.url, coalesce(m.author_handle, m.author_name) AS author,
         coalesce(nullif(m.text, ''), m.title, '') AS text, m.created_at,
         -- a user's correction is the label shown and counted everywhere, here too
         coalesce(c.label, s.sentiment) AS sentiment,
         coalesce(m.likes, 0) + coalesce(m.reposts, 0) + coalesce(m.replies, 0) AS engagement
       FROM mention_topics t JOIN mentions m USING (source, native_id)
       LEFT JOIN mention_scores s USING (source, native_id)
       LEFT JOIN sentiment_corrections_latest c USING (source, native_id)
       WHERE t.topic_id = $1 AND m.created_at >= $2 AND m.created_at < $3
         AND NOT m.is_repost AND s.copy_of_id IS NULL
         AND ($4 = false OR coalesce(c.label, s.sentiment) = 'negative')
       ORDER BY engagement DESC, m.created_at, m.source, m.native_id LIMIT 3`,
      [args.topicId, hour, end, args.negativeOnly],
    ),
  );
  return {
    topTerms: terms.map((r) => ({
      term: String(r.term),
      mentions: Number(r.now_n),
      baseline: Math.round(Number(r.base) * 100) / 100,
    })),
    topSources: sources.map((r) => ({
      source: String(r.source),
      mentions: Number(r.n),
      share: Number(r.n) / Number(r.total),
    })),
    sentiment: {
      before: mix(new Map(sentiments.map((r) => [String(r.sentiment), Number(r.before_n)]))),
      now: mix(new Map(sentiments.map((r) => [String(r.sentiment), Number(r.now_n)]))),
    },
    examples: examples.map(
      (r): AlertExample => ({
        source: String(r.source),
        url: (r.url as string | null) ?? null,
        author: (r.author as string | null) ?? null,
        text: truncate(String(r.text), EXAMPLE_CHARS),
        engagement: Number(r.engagement),
        sentiment: (r.sentiment as string | null) ?? null,
        createdAt: (r.created_at as Date).toISOString(),
      }),
    ),
  };
}
