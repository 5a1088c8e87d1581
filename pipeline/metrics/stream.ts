/**
 * The mention stream of the comms view and the per-source volume beside it. The stream lists
 * originals only, newest first, each with how many reposts and syndicated copies point at it (they
 * are counted on the original, not listed again), one keyset page at a time so a deep page costs
 * what the first does.
 */
import type { DuckDBValue } from '@duckdb/node-api';
import { UserError } from '../errors.js';
import { textTerms } from '../scoring/terms.js';
import { type Row, type Store, timestamptz } from '../store.js';
import { encodeCursor, iso, type MetricQuery, num, rollupParams, rollupRows, topicExists } from './query.js';

/** A mention as the API shows it; `sentiment` is a user's correction over the model's label. */
export function mentionItem(r: Row) {
  return {
    source: String(r.source),
    nativeId: String(r.native_id),
    url: r.url === null ? null : String(r.url),
    title: r.title === null ? null : String(r.title),
    text: String(r.text),
    author: r.author_handle === null ? null : String(r.author_handle),
    createdAt: iso(r.created_at),
    isRepost: r.is_repost === true,
    lang: String(r.lang),
    sentiment: String(r.corrected ?? r.sentiment),
    modelSentiment: String(r.sentiment),
    sentimentModel: String(r.sentiment_model),
    correction:
      r.corrected === null
        ? null
        : { label: String(r.corrected), by: String(r.corrected_by), at: iso(r.corrected_at) },
  };
}

/** Columns mentionItem reads, from mentions m, mention_scores s and sentiment_corrections_latest c. */
const ITEM_COLUMNS = `m.source, m.native_id, m.url, m.title, m.text, m.author_handle,
  m.created_at, m.is_repost, s.lang, s.sentiment, s.sentiment_model,
  c.label AS corrected, c.corrected_by, c.corrected_at`;

/** The search words of `q` as indexed terms; 400 when none is left (stop words, single letters). */
export function searchTerms(q: string): string[] {
  const terms = textTerms(q);
  if (terms.length === 0) {
    throw new UserError(
      'q: give at least one word to search for (stop words and single letters are not indexed)',
      400,
    );
  }
  return terms;
}

/**
 * SQL conditions on the row `r` (source, native_id) holding every one of `terms` among the mentions
 * posted in [$lo, $to), and their parameters. One semi join per term: the term index is ordered by
 * (term, created_at), so each reads only the row groups of its term in that window, and hashes its
 * rows once (grouping all the terms' rows by mention to count them cost four times as much).
 */
function termHits(terms: string[]): { where: string[]; params: Record<string, DuckDBValue> } {
  const params: Record<string, DuckDBValue> = {};
  const where = terms.map((t, i) => {
    params[`term${i}`] = t;
    return `(r.source, r.native_id) IN (SELECT source, native_id FROM mention_terms
      WHERE term = $term${i} AND created_at >= $lo AND created_at < $to)`;
  });
  return { where, params };
}

const HOUR_MS = 3_600_000;
// A mention is scored after it is collected, and its time is at most an hour past its collection
// (storing replaces one further ahead: AHEAD_MS in pipeline/ingest.ts), so scored_at >= created_at
// - SKEW, with an hour to spare. The bound lets DuckDB skip the score rows of older mentions
// (stored in scoring order) instead of joining them all.
const SKEW = "INTERVAL '2 hours'";
const SLICES = [HOUR_MS, 24 * HOUR_MS, 7 * 24 * HOUR_MS, 60 * 24 * HOUR_MS, Number.POSITIVE_INFINITY];

/**
 * The newest `want` rows (source, native_id, created_at) of the topic's per-mention rollup (or, for
 * a plain search of topic '*', of the term index) in [from, end) passing `where`, in `order`.
 * Newest first, slice by slice: each slice reads the span just older than the one before, until
 * `want` rows are found or the whole window has been read, so a busy topic reads an hour of rows,
 * not a year, and a rare word reads each row group once. Slices are disjoint in time and `order`
 * starts with created_at, so the rows of a slice all come after those of the newer slices. The
 * rollup is ordered by (topic, created_at), so a slice is a few row groups; the mentions table is
 * read for the page only.
 */
