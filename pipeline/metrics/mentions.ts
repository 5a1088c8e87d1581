/**
 * Mention metrics (DESIGN.md section 5), one query per chart, read from the rollups only: a chart
 * never scans raw mentions. Buckets are hours or days of the reporting time zone; volume counts
 * originals once (reposts and syndicated copies are reported apart). Text search reads the term
 * index and returns the matching mentions themselves.
 */
import { UserError } from '../errors.js';
import type { Columns, Row, Store } from '../store.js';
import {
  bucketed,
  bucketLabel,
  bucketParams,
  bucketStart,
  type MetricQuery,
  num,
  splitParams,
  splitRows,
  topicExists,
  topicList,
  windowDays,
} from './query.js';
import { mentionItem, searchPage, searchTerms, sources, stream } from './stream.js';

export { parseMetricQuery } from './query.js';

const VOLUME = ['mentions', 'reposts', 'copies', 'engagement', 'reach'];

/** Columns of a `bucketed` result that hold numbers (start, local and the sums: DOUBLE, never NULL). */
function numbers<N extends string[]>(c: Columns, ...names: N): { [K in keyof N]: number[] } {
  return names.map((name) => (c[name] ?? []) as number[]) as { [K in keyof N]: number[] };
}

/** Volume per hour or day (originals, reposts, copies, engagement, reach), optionally per dimension. */
export async function volume(store: Store, tz: string, q: MetricQuery) {
  await topicExists(store, q.topic);
  const key = q.by === null ? 'NULL' : q.by;
  const sums = Object.fromEntries(VOLUME.map((c) => [c, c]));
  const c = await store.queryColumns(
    `${bucketed('topic_id = $topic', [`${key} AS key`], sums, q.grain)} ORDER BY start, key`,
    { ...(await bucketParams(store, tz, q)), topic: q.topic },
  );
  const [starts, locals, mentions, reposts, copies, engagement, reach] = numbers(
    c,
    'start',
    'local',
    'mentions',
    'reposts',
    'copies',
    'engagement',
    'reach',
  );
  return {
    topic: q.topic,
    grain: q.grain,
    by: q.by,
    timezone: tz,
    from: q.from.toISOString(),
    to: q.to.toISOString(),
    points: mentions.map((n, i) => ({
      start: bucketStart(starts[i] as number),
      label: bucketLabel(locals[i] as number, q.grain),
      // Left out of the JSON when undefined (a spread here cost more than the rest of the point).
      key: q.by === null ? undefined : String(c.key?.[i]),
      mentions: n,
      reposts: reposts[i] as number,
      copies: copies[i] as number,
      engagement: engagement[i] as number,
      reach: reach[i] as number,
    })),
    total: mentions.reduce((s, n) => s + n, 0),
  };
}

/** Each topic's volume over its comparison set's volume, in total and per bucket. */
export async function shareOfVoice(store: Store, tz: string, q: MetricQuery) {
  if (q.set === null) throw new UserError('set: name the comparison set, e.g. ?set=phones', 400);
  const topics = (await topicList(store)).filter((t) => t.comparison_set === q.set);
  if (topics.length === 0) throw new UserError(`set: no topic belongs to the comparison set "${q.set}"`, 404);
  // One query over the whole set. On the hourly rows DuckDB tests the IN list against each row
  // group's min/max, so the rollups (ordered by topic, time) are read only for the set's topics. The
  // daily table is a few row groups each holding many topics: there a list look-up per row costs
  // less than the IN list's join (at 10 M mentions, a year of daily rows: 4.7 ms of CPU, not 7.5).
  const ids: Record<string, string> = {};
  topics.forEach((t, i) => {
    ids[`t${i}`] = String(t.id);
  });
  const list = Object.keys(ids)
    .map((k) => `$${k}`)
    .join(', ');
  const c = await store.queryColumns(
    `${bucketed(`topic_id IN (${list})`, ['topic_id'], { mentions: 'mentions' }, q.grain, `list_contains([${list}], topic_id)`)} ORDER BY start, topic_id`,
    { ...(await bucketParams(store, tz, q)), ...ids },
  );
  const [starts, locals, mentions] = numbers(c, 'start', 'local', 'mentions');
  const topicIds = c.topic_id as string[];
  const share = (n: number, of: number) => (of === 0 ? null : Math.round((n / of) * 10_000) / 10_000);
  const totals = new Map<string, number>();
  const perBucket = new Map<number, number>();
  mentions.forEach((n, i) => {
    const topic = topicIds[i] as string;
    const start = starts[i] as number;
    totals.set(topic, (totals.get(topic) ?? 0) + n);
    perBucket.set(start, (perBucket.get(start) ?? 0) + n);
  });
  const total = [...totals.values()].reduce((a, b) => a + b, 0);
  return {
    set: q.set,
    grain: q.grain,
    timezone: tz,
    from: q.from.toISOString(),
    to: q.to.toISOString(),
    total,
    topics: topics.map((t) => {
      const n = totals.get(String(t.id)) ?? 0;
      return { topic: String(t.id), name: String(t.name), mentions: n, share: share(n, total) };
    }),
    points: mentions.map((n, i) => ({
      start: bucketStart(starts[i] as number),
      label: bucketLabel(locals[i] as number, q.grain),
      topic: topicIds[i] as string,
      mentions: n,
      share: share(n, perBucket.get(starts[i] as number) ?? 0),
    })),
  };
}

