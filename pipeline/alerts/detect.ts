import type { DuckDBConnection } from '@duckdb/node-api';
import { FAILED_RUN_STATUSES } from '../../collectors/runner.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { redact } from '../secrets.js';
import { plainRows, type Store, timestamptz } from '../store.js';
import { type AlertKind, type AlertRules, alertSettings } from './config.js';
import { type AlertDraft, insertAlert, mutedTopics } from './records.js';
import { topicWhy, truncate } from './why.js';

const HOUR_MS = 3_600_000;

export interface AlertDeps {
  store: Store;
  config: Config;
  logger: Logger;
  now: () => Date;
}

/** Mean and population standard deviation of an hourly count over the trailing window (empty hours are 0). */
export interface Baseline {
  mean: number;
  sd: number;
}

export function baseline(sum: number, sumOfSquares: number, hours: number): Baseline {
  const mean = sum / hours;
  return { mean, sd: Math.sqrt(Math.max(0, sumOfSquares / hours - mean * mean)) };
}

/**
 * mean + k·sd, with sd floored at √mean (the noise of a Poisson count): over a nearly constant
 * baseline the measured sd is ~0 and every extra mention would otherwise be a spike.
 */
export function spikeThreshold(b: Baseline, k: number): number {
  return b.mean + k * Math.max(b.sd, Math.sqrt(b.mean));
}

/** One topic-hour with its trailing window, as read from rollup_hourly (originals only). */
export interface TopicHour {
  topicId: string;
  topicName: string;
  hour: Date;
  /** Hours the baseline covers: the window, or fewer when the topic's first mention is more recent. */
  baselineHours: number;
  mentions: number;
  negative: number;
  volume: Baseline;
  negatives: Baseline;
  /** Negative share over the window (0 when it had no mentions). */
  negativeShareBefore: number;
}

export function isVolumeSpike(h: TopicHour, rules: AlertRules): boolean {
  return (
    h.baselineHours >= rules.minBaselineHours &&
    h.mentions >= rules.minVolume &&
    h.mentions > spikeThreshold(h.volume, rules.k)
  );
}

/**
 * A negative surge: at least negativeMinCount negative mentions, more than the trailing negative
 * count's mean + k·sd, AND a negative share at least negativeShareRise above the window's share —
 * so a volume spike with the usual mood is not also a negative surge.
 */
export function isNegativeSurge(h: TopicHour, rules: AlertRules): boolean {
  return (
    h.baselineHours >= rules.minBaselineHours &&
    h.negative >= rules.negativeMinCount &&
    h.negative > spikeThreshold(h.negatives, rules.k) &&
    h.negative / h.mentions - h.negativeShareBefore >= rules.negativeShareRise
  );
}

/**
 * Topic-hours with hour_start in (from, to], each with its trailing window [hour - W, hour), cut to
 * the hours since the topic's first mention.
 */
async function topicHours(
  conn: DuckDBConnection,
  from: Date,
  to: Date,
  windowHours: number,
): Promise<TopicHour[]> {
  const rows = plainRows(
    await conn.runAndReadAll(
      `WITH hourly AS (
         SELECT r.topic_id, any_value(t.name) AS name, r.hour_start, sum(r.mentions)::DOUBLE AS n,
           coalesce(sum(r.mentions) FILTER (WHERE r.sentiment = 'negative'), 0)::DOUBLE AS neg
         FROM rollup_hourly r JOIN topics t ON t.id = r.topic_id
         WHERE r.hour_start > $1::TIMESTAMPTZ - to_hours($3::BIGINT) AND r.hour_start <= $2
         GROUP BY r.topic_id, r.hour_start
       ),
       firsts AS (SELECT topic_id, min(hour_start) AS first_hour FROM rollup_hourly GROUP BY topic_id)
       SELECT c.topic_id, c.name, c.hour_start, c.n, c.neg, any_value(f.first_hour) AS first_hour,
         coalesce(sum(p.n), 0) AS sum_n, coalesce(sum(p.n * p.n), 0) AS sumsq_n,
         coalesce(sum(p.neg), 0) AS sum_neg, coalesce(sum(p.neg * p.neg), 0) AS sumsq_neg
       FROM hourly c JOIN firsts f ON f.topic_id = c.topic_id
       LEFT JOIN hourly p ON p.topic_id = c.topic_id
         AND p.hour_start >= c.hour_start - to_hours($3::BIGINT) AND p.hour_start < c.hour_start
       WHERE c.hour_start > $1
       GROUP BY c.topic_id, c.name, c.hour_start, c.n, c.neg
       ORDER BY c.hour_start, c.topic_id`,
      [timestamptz(from), timestamptz(to), windowHours],
    ),
  );
  return rows.map((r) => {
    const hour = r.hour_start as Date;
    const known = Math.floor((hour.getTime() - (r.first_hour as Date).getTime()) / HOUR_MS);
    const hours = Math.min(windowHours, known);
    return {
      topicId: String(r.topic_id),
      topicName: String(r.name),
      hour,
      baselineHours: hours,
      mentions: Number(r.n),
      negative: Number(r.neg),
      volume: baseline(Number(r.sum_n), Number(r.sumsq_n), Math.max(1, hours)),
      negatives: baseline(Number(r.sum_neg), Number(r.sumsq_neg), Math.max(1, hours)),
      negativeShareBefore: Number(r.sum_n) === 0 ? 0 : Number(r.sum_neg) / Number(r.sum_n),
    };
  });
}