async function newest(
  store: Store,
  q: MetricQuery,
  end: Date,
  filter: { where: string[]; params: Record<string, DuckDBValue>; terms: string[] | null },
  want: number,
  order: string,
): Promise<Row[]> {
  const hits = filter.terms === null ? { where: [], params: {} } : termHits(filter.terms);
  // Topic '*' holds every scored mention: a search there with no other filter reads the term index
  // alone, the first word's rows standing for the mentions (a mention holds a word once). Joined
  // to the topic's rollup instead, a word of a year was matched against every mention of the year.
  const byTerms = q.topic === '*' && filter.terms !== null && filter.where.length === 0;
  const where = byTerms
    ? ['r.term = $term0', ...hits.where.slice(1)]
    : ['r.topic_id = $topic', ...filter.where, ...hits.where];
  const sql = `SELECT r.source, r.native_id, r.created_at
    FROM ${byTerms ? 'mention_terms' : 'rollup_mentions'} r
    WHERE r.created_at >= $lo AND r.created_at < $to AND ${where.join(' AND ')}
    ORDER BY ${order} LIMIT ${want}`;
  const params = { ...filter.params, ...hits.params, ...(byTerms ? {} : { topic: q.topic }) };
  const rows: Row[] = [];
  let hi = end.getTime();
  for (const span of SLICES) {
    const lo = Math.max(q.from.getTime(), end.getTime() - span);
    if (lo < hi) {
      const slice = await store.queryPrepared(
        sql,
        { ...params, lo: timestamptz(new Date(lo)), to: timestamptz(new Date(hi)) },
        { ahead: hi < end.getTime() },
      );
      rows.push(...slice.slice(0, want - rows.length));
    }
    if (rows.length >= want || lo === q.from.getTime()) break;
    hi = lo;
  }
  return rows;
}

/**
 * The mentions of `keys` (rows of newest) with ITEM_COLUMNS and `extra` (columns of s, which also
 * has copy_of_source and copy_of_id), in `order`. With `counts`, each also carries its reposts and
 * syndicated copies (columns reposts, copies), counted in the same query. A repost is made after its
 * original, so only mentions from the oldest key's time on are read for reposts; a copy can carry
 * an earlier date than the mention it copies but is always scored after it (see SKEW).
 *
 * Each table is read on its own for the page's keys (MATERIALIZED): left to itself DuckDB joined
 * every mention of the page's time span to its score first and only then kept the page's, so it
 * read the text of thousands of mentions and hashed as many scores to show twenty. Mentions are
 * matched by the page's instants alone: a join on one column lets DuckDB skip every row group
 * holding none of them (a page can span months), and the scores, matched by key, keep only the
 * page's mentions among those posted at the same instants. Instants match exactly: every mention
 * is stored through ingest with a JS Date, to the millisecond, as the keys come back.
 */
async function items(
  store: Store,
  keys: Row[],
  extra: string,
  order: string,
  counts = false,
): Promise<Row[]> {
  if (keys.length === 0) return [];
  const times = keys.map((k) => (k.created_at as Date).getTime());
  const groups = counts
    ? `,
       g AS MATERIALIZED (
         SELECT r.source, r.repost_of AS native_id, count(*) AS n
         FROM mentions r SEMI JOIN page p ON r.source = p.s AND r.repost_of = p.n
         WHERE r.is_repost AND r.created_at >= $lo GROUP BY ALL),
       h AS MATERIALIZED (
         SELECT k.copy_of_source AS source, k.copy_of_id AS native_id, count(*) AS n
         FROM mention_scores k SEMI JOIN page p ON k.copy_of_source = p.s AND k.copy_of_id = p.n
         WHERE k.scored_at >= $lo - ${SKEW} GROUP BY ALL)`
    : '';
  return store.queryPrepared(
    `WITH page AS (SELECT unnest($keys::STRUCT(s VARCHAR, n VARCHAR, c TIMESTAMPTZ)[], recursive := true)),
       m AS MATERIALIZED (
         SELECT m.source, m.native_id, m.url, m.title, left(m.text, 500) AS text, m.author_handle,
           m.created_at, m.is_repost
         FROM mentions m SEMI JOIN page p ON m.created_at = p.c
         WHERE m.created_at >= $lo AND m.created_at <= $hi),
       s AS MATERIALIZED (
         SELECT s.source, s.native_id, s.lang, s.sentiment, s.sentiment_model, s.copy_of_source, s.copy_of_id
         FROM mention_scores s SEMI JOIN page p ON s.source = p.s AND s.native_id = p.n
         WHERE s.scored_at >= $lo - ${SKEW}),
       c AS MATERIALIZED (
         SELECT * FROM sentiment_corrections_latest c SEMI JOIN page p ON c.source = p.s AND c.native_id = p.n)${groups}
     SELECT ${ITEM_COLUMNS}${extra}${counts ? ', coalesce(g.n, 0) AS reposts, coalesce(h.n, 0) AS copies' : ''}
     FROM m JOIN s USING (source, native_id)
     LEFT JOIN c USING (source, native_id)
     ${
       counts
         ? `LEFT JOIN g USING (source, native_id)
     LEFT JOIN h USING (source, native_id)`
         : ''
     }
     ORDER BY ${order}`,
    {
      keys: JSON.stringify(
        keys.map((k) => ({
          s: String(k.source),
          n: String(k.native_id),
          c: (k.created_at as Date).toISOString(),
        })),
      ),
      lo: timestamptz(new Date(Math.min(...times))),
      hi: timestamptz(new Date(Math.max(...times))),
    },
    { ahead: true },
  );
}

