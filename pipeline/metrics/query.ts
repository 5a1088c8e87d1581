/**
 * What every mention chart shares: its query string (validated, with messages naming the field),
 * the time window, and how a window is read from the rollups (whole local days from the daily
 * tables, the ragged edges from the hourly ones, so a year is a few hundred rows, not thousands).
 */
import type { DuckDBValue } from '@duckdb/node-api';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { LANGS } from '../language/detect.js';
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

/** Every topic (id, name, comparison_set) by id; a chart request reads no table for it. */
export const topicList = perWrite((store) =>
  store.query('SELECT id, name, comparison_set FROM topics ORDER BY id'),
);

export async function topicExists(store: Store, topic: string): Promise<void> {
  if (topic === '*') return;
  if (!(await topicList(store)).some((t) => t.id === topic))
    throw new UserError(`topic: no topic "${topic}"`, 404);
}

/**
 * SQL expressions for [$from, $to) (parameters named with prefix `p`): the whole local days
 * d0 <= day < d1, and the ragged edges' bounds: [from, ahi) and [blo, to). When the window holds no
 * whole day, d0 >= d1 and the hourly part covers it all. Functions of parameters only, so DuckDB
 * folds them to constants when it plans the chart's query (no call of their own) and uses them to
 * skip row groups by their min/max.
 */
function span(p: string) {
  const from = `$${p}from`;
  const d0 = `(timezone($tz, ${from})::DATE + CASE
      WHEN timezone($tz, date_trunc('day', timezone($tz, ${from}))) = ${from} THEN 0 ELSE 1 END)`;
  const d1 = `timezone($tz, $${p}to)::DATE`;
  const lo = `timezone($tz, ${d0}::TIMESTAMP)`;
  return { d0, d1, ahi: `least(${lo}, $${p}to)`, blo: `greatest(timezone($tz, ${d1}::TIMESTAMP), ${lo})` };
}

/**
 * SQL rows of a rollup over [$from, $to) with the columns of `hourly` (hour_start included): the
 * hourly rows of the ragged edges and, when `days` is set, one row per whole local day from the
 * daily table, its hour_start the instant the day begins (converted once per day, not per row).
 * The edges are two tight ranges, so DuckDB skips the row groups between them by their min/max
 * (one "outside [lo, hi)" test would read the whole window's hours). `where` filters both tables.
 * With `days` = 'sums' the rows carry no instant at all (hour_start and day left out), for charts
 * that only add up: no per-day conversion, and a plain UNION ALL (both tables keep their shared
 * columns in the same order).
 * Parameters (named with prefix `p`): $tz, $from, $to (see rollupParams).
 */
export function rollupRows(
  hourly: 'rollup_hourly' | 'rollup_terms_hourly',
  where: string,
  days: boolean | 'sums',
  p = '',
): string {
  const daily = hourly === 'rollup_hourly' ? 'rollup_daily' : 'rollup_terms_daily';
  const hours = (lo: string, hi: string, columns = '*') =>
    `SELECT ${columns} FROM ${hourly} WHERE ${where} AND hour_start >= ${lo} AND hour_start < ${hi}`;
  if (!days) return hours(`$${p}from`, `$${p}to`);
  const { d0, d1, ahi, blo } = span(p);
  if (days === 'sums') {
    const shared = '* EXCLUDE (hour_start)';
    return `${hours(`$${p}from`, ahi, shared)}
    UNION ALL ${hours(blo, `$${p}to`, shared)}
    UNION ALL SELECT * EXCLUDE (day) FROM ${daily} WHERE ${where} AND day >= ${d0} AND day < ${d1}`;
  }
  return `${hours(`$${p}from`, ahi)}
    UNION ALL ${hours(blo, `$${p}to`)}
    UNION ALL BY NAME
    SELECT r.* EXCLUDE (day), s.hour_start FROM ${daily} r
    JOIN (SELECT d.day::DATE AS day, timezone($tz, d.day::TIMESTAMP) AS hour_start
          FROM range(${d0}, ${d1}, INTERVAL 1 DAY) d(day)) s USING (day)
    WHERE ${where} AND r.day >= ${d0} AND r.day < ${d1}`;
}

/** The parameters rollupRows needs for [from, to), named with prefix `p`. */
export function rollupParams(tz: string, from: Date, to: Date, p = ''): Record<string, DuckDBValue> {
  return { tz, [`${p}from`]: timestamptz(from), [`${p}to`]: timestamptz(to) };
}