const net = (pos: number, neg: number) =>
  pos + neg === 0 ? null : Math.round(((pos - neg) / (pos + neg)) * 10_000) / 10_000;

/** Positive, negative and neutral originals per bucket, with net sentiment (pos - neg) / (pos + neg). */
export async function sentimentTrend(store: Store, tz: string, q: MetricQuery) {
  await topicExists(store, q.topic);
  const labels = ['positive', 'negative', 'neutral'];
  const sums = Object.fromEntries(labels.map((l) => [l, `if(sentiment = '${l}', mentions, 0)`]));
  const c = await store.queryColumns(`${bucketed('topic_id = $topic', [], sums, q.grain)} ORDER BY start`, {
    ...(await bucketParams(store, tz, q)),
    topic: q.topic,
  });
  const [starts, locals, positive, negative, neutral] = numbers(
    c,
    'start',
    'local',
    'positive',
    'negative',
    'neutral',
  );
  const points = starts.map((start, i) => ({
    start: bucketStart(start),
    label: bucketLabel(locals[i] as number, q.grain),
    positive: positive[i] as number,
    negative: negative[i] as number,
    neutral: neutral[i] as number,
    net: net(positive[i] as number, negative[i] as number),
  }));
  const pos = points.reduce((s, p) => s + p.positive, 0);
  const neg = points.reduce((s, p) => s + p.negative, 0);
  return {
    topic: q.topic,
    grain: q.grain,
    timezone: tz,
    from: q.from.toISOString(),
    to: q.to.toISOString(),
    net: net(pos, neg),
    points,
  };
}

// A term trends only when it appears this often in the recent window and its rise is significant:
// Dunning's log-likelihood G2 above 10.83 (p < 0.001 for one degree of freedom).
const MIN_RECENT = 3;
const MIN_LLR = 10.83;
// The baseline is the span of this many recent windows right before it.
const BASELINE_WINDOWS = 7;

/** Dunning's G2 for a count `a` of `c` recent mentions against `b` of `d` baseline mentions. */
export function logLikelihood(a: number, c: number, b: number, d: number): number {
  const e1 = (c * (a + b)) / (c + d);
  const e2 = (d * (a + b)) / (c + d);
  const part = (o: number, e: number) => (o === 0 || e === 0 ? 0 : o * Math.log(o / e));
  return 2 * (part(a, e1) + part(b, e2));
}

/**
 * Terms whose share of the topic's mentions rose most in [from, to) against the baseline window
 * just before it (seven times as long), with a floor: at least 3 recent mentions and G2 >= 10.83.
 */
export async function trendingTerms(store: Store, tz: string, q: MetricQuery) {
  await topicExists(store, q.topic);
  const span = q.to.getTime() - q.from.getTime();
  const baseFrom = new Date(q.from.getTime() - BASELINE_WINDOWS * span);
  const params = { ...(await splitParams(store, tz, baseFrom, q.from, q.to)), topic: q.topic };
  // The topic's totals and the terms' counts in one query: one row per term, each carrying the
  // totals (a single row with a NULL term when no term qualifies).
  const rows = await store.queryPrepared(
    `WITH totals AS (
       SELECT sum(mentions) FILTER (WHERE recent)::DOUBLE AS c, sum(mentions) FILTER (WHERE NOT recent)::DOUBLE AS d
       FROM (${splitRows('rollup_hourly', 'topic_id = $topic')})),
     terms AS (
       SELECT term, coalesce(sum(mentions) FILTER (WHERE recent), 0)::DOUBLE AS recent,
         coalesce(sum(mentions) FILTER (WHERE NOT recent), 0)::DOUBLE AS baseline
       FROM (${splitRows('rollup_terms_hourly', 'topic_id = $topic')})
       GROUP BY term HAVING recent >= ${MIN_RECENT})
     SELECT totals.c, totals.d, terms.* FROM totals LEFT JOIN terms ON true`,
    params,
  );
  const c = num(rows[0]?.c);
  const d = num(rows[0]?.d);
  const terms = rows
    .filter((r) => r.term !== null)
    .map((r) => {
      const a = num(r.recent);
      const b = num(r.baseline);
      // Smoothed so a term absent from the baseline has a finite rise.
      const ratio = (a + 0.5) / (c + 1) / ((b + 0.5) / (d + 1));
      return {
        term: String(r.term),
        recent: a,
        baseline: b,
        rise: Math.round(ratio * 100) / 100,
        llr: logLikelihood(a, c, b, d),
      };
    })
    .filter((t) => c > 0 && t.recent / c > (d === 0 ? 0 : t.baseline / d) && t.llr >= MIN_LLR)
    .sort((x, y) => y.llr - x.llr || x.term.localeCompare(y.term))
    .slice(0, q.limit)
    .map((t) => ({ ...t, llr: Math.round(t.llr * 100) / 100 }));
  return {
    topic: q.topic,
    from: q.from.toISOString(),
    to: q.to.toISOString(),
    baselineFrom: baseFrom.toISOString(),
    mentions: { recent: c, baseline: d },
    terms,
  };
}