/** Where a comms user sees the topic around the hour: the day before it, through its end. */
function topicLink(publicUrl: string, topicId: string, hour: Date): string {
  const params = new URLSearchParams({
    topic: topicId,
    from: new Date(hour.getTime() - 24 * HOUR_MS).toISOString(),
    to: new Date(hour.getTime() + HOUR_MS).toISOString(),
  });
  return `${publicUrl}/comms?${params}`;
}

function hourLabel(hour: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, dateStyle: 'medium', timeStyle: 'short' }).format(hour);
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
const one = (x: number) => (Math.round(x * 10) / 10).toString();

/**
 * Volume spikes and negative surges for every completed hour not judged yet: hours start after the
 * bookmark and end at least settleMinutes ago. Cool-downs count alerts already stored, including
 * those of this pass (hours are judged in order). Returns drafts; the caller stores them.
 */
async function topicAlerts(
  conn: DuckDBConnection,
  rules: AlertRules,
  now: Date,
  publicUrl: string,
  timeZone: string,
): Promise<AlertDraft[]> {
  const [mark] = plainRows(
    await conn.runAndReadAll(`SELECT through FROM pipeline_state WHERE stage = 'alerts' AND key = 'hours'`),
  );
  const to = new Date(now.getTime() - rules.settleMinutes * 60_000 - HOUR_MS);
  const from =
    mark?.through instanceof Date ? mark.through : new Date(to.getTime() - rules.lookbackHours * HOUR_MS);
  if (to <= from) return [];
  const last = new Map(
    plainRows(
      await conn.runAndReadAll(
        `SELECT kind, topic_id, max(window_start) AS at FROM alerts
         WHERE topic_id IS NOT NULL GROUP BY kind, topic_id`,
      ),
    ).map((r) => [`${r.kind}:${r.topic_id}`, r.at as Date]),
  );
  const coolingDown = (kind: AlertKind, topicId: string, hour: Date) => {
    const at = last.get(`${kind}:${topicId}`);
    return at !== undefined && hour.getTime() - at.getTime() < rules.cooldownHours * HOUR_MS;
  };
  const drafts: AlertDraft[] = [];
  for (const h of await topicHours(conn, from, to, rules.windowHours)) {
    const fired: AlertKind[] = [];
    if (isVolumeSpike(h, rules)) fired.push('volume_spike');
    if (isNegativeSurge(h, rules)) fired.push('negative_surge');
    for (const kind of fired) {
      if (coolingDown(kind, h.topicId, h.hour)) continue;
      last.set(`${kind}:${h.topicId}`, h.hour);
      const negative = kind === 'negative_surge';
      const b = negative ? h.negatives : h.volume;
      const threshold = spikeThreshold(b, rules.k);
      const at = hourLabel(h.hour, timeZone);
      const days = one(h.baselineHours / 24);
      drafts.push({
        kind,
        dedupeKey: `${kind}:${h.topicId}:${h.hour.toISOString()}`,
        topicId: h.topicId,
        source: null,
        partition: null,
        windowStart: h.hour,
        windowEnd: new Date(h.hour.getTime() + HOUR_MS),
        title: negative
          ? `Negative surge: ${h.topicName}, ${h.negative} negative mentions in the hour from ${at}`
          : `Volume spike: ${h.topicName}, ${h.mentions} mentions in the hour from ${at}`,
        summary: negative
          ? `${h.negative} of ${h.mentions} mentions negative (${pct(h.negative / h.mentions)}), against ${pct(h.negativeShareBefore)} and ${one(b.mean)} negative an hour over the previous ${days} days (threshold ${one(threshold)}).`
          : `${h.mentions} original mentions against ${one(b.mean)} an hour (sd ${one(b.sd)}) over the previous ${days} days (threshold ${one(threshold)}).`,
        value: negative ? h.negative : h.mentions,
        baseline: { mean: b.mean, sd: b.sd, threshold },
        why: await topicWhy(conn, {
          topicId: h.topicId,
          hour: h.hour,
          windowHours: h.baselineHours,
          negativeOnly: negative,
        }),
        link: topicLink(publicUrl, h.topicId, h.hour),
      });
    }
  }
  await conn.run(`INSERT OR REPLACE INTO pipeline_state VALUES ('alerts', 'hours', $1)`, [timestamptz(to)]);
  return drafts;
}

