/**
 * What every mention chart shares: its query string (validated, with messages naming the field),
 * the time window, and how a window is read from the rollups (whole local days from the daily
 * tables, the ragged edges from the hourly ones, so a year is a few hundred rows, not thousands).
 */
import { DuckDBDateValue, type DuckDBValue } from '@duckdb/node-api';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { LANGS } from '../language/detect.js';
import { boundedMemo } from '../memo.js';
import { perWrite, type Store, timestamptz } from '../store.js';

/** Where a stream page ended: the last mention shown (newest first). */
export interface StreamCursor {
  createdAt: Date;
  source: string;
  nativeId: string;
}

export interface MetricQuery {
  /** Topic id; '*' (every mention) when absent. */
  topic: string;
  /** Comparison set, for share of voice. */
  set: string | null;
  from: Date;
  to: Date;
  grain: 'hour' | 'day';
  /** Volume only: one series per source, language or sentiment. */
  by: 'source' | 'lang' | 'sentiment' | null;
  /** Text search words. */
  q: string | null;
  limit: number;
  /** Stream filters: only this source, language or shown sentiment (a correction wins). */
  source: string | null;
  lang: string | null;
  sentiment: 'positive' | 'negative' | 'neutral' | null;
  /** Stream: the page after this cursor. */
  before: StreamCursor | null;
}

const DAY_MS = 86_400_000;

const instant = (field: string) =>
  z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), `${field}: use an ISO 8601 time like 2026-11-20T00:00:00Z`)
    .transform((s) => new Date(s));

/** A cursor is opaque to clients: base64url of JSON [createdAt, source, nativeId]. */
export function encodeCursor(c: StreamCursor): string {
  return Buffer.from(JSON.stringify([c.createdAt.toISOString(), c.source, c.nativeId])).toString('base64url');
}

function decodeCursor(raw: string): StreamCursor | null {
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(v) || v.length !== 3) return null;
    const [at, source, nativeId] = v as unknown[];
    if (typeof at !== 'string' || typeof source !== 'string' || typeof nativeId !== 'string') return null;
    const createdAt = new Date(at);
    return Number.isNaN(createdAt.getTime()) ? null : { createdAt, source, nativeId };
  } catch {
    return null;
  }
}

const querySchema = z.object({
  topic: z.string().min(1).default('*'),
  set: z.string().min(1).optional(),
  from: instant('from').optional(),
  to: instant('to').optional(),
  grain: z.enum(['hour', 'day'], { message: 'grain: use hour or day' }).default('hour'),
  by: z.enum(['source', 'lang', 'sentiment'], { message: 'by: use source, lang or sentiment' }).optional(),
  q: z.string().max(500, 'q: at most 500 characters').optional(),
  limit: z.coerce.number().int().min(1).max(200).default(20),
  source: z
    .string()
    .regex(/^[a-z0-9_-]{1,40}$/, 'source: use a source name like x, rss or naver')
    .optional(),
  lang: z
    .enum(LANGS as [string, ...string[]], { message: `lang: use one of ${LANGS.join(', ')}` })
    .optional(),
  sentiment: z
    .enum(['positive', 'negative', 'neutral'], { message: 'sentiment: use positive, negative or neutral' })
    .optional(),
  before: z
    .string()
    .transform((s, ctx) => {
      const c = decodeCursor(s);
      if (c === null) ctx.addIssue({ code: 'custom', message: 'before: not a cursor this server gave out' });
      return c as StreamCursor;
    })
    .optional(),
});

/** Parses a chart's query string; `to` defaults to now and `from` to seven days before `to`. */
export function parseMetricQuery(raw: Record<string, unknown>, now: Date): MetricQuery {
  const parsed = querySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') ?? 'query';
    const message = issue?.message ?? 'is not valid';
    throw new UserError(message.startsWith(`${field}:`) ? message : `${field}: ${message}`, 400);
  }
  const p = parsed.data;
  const to = p.to ?? now;
  const from = p.from ?? new Date(to.getTime() - 7 * DAY_MS);
  if (from >= to) throw new UserError('from: must be before to', 400);
  return {
    topic: p.topic,
    set: p.set ?? null,
    from,
    to,
    grain: p.grain,
    by: p.by ?? null,
    q: p.q ?? null,
    limit: p.limit,
    source: p.source ?? null,
    lang: p.lang ?? null,
    sentiment: p.sentiment ?? null,
    before: p.before ?? null,
  };
}