function leader(r: Row) {
  return {
    source: String(r.source),
    authorId: String(r.author_id),
    handle: r.handle === null || r.handle === undefined ? null : String(r.handle),
    name: r.name === null || r.name === undefined ? null : String(r.name),
    mentions: num(r.mentions),
    engagement: num(r.engagement),
    reach: num(r.reach),
    firstDay: r.first_day instanceof Date ? r.first_day.toISOString().slice(0, 10) : String(r.first_day),
  };
}

// A bound and a window's impact are the same expression of totals, the bound's at least as large;
// ln and + round monotonically, so the bound is never below, and this margin does not rely on it.
const MARGIN = 1e-9;
// The window's first and last local days (windowDays); an author whose first day of the topic is
// on or after the first is new.
const WINDOW_START = '$first';
const WINDOW_END = '$last';
const IS_NEW = `first_day >= ${WINDOW_START}`;
// Up to a month, grouping every author of the window costs less than the passes that avoid it
// (at 10 M mentions, 7 days of the largest topic: 13 k authors, ~25 ms CPU in one pass; 60 ms in
// three, each scanning the window's rows).
const SHORT_WINDOW_MS = 31 * 86_400_000;

/**
 * SQL: the authors of the window's rows that `authors` (a condition on those rows) keeps, ranked,
 * and the rows shown among them: every author at least as high as the limit-th of all and of new
 * voices (ties included), ordered by (source, author_id) once their keys resolve. The first row
 * always carries the thresholds and counts (with NULL author columns when none is shown), and
 * authors are shown only when `complete` holds: the keys are not read otherwise.
 */
function leadersSql(limit: number, authors: string, complete: string): string {
  const top = (where: string) =>
    `(SELECT min(impact) FROM (SELECT impact FROM ranked WHERE ${where} ORDER BY impact DESC LIMIT ${limit}))`;
  return `WITH ranked AS MATERIALIZED (
       SELECT author_key, mentions, engagement, reach, first_day, ${IS_NEW} AS is_new,
         ln(1 + reach) + ln(1 + engagement) AS impact
       FROM (
         SELECT author_key, sum(mentions) AS mentions, sum(engagement) AS engagement,
           coalesce(max(followers), 0) AS reach, min(first_day) AS first_day
         FROM rollup_author_days
         WHERE topic_id = $topic AND day >= ${WINDOW_START} AND day <= ${WINDOW_END} AND (${authors})
         GROUP BY author_key)),
     counted AS (
       SELECT ${top('true')} AS lead, ${top('is_new')} AS new,
         (SELECT count(*) FROM ranked) AS authors, (SELECT count(*) FROM ranked WHERE is_new) AS new_authors),
     tops AS (SELECT *, ${complete} AS complete FROM counted),
     shown AS (
       SELECT ranked.* FROM ranked, tops
       WHERE tops.complete AND (impact >= tops.lead OR (is_new AND impact >= tops.new)))
     SELECT t.*, k.source, k.author_id, s.* EXCLUDE (author_key), k.handle, k.name
     FROM tops t LEFT JOIN (shown s JOIN author_keys k USING (author_key)) ON true
     ORDER BY s.impact DESC, k.source, k.author_id`;
}

