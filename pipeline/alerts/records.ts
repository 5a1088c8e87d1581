import type { DuckDBConnection } from '@duckdb/node-api';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { plainRows, type Row, type Store, timestamptz } from '../store.js';
import { ALERT_KINDS, type AlertKind, type Webhook } from './config.js';

export const ALERT_STATUSES = ['open', 'acked', 'muted'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** Shares of the original mentions by sentiment (0..1) and net sentiment (pos - neg) / (pos + neg). */
export interface SentimentMix {
  mentions: number;
  positive: number;
  negative: number;
  neutral: number;
  net: number | null;
}

/** An original mention shown as an example; text is collected (attacker-controlled) and truncated. */
export interface AlertExample {
  source: string;
  url: string | null;
  author: string | null;
  text: string;
  engagement: number;
  sentiment: string | null;
  createdAt: string;
}

/** Why an alert fired, as stored with it and sent with it. */
export interface AlertWhy {
  /** Terms of the hour ranked by their rise over the trailing hourly mean. */
  topTerms: { term: string; mentions: number; baseline: number }[];
  topSources: { source: string; mentions: number; share: number }[];
  sentiment: { before: SentimentMix; now: SentimentMix } | null;
  examples: AlertExample[];
  /** Collection failures only. */
  failedRuns?: { runs: number; firstFailedAt: string; lastFailedAt: string; lastError: string | null };
}

/** An alert before it is stored. */
export interface AlertDraft {
  kind: AlertKind;
  dedupeKey: string;
  topicId: string | null;
  source: string | null;
  partition: string | null;
  windowStart: Date;
  windowEnd: Date;
  title: string;
  summary: string;
  value: number | null;
  baseline: { mean: number; sd: number; threshold: number } | null;
  why: AlertWhy;
  link: string;
}

/** An alert as the API lists it and the generic JSON webhook receives it. */
export interface Alert {
  id: number;
  kind: AlertKind;
  status: AlertStatus;
  topicId: string | null;
  source: string | null;
  partition: string | null;
  windowStart: string;
  windowEnd: string;
  createdAt: string;
  title: string;
  summary: string;
  value: number | null;
  baseline: { mean: number; sd: number; threshold: number } | null;
  why: AlertWhy;
  link: string;
  ackedAt: string | null;
  ackedBy: string | null;
}

export interface AlertDelivery {
  webhook: string;
  status: 'pending' | 'delivered';
  attempts: number;
  nextAttemptAt: string;
  deliveredAt: string | null;
  lastError: string | null;
}

const iso = (v: unknown): string | null => (v instanceof Date ? v.toISOString() : null);

/** Does this webhook take this alert (its kinds and topics filters)? */
export function webhookWants(hook: Webhook, alert: { kind: AlertKind; topicId: string | null }): boolean {
  if (hook.kinds && !hook.kinds.includes(alert.kind)) return false;
  if (hook.topics && (alert.topicId === null || !hook.topics.includes(alert.topicId))) return false;
  return true;
}

/**
 * Stores an alert and, unless it is muted, one pending delivery per webhook that wants it, in the
 * caller's transaction (the outbox). Returns the new id, or null when this alert was stored before.
 */
export async function insertAlert(
  conn: DuckDBConnection,
  draft: AlertDraft,
  opts: { now: Date; muted: boolean; webhooks: readonly Webhook[] },
): Promise<number | null> {
  const inserted = plainRows(
    await conn.runAndReadAll(
      `INSERT INTO alerts (kind, dedupe_key, topic_id, source, partition, window_start, window_end, created_at,
         status, title, summary, value, baseline_mean, baseline_sd, threshold, why, link)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
       ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
      [
        draft.kind,
        draft.dedupeKey,
        draft.topicId,
        draft.source,
        draft.partition,
        timestamptz(draft.windowStart),
        timestamptz(draft.windowEnd),
        timestamptz(opts.now),
        opts.muted ? 'muted' : 'open',
        draft.title,
        draft.summary,
        draft.value,
        draft.baseline?.mean ?? null,
        draft.baseline?.sd ?? null,
        draft.baseline?.threshold ?? null,
        JSON.stringify(draft.why),
        draft.link,
      ],
    ),
  );
  const id = inserted[0]?.id;
  if (id === undefined) return null;
  if (!opts.muted) {
    for (const hook of opts.webhooks.filter((h) => webhookWants(h, draft))) {
      await conn.run(
        `INSERT INTO alert_deliveries (alert_id, webhook, status, attempts, next_attempt_at)
         VALUES ($1, $2, 'pending', 0, $3)`,
        [Number(id), hook.name, timestamptz(opts.now)],
      );
    }
  }
  return Number(id);
}

function toAlert(r: Row): Alert {
  return {
    id: Number(r.id),
    kind: r.kind as AlertKind,
    status: r.status as AlertStatus,
    topicId: (r.topic_id as string | null) ?? null,
    source: (r.source as string | null) ?? null,
    partition: (r.partition as string | null) ?? null,
    windowStart: iso(r.window_start) ?? '',
    windowEnd: iso(r.window_end) ?? '',
    createdAt: iso(r.created_at) ?? '',
    title: String(r.title),
    summary: String(r.summary),
    value: r.value === null ? null : Number(r.value),
    baseline:
      r.baseline_mean === null
        ? null
        : { mean: Number(r.baseline_mean), sd: Number(r.baseline_sd), threshold: Number(r.threshold) },
    why: (typeof r.why === 'string' ? JSON.parse(r.why) : r.why) as AlertWhy,
    link: String(r.link),
    ackedAt: iso(r.acked_at),
    ackedBy: (r.acked_by as string | null) ?? null,
  };
}

const ALERT_COLUMNS = `id, kind, status, topic_id, source, partition, window_start, window_end, created_at, title,
  summary, value, baseline_mean, baseline_sd, threshold, why::VARCHAR AS why, link, acked_at, acked_by`;

export async function getAlert(store: Store, id: number): Promise<Alert | null> {
  const [row] = await store.query(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE id = $1`, [id]);
  return row ? toAlert(row) : null;
}

const instant = z.string().refine((s) => !Number.isNaN(Date.parse(s)), {
  message: 'must be a date and time, like 2026-11-22T09:00:00Z',
});

/** Filters of GET /api/alerts and `earshot alerts list`. */
export const alertFiltersSchema = z.strictObject({
  topic: z.string().min(1).optional(),
  kind: z.enum(ALERT_KINDS).optional(),
  status: z.enum(ALERT_STATUSES).optional(),
  since: instant.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export type AlertFilters = z.infer<typeof alertFiltersSchema>;

/** Newest first, each with its deliveries (webhook names only: URLs are secrets). */
export async function listAlerts(
  store: Store,
  filters: AlertFilters,
): Promise<(Alert & { deliveries: AlertDelivery[] })[]> {
  const rows = await store.query(
    `SELECT ${ALERT_COLUMNS} FROM alerts
     WHERE ($1::VARCHAR IS NULL OR topic_id = $1) AND ($2::VARCHAR IS NULL OR kind = $2)
       AND ($3::VARCHAR IS NULL OR status = $3) AND ($4::TIMESTAMPTZ IS NULL OR created_at >= $4)
     ORDER BY created_at DESC, id DESC LIMIT $5`,
    [
      filters.topic ?? null,
      filters.kind ?? null,
      filters.status ?? null,
      filters.since === undefined ? null : timestamptz(new Date(filters.since)),
      filters.limit,
    ],
  );
  const alerts = rows.map(toAlert);
  if (alerts.length === 0) return [];
  const deliveries = await store.query(
    `SELECT alert_id, webhook, status, attempts, next_attempt_at, delivered_at, last_error
     FROM alert_deliveries WHERE list_contains($1::BIGINT[], alert_id) ORDER BY alert_id, webhook`,
    [JSON.stringify(alerts.map((a) => a.id))],
  );
  return alerts.map((a) => ({
    ...a,
    deliveries: deliveries
      .filter((d) => Number(d.alert_id) === a.id)
      .map((d) => ({
        webhook: String(d.webhook),
        status: d.status as AlertDelivery['status'],
        attempts: Number(d.attempts),
        nextAttemptAt: iso(d.next_attempt_at) ?? '',
        deliveredAt: iso(d.delivered_at),
        lastError: (d.last_error as string | null) ?? null,
      })),
  }));
}

/** Acknowledges an alert (an open one becomes acked); acking twice keeps the first time and person. */
export async function ackAlert(store: Store, id: number, now: Date, by: string): Promise<Alert> {
  await store.write((conn) =>
    conn.run(
      `UPDATE alerts SET status = CASE WHEN status = 'open' THEN 'acked' ELSE status END,
         acked_at = $2, acked_by = $3
       WHERE id = $1 AND acked_at IS NULL`,
      [id, timestamptz(now), by],
    ),
  );
  const alert = await getAlert(store, id);
  if (!alert) throw new UserError(`no alert ${id}`, 404);
  return alert;
}

/**
 * Mutes a topic until `until` (null unmutes). While muted its alerts are still detected and stored,
 * with status muted, so the history stays whole and cool-downs hold, but they are not delivered.
 */
export async function muteTopic(
  store: Store,
  topic: string,
  until: string | null,
  now: Date,
): Promise<{ topic: string; mutedUntil: string | null }> {
  const end = until === null ? null : new Date(until);
  if (end !== null && end <= now)
    throw new UserError(`until: ${until} is not in the future (use null to unmute)`, 400);
  await store.write(async (conn) => {
    const known = await conn.runAndReadAll('SELECT 1 FROM topics WHERE id = $1', [topic]);
    if (known.currentRowCount === 0) throw new UserError(`no topic "${topic}"`, 404);
    await conn.run('DELETE FROM topic_mutes WHERE topic_id = $1', [topic]);
    if (end !== null)
      await conn.run('INSERT INTO topic_mutes VALUES ($1, $2, $3)', [
        topic,
        timestamptz(end),
        timestamptz(now),
      ]);
  });
  return { topic, mutedUntil: end?.toISOString() ?? null };
}

export const muteArgsSchema = z.strictObject({
  topic: z.string().min(1),
  until: instant.nullable(),
});

/** Topics muted at `now`. */
export async function mutedTopics(conn: DuckDBConnection, now: Date): Promise<Set<string>> {
  const rows = plainRows(
    await conn.runAndReadAll('SELECT topic_id FROM topic_mutes WHERE until > $1', [timestamptz(now)]),
  );
  return new Set(rows.map((r) => String(r.topic_id)));
}