export const num = (v: unknown) => Number(v ?? 0);
export const iso = (v: unknown) => (v as Date).toISOString();

// Text of instants (epoch ms), remembered: a chart answers with hundreds of buckets, the same hours
// and days request after request, and formatting a date costs about a microsecond each time. A
// year of hours is under 9,000 instants per zone.
const INSTANTS = 100_000;
const isoText = boundedMemo((ms: number) => new Date(ms).toISOString(), INSTANTS);
const hourLabel = boundedMemo((ms: number) => {
  const t = new Date(ms).toISOString();
  return `${t.slice(0, 10)} ${t.slice(11, 13)}:00`;
}, INSTANTS);
const dayLabel = boundedMemo((ms: number) => new Date(ms).toISOString().slice(0, 10), INSTANTS);

/** A `bucketed` bucket's start (its column start), as an ISO instant. */
export const bucketStart = isoText;

/** A `bucketed` bucket's label, from its column local: its local hour "2026-11-21 09:00" or day "2026-11-21". */
export const bucketLabel = (local: number, grain: 'hour' | 'day') =>
  grain === 'hour' ? hourLabel(local) : dayLabel(local);

/** Every topic (id, name, comparison_set) by id; a chart request reads no table for it. */
export const topicList = perWrite((store) =>
  store.query('SELECT id, name, comparison_set FROM topics ORDER BY id'),
);

export async function topicExists(store: Store, topic: string): Promise<void> {
  if (topic === '*') return;
  if (!(await topicList(store)).some((t) => t.id === topic))
    throw new UserError(`topic: no topic "${topic}"`, 404);
}

// Local midnights are fetched in blocks of this many days, and a zone keeps at most this many
// blocks (about 90 years) before it starts again: a window far in the past costs one query.
const BLOCK_DAYS = 512;
const MAX_BLOCKS = 64;
const midnightBlocks = new Map<string, Map<number, Promise<Float64Array>>>();

/**
 * The instant local day `day` (days since 1970-01-01) starts in `tz`, in epoch ms, from DuckDB's
 * own time-zone data, which the rollups' local days come from too. Where midnight does not exist
 * it is the day's first instant (01:00 in Santiago on 6 September); a day a zone skipped entirely
 * starts where the next one does. Fetched once per block of days and zone: asked of DuckDB on every
 * chart request they cost about 1.1 ms of CPU, nearly all of it planning, as much as some charts.
 */
async function midnight(store: Store, tz: string, day: number): Promise<number> {
  let blocks = midnightBlocks.get(tz);
  if (blocks === undefined || blocks.size >= MAX_BLOCKS) {
    blocks = new Map();
    midnightBlocks.set(tz, blocks);
  }
  const block = Math.floor(day / BLOCK_DAYS);
  let starts = blocks.get(block);
  if (starts === undefined) {
    const zone = blocks;
    starts = store
      .queryPrepared(
        `SELECT timezone($tz, (DATE '1970-01-01' + d::INTEGER)::TIMESTAMP) AS at
         FROM range($lo::BIGINT, $lo::BIGINT + ${BLOCK_DAYS}) t(d) ORDER BY d`,
        { tz, lo: block * BLOCK_DAYS },
      )
      .then((rows) => Float64Array.from(rows, (r) => (r.at as Date).getTime()));
    starts.catch(() => {
      if (zone.get(block) === starts) zone.delete(block);
    });
    blocks.set(block, starts);
  }
  return (await starts)[day - block * BLOCK_DAYS] as number;
}

/** The local day (days since 1970-01-01) of instant `t` in `tz`: the last day starting at or before it. */
async function localDay(store: Store, tz: string, t: number): Promise<number> {
  // Zone offsets lie within a day of UTC, so the local day is the UTC day or one beside it.
  const utc = Math.floor(t / DAY_MS);
  for (let day = utc + 1; day > utc - 1; day--) if ((await midnight(store, tz, day)) <= t) return day;
  return utc - 1;
}

/** The first and the last local day of [from, to) in `tz`, as DATE parameters. */
export async function windowDays(
  store: Store,
  tz: string,
  from: Date,
  to: Date,
): Promise<{ first: DuckDBValue; last: DuckDBValue }> {
  // Instants are whole milliseconds and days start on whole minutes: the day of the last
  // millisecond of the window is the day of its last instant.
  const [first, last] = await Promise.all([
    localDay(store, tz, from.getTime()),
    localDay(store, tz, to.getTime() - 1),
  ]);
  return { first: new DuckDBDateValue(first), last: new DuckDBDateValue(last) };
}