/**
 * Authors of the topic's original mentions in the window, ranked by reach (most followers seen)
 * and engagement together: ln(1 + reach) + ln(1 + engagement), so neither a large silent account
 * nor one viral post alone decides. New voices: those whose first mention of the topic is in it.
 *
 * Read from rollup_author_days (each row carries its author's first day of the topic) without
 * grouping every author of a long window: an author's impact in any window is at most their bound
 * (rollup_author_bounds), so once the limit-th impact among some authors is known, only authors
 * whose bound reaches it can be shown.
 * Windows up to a month are grouped whole at once (SHORT_WINDOW_MS); longer ones in passes:
 * 1. The topic's authors with the highest bounds (at or above its floor, rollup_author_floors) are
 *    grouped first; they are the answer when both thresholds found are at or above the floor:
 *    every author who can be shown is among them (usually so for long windows).
 * 2. Otherwise, when they hold fewer than `limit` new voices, the new voices' own candidates: the
 *    highest bounds among authors first seen in the window.
 * 3. Then the authors whose bound reaches the thresholds found, or every author of the window
 *    (every new one) when fewer than `limit` were found.
 * Handles and names come with the keys: joining the authors table would read all of it.
 */
export async function opinionLeaders(store: Store, tz: string, q: MetricQuery) {
  await topicExists(store, q.topic);
  const params = { ...(await windowDays(store, tz, q.from, q.to)), topic: q.topic };
  const run = (authors: string, complete: string, values: Record<string, number> = {}) =>
    store.queryPrepared(leadersSql(q.limit, authors, complete), { ...params, ...values });
  const bounded = (min: string) =>
    `author_key IN (SELECT author_key FROM rollup_author_bounds WHERE topic_id = $topic AND ub >= ${min})`;
  const enough = (row: Row | undefined, count: string) => num(row?.[count]) >= q.limit;
  let rows: Row[] = [];
  if (q.to.getTime() - q.from.getTime() > SHORT_WINDOW_MS) {
    // A value, not a subquery: the bounds are kept in descending order, and only a value lets the
    // scan skip every row group below it.
    const floor = 'SELECT floor FROM rollup_author_floors WHERE topic_id = $topic';
    const [stored] = await store.queryPrepared(floor, { topic: q.topic });
    if (stored !== undefined) {
      rows = await run(
        bounded('$floor'),
        `authors >= ${q.limit} AND new_authors >= ${q.limit} AND least(lead, new) - ${MARGIN} >= $floor`,
        { floor: num(stored.floor) },
      );
    }
  }
  const head = rows[0];
  if (head?.complete !== true) {
    let authors = 'true';
    const values: Record<string, number> = {};
    if (enough(head, 'authors')) {
      values.lead = num(head?.lead);
      let fresh = head;
      if (!enough(head, 'new_authors')) {
        [fresh] = await run(
          `${IS_NEW} AND author_key IN (SELECT author_key FROM rollup_author_bounds
             WHERE topic_id = $topic AND first_day >= ${WINDOW_START} AND first_day <= ${WINDOW_END}
             ORDER BY ub DESC LIMIT ${4 * q.limit})`,
          'false',
        );
      }
      let news = IS_NEW;
      if (enough(fresh, 'new_authors')) {
        values.new = num(fresh?.new);
        news = `(${IS_NEW} AND ${bounded(`$new - ${MARGIN}`)})`;
      }
      authors = `${bounded(`$lead - ${MARGIN}`)} OR ${news}`;
    }
    rows = await run(authors, 'true', values);
  }
  const shown = rows.filter((r) => r.source !== null);
  return {
    topic: q.topic,
    timezone: tz,
    from: q.from.toISOString(),
    to: q.to.toISOString(),
    leaders: shown.slice(0, q.limit).map(leader),
    newVoices: shown
      .filter((r) => r.is_new === true)
      .slice(0, q.limit)
      .map(leader),
  };
}

/**
 * Mentions holding every word of `q` (folded, Korean particles stripped, as they were indexed),
 * newest first, optionally within a topic and a time window. Reads the term index, then the
 * matching mentions only.
 */
export async function searchMentions(store: Store, q: MetricQuery) {
  const terms = searchTerms(q.q ?? '');
  await topicExists(store, q.topic);
  const rows = await searchPage(store, q, terms);
  return {
    q: q.q,
    terms,
    topic: q.topic,
    results: rows.map((r) => ({
      ...mentionItem(r),
      copyOf:
        r.copy_of_id === null ? null : { source: String(r.copy_of_source), nativeId: String(r.copy_of_id) },
    })),
  };
}

/** The charts the API serves, by path segment. */
export const mentionCharts = {
  volume,
  'share-of-voice': shareOfVoice,
  sentiment: sentimentTrend,
  trending: trendingTerms,
  leaders: opinionLeaders,
  search: (store: Store, _tz: string, q: MetricQuery) => searchMentions(store, q),
  stream,
  sources,
} as const;