/**
 * Mentions (reposts and copies too) holding every word of `q`, newest first, in the window and
 * topic, with the mention each copy copies.
 */
export async function searchPage(store: Store, q: MetricQuery, terms: string[]): Promise<Row[]> {
  const order = 'created_at DESC, source, native_id';
  const keys = await newest(store, q, q.to, { where: [], params: {}, terms }, q.limit, `r.${order}`);
  return items(store, keys, ', s.copy_of_source, s.copy_of_id', `m.${order}`);
}

/**
 * Originals (no reposts, no copies) in [from, to), newest first, filtered by topic, source,
 * language, shown sentiment and search words; each with its reposts and syndicated copies counted.
 * `next` is the cursor of the page after this one, null on the last page.
 */
export async function stream(store: Store, _tz: string, q: MetricQuery) {
  await topicExists(store, q.topic);
  const terms = q.q === null || q.q.trim() === '' ? null : searchTerms(q.q);
  const where = ['r.original'];
  const params: Record<string, DuckDBValue> = {};
  if (q.source !== null) {
    where.push('r.source = $source');
    params.source = q.source;
  }
  if (q.lang !== null) {
    where.push('r.lang = $lang');
    params.lang = q.lang;
  }
  if (q.sentiment !== null) {
    // The rollup holds the label in force: a correction wins.
    where.push('r.sentiment = $sentiment');
    params.sentiment = q.sentiment;
  }
  let end = q.to;
  if (q.before !== null) {
    // Newest first by (created_at, source, native_id), all descending: the rows after the cursor.
    where.push(`r.created_at <= $bc AND (r.created_at < $bc OR r.source < $bs
      OR (r.source = $bs AND r.native_id < $bn))`);
    Object.assign(params, {
      bc: timestamptz(q.before.createdAt),
      bs: q.before.source,
      bn: q.before.nativeId,
    });
    // Rows at the cursor's own instant are still after it.
    end = new Date(Math.min(q.to.getTime(), q.before.createdAt.getTime() + 1));
  }
  const order = 'created_at DESC, source DESC, native_id DESC';
  const keys = await newest(store, q, end, { where, params, terms }, q.limit + 1, `r.${order}`);
  const shown = await items(store, keys.slice(0, q.limit), '', `m.${order}`, true);
  const last = shown.at(-1);
  return {
    topic: q.topic,
    from: q.from.toISOString(),
    to: q.to.toISOString(),
    results: shown.map((r) => ({ ...mentionItem(r), copies: num(r.copies), reposts: num(r.reposts) })),
    next:
      keys.length > q.limit && last !== undefined
        ? encodeCursor({
            createdAt: last.created_at as Date,
            source: String(last.source),
            nativeId: String(last.native_id),
          })
        : null,
  };
}

/** Volume per source in the window (originals, reposts, copies, engagement, reach), largest first. */
export async function sources(store: Store, tz: string, q: MetricQuery) {
  await topicExists(store, q.topic);
  const rows = await store.queryPrepared(
    `SELECT source, sum(mentions)::DOUBLE AS mentions, sum(reposts)::DOUBLE AS reposts,
       sum(copies)::DOUBLE AS copies, sum(engagement)::DOUBLE AS engagement, sum(reach)::DOUBLE AS reach
     FROM (${rollupRows('rollup_hourly', 'topic_id = $topic')})
     GROUP BY source ORDER BY mentions DESC, source`,
    { ...(await rollupParams(store, tz, q.from, q.to)), topic: q.topic },
  );
  const total = rows.reduce((s, r) => s + num(r.mentions), 0);
  return {
    topic: q.topic,
    timezone: tz,
    from: q.from.toISOString(),
    to: q.to.toISOString(),
    total,
    sources: rows.map((r) => ({
      source: String(r.source),
      mentions: num(r.mentions),
      reposts: num(r.reposts),
      copies: num(r.copies),
      engagement: num(r.engagement),
      reach: num(r.reach),
      share: total === 0 ? null : Math.round((num(r.mentions) / total) * 10_000) / 10_000,
    })),
  };
}