/** The local days and edge bounds (epoch ms) of [from, to) in `tz`, as rollupParams names them. */
async function windowBounds(store: Store, tz: string, from: number, to: number) {
  const first = await localDay(store, tz, from);
  const d0 = (await midnight(store, tz, first)) === from ? first : first + 1;
  const d1 = await localDay(store, tz, to);
  const lo = await midnight(store, tz, d0);
  return { first, d0, d1, ahi: Math.min(lo, to), blo: Math.max(await midnight(store, tz, d1), lo) };
}

/**
 * The parameters rollupRows reads for [from, to): the whole local days d0 <= day < d1 in `tz`, and
 * the ragged edges' bounds [from, ahi) and [blo, to), the first edge inside the local day `first`
 * and the last inside d1. When the window holds no whole day, d0 >= d1 and the hourly part covers
 * it all.
 */
export async function rollupParams(
  store: Store,
  tz: string,
  from: Date,
  to: Date,
): Promise<Record<string, DuckDBValue>> {
  const b = await windowBounds(store, tz, from.getTime(), to.getTime());
  return {
    from: timestamptz(from),
    to: timestamptz(to),
    first: new DuckDBDateValue(b.first),
    d0: new DuckDBDateValue(b.d0),
    d1: new DuckDBDateValue(b.d1),
    ahi: timestamptz(new Date(b.ahi)),
    blo: timestamptz(new Date(b.blo)),
  };
}

/**
 * The parameters splitRows reads for the window [from, to) and its baseline [base, from): the
 * bounds of each as rollupParams gives them (the baseline's prefixed with b), and [mlo, mhi), the
 * baseline's last edge and the window's first read as one range: the window's first edge starts at
 * `from`, and the baseline's last one ends there, or is empty (starting after it) when the baseline
 * holds no whole day.
 */
export async function splitParams(
  store: Store,
  tz: string,
  base: Date,
  from: Date,
  to: Date,
): Promise<Record<string, DuckDBValue>> {
  const [r, b] = await Promise.all([
    windowBounds(store, tz, from.getTime(), to.getTime()),
    windowBounds(store, tz, base.getTime(), from.getTime()),
  ]);
  const at = (ms: number) => timestamptz(new Date(ms));
  const day = (d: number) => new DuckDBDateValue(d);
  return {
    bfrom: timestamptz(base),
    bahi: at(b.ahi),
    bd0: day(b.d0),
    bd1: day(b.d1),
    from: timestamptz(from),
    mlo: at(Math.min(b.blo, from.getTime())),
    mhi: at(r.ahi),
    d0: day(r.d0),
    d1: day(r.d1),
    blo: at(r.blo),
    to: timestamptz(to),
  };
}

/** The parameters `bucketed` reads for the query's window and grain ($tz for the labels). */
export async function bucketParams(
  store: Store,
  tz: string,
  q: MetricQuery,
): Promise<Record<string, DuckDBValue>> {
  if (q.grain === 'hour') return { tz, from: timestamptz(q.from), to: timestamptz(q.to) };
  return { tz, ...(await rollupParams(store, tz, q.from, q.to)) };
}

/** The hourly rollups and the daily tables summing them. */
type Hourly = 'rollup_hourly' | 'rollup_terms_hourly';
const DAILY = { rollup_hourly: 'rollup_daily', rollup_terms_hourly: 'rollup_terms_daily' } as const;

/** SQL: the rows of `hourly` in [lo, hi) passing `where`, with `column` in place of hour_start. */
const hourRows = (hourly: Hourly, where: string, column: string, lo: string, hi: string) =>
  `SELECT ${column}, * EXCLUDE (hour_start) FROM ${hourly}
      WHERE ${where} AND hour_start >= ${lo} AND hour_start < ${hi}`;

/**
 * SQL rows of a rollup over [$from, $to), each with its local `day` and the daily table's other
 * columns: the hourly rows of the ragged edges and the daily rows of the whole local days between
 * them. The first edge lies inside the local day `first` and the last inside d1, so no row is
 * converted to its day. The edges are two tight ranges, so DuckDB skips the row groups between
 * them by their min/max (one "outside [lo, hi)" test would read the whole window's hours). `where`
 * filters both tables, unless `dailyWhere` is given for the daily one.
 * Parameters: $from, $to and the bounds of rollupParams.
 */