/**
 * One alert per streak of failedRuns or more consecutive failed runs of a source partition: the
 * streak is named by its first failed run, so a longer streak adds nothing and a success ends it.
 * Failed means FAILED_RUN_STATUSES, as `earshot status` counts them; rate-limited runs end a streak.
 */
async function failureAlerts(
  conn: DuckDBConnection,
  rules: AlertRules,
  publicUrl: string,
): Promise<AlertDraft[]> {
  const rows = plainRows(
    await conn.runAndReadAll(
      `WITH last_good AS (
         SELECT source, partition,
           coalesce(max(id) FILTER (WHERE NOT list_contains($2::VARCHAR[], status) AND status <> 'running'), -1) AS good_id
         FROM collection_runs GROUP BY source, partition
       )
       SELECT r.source, r.partition, count(*) AS runs, min(r.id) AS first_id,
         min(r.started_at) AS first_at, max(coalesce(r.finished_at, r.started_at)) AS last_at,
         arg_max(r.error, r.id) AS last_error
       FROM collection_runs r JOIN last_good g USING (source, partition)
       WHERE list_contains($2::VARCHAR[], r.status) AND r.id > g.good_id
       GROUP BY r.source, r.partition HAVING count(*) >= $1
       ORDER BY r.source, r.partition`,
      [rules.failedRuns, JSON.stringify(FAILED_RUN_STATUSES)],
    ),
  );
  return rows.map((r) => {
    const lastError = r.last_error === null ? null : truncate(redact(String(r.last_error)), 500);
    const runs = Number(r.runs);
    return {
      kind: 'collection_failure',
      dedupeKey: `collection_failure:${r.source}:${r.partition}:${r.first_id}`,
      topicId: null,
      source: String(r.source),
      partition: String(r.partition),
      windowStart: r.first_at as Date,
      windowEnd: r.last_at as Date,
      title: `Collection failing: ${r.source} (${r.partition}), ${runs} failed runs in a row`,
      summary: lastError ? `Last error: ${lastError}` : 'The runs ended without an error message.',
      value: runs,
      baseline: null,
      why: {
        topTerms: [],
        topSources: [],
        sentiment: null,
        examples: [],
        failedRuns: {
          runs,
          firstFailedAt: (r.first_at as Date).toISOString(),
          lastFailedAt: (r.last_at as Date).toISOString(),
          lastError,
        },
      },
      link: `${publicUrl}/`,
    };
  });
}

export interface AlertRunResult {
  created: { id: number; kind: AlertKind; topicId: string | null; source: string | null; muted: boolean }[];
}

/**
 * Detects new alerts and stores them with their pending deliveries, all in one transaction with
 * the hour bookmark: a crash leaves nothing half-done, and a re-run never stores an alert twice.
 * Call after each scoring pass (rollups are its input).
 */
export async function runAlerts(deps: AlertDeps): Promise<AlertRunResult> {
  const { rules, webhooks, publicUrl } = alertSettings(deps.config);
  const now = deps.now();
  const result = await deps.store.write(async (conn) => {
    const muted = await mutedTopics(conn, now);
    const drafts = [
      ...(await topicAlerts(conn, rules, now, publicUrl, deps.config.timezone)),
      ...(await failureAlerts(conn, rules, publicUrl)),
    ];
    const created: AlertRunResult['created'] = [];
    for (const draft of drafts) {
      const isMuted = draft.topicId !== null && muted.has(draft.topicId);
      const id = await insertAlert(conn, draft, { now, muted: isMuted, webhooks });
      if (id !== null)
        created.push({ id, kind: draft.kind, topicId: draft.topicId, source: draft.source, muted: isMuted });
    }
    return { created };
  });
  for (const a of result.created)
    deps.logger.info(
      { alert: a.id, kind: a.kind, topic: a.topicId, source: a.source, muted: a.muted },
      'alert',
    );
  return result;
}