export function rollupRows(hourly: Hourly, where: string, dailyWhere = where): string {
  const hours = (day: string, lo: string, hi: string) => hourRows(hourly, where, `${day} AS day`, lo, hi);
  return `${hours('$first', '$from', '$ahi')}
    UNION ALL BY NAME ${hours('$d1', '$blo', '$to')}
    UNION ALL BY NAME SELECT * FROM ${DAILY[hourly]} WHERE ${dailyWhere} AND day >= $d0 AND day < $d1`;
}

/**
 * SQL rows of a rollup over [$bfrom, $to), each with the daily table's columns but `day` and a
 * column `recent`: whether it lies in [$from, $to) rather than the baseline [$bfrom, $from). Read as
 * rollupRows reads each window, with three hourly edges instead of four (the two around $from are
 * one range, split by hour) and one daily range instead of two (the days of both windows, but the
 * one holding $from when it is read by the hour): eight ranges for trending where it read twelve,
 * about a fifth less CPU per request at 10 M mentions.
 * Parameters: those of splitParams.
 */
export function splitRows(hourly: Hourly, where: string): string {
  const hours = (recent: string, lo: string, hi: string) =>
    hourRows(hourly, where, `${recent} AS recent`, lo, hi);
  return `${hours('false', '$bfrom', '$bahi')}
    UNION ALL BY NAME ${hours('hour_start >= $from', '$mlo', '$mhi')}
    UNION ALL BY NAME ${hours('true', '$blo', '$to')}
    UNION ALL BY NAME SELECT day >= $d0 AS recent, * EXCLUDE (day) FROM ${DAILY[hourly]}
      WHERE ${where} AND day >= $bd0 AND day < $d1 AND (day < $bd1 OR day >= $d0)`;
}

/**
 * SQL: rollup_hourly over [$from, $to) summed per bucket (a local hour or day) and `dims`, one row
 * each with columns start (the bucket's instant) and local (its local wall-clock time), both in
 * epoch milliseconds (bucketStart and bucketLabel give their text), the dims' aliases and `sums`
 * (alias: expression summed, as DOUBLE). `dims` are expressions with aliases ("sentiment AS key");
 * `dailyWhere`, when given, filters the daily rows instead of `where`. Days come from rollupRows:
 * no input row needs a time-zone conversion, only the output rows do. One aggregate in all: an
 * extra grouping or join cost a chart about as much as its scans (a CTE of hours joined to their
 * buckets took twice the CPU). Numbers, not timestamps, strings or 128-bit sums, come out: turning
 * those into JavaScript values cost more of a chart's CPU than its scans (read them with
 * store.queryColumns).
 */
export function bucketed(
  where: string,
  dims: string[],
  sums: Record<string, string>,
  grain: 'hour' | 'day',
  dailyWhere = where,
): string {
  const columns = (day: string) =>
    [day, ...dims, ...Object.entries(sums).map(([alias, expr]) => `${expr} AS ${alias}`)].join(', ');
  const aliases = dims.map((d) => d.split(/\s+AS\s+/i).at(-1) as string);
  const grouped = (rows: string, bucket: string) =>
    `SELECT ${[bucket, ...aliases, ...Object.keys(sums).map((c) => `sum(${c})::DOUBLE AS ${c}`)].join(', ')}
     FROM (${rows}) GROUP BY ALL`;
  if (grain === 'hour') {
    const rows = `SELECT ${columns('hour_start')} FROM rollup_hourly
      WHERE ${where} AND hour_start >= $from AND hour_start < $to`;
    return `SELECT epoch_ms(hour_start)::DOUBLE AS start, epoch_ms(timezone($tz, hour_start))::DOUBLE AS local,
        * EXCLUDE (hour_start)
      FROM (${grouped(rows, 'hour_start')})`;
  }
  const rows = `SELECT ${columns('day')} FROM (${rollupRows('rollup_hourly', where, dailyWhere)})`;
  return `SELECT epoch_ms(timezone($tz, day::TIMESTAMP))::DOUBLE AS start, epoch_ms(day::TIMESTAMP)::DOUBLE AS local,
      * EXCLUDE (day)
    FROM (${grouped(rows, 'day')})`;
}
