/**
 * Sentiment corrections: a user says what a mention's label should be. Every correction is kept
 * (who, when, an optional note); the newest per mention is the label shown and counted in every
 * metric (the rollups read it, see pipeline/scoring/rollups.ts). The mention's local hour is queued
 * for the rollups in the correction's own transaction, so a crash before the refresh loses nothing.
 */
import { z } from 'zod';
import { UserError } from '../errors.js';
import { localHour, refreshRollups } from '../scoring/rollups.js';
import { type Store, timestamptz } from '../store.js';

export const correctionArgs = z.strictObject({
  source: z.string().min(1, "source: name the mention's source"),
  id: z.string().min(1, "id: give the mention's id"),
  label: z.enum(['positive', 'negative', 'neutral'], {
    message: 'label: use positive, negative or neutral',
  }),
  by: z.string().trim().min(1, 'by: say who corrects it').max(200, 'by: at most 200 characters'),
  note: z.string().max(2000, 'note: at most 2,000 characters').optional(),
});
export type CorrectionArgs = z.infer<typeof correctionArgs>;

export interface CorrectionResult {
  source: string;
  nativeId: string;
  /** The label now shown and counted. */
  label: string;
  correctedBy: string;
  correctedAt: string;
  /** What the model said, and which model version; null when the mention is not scored yet. */
  modelLabel: string | null;
  model: string | null;
  /** Every correction of this mention, oldest first. */
  history: { label: string; by: string; at: string; note: string | null }[];
}

/** Stores a correction, queues its hour and refreshes the rollups; 404 when there is no such mention. */
export async function correctSentiment(
  store: Store,
  timezone: string,
  args: CorrectionArgs,
  now: Date,
): Promise<CorrectionResult> {
  const key = [args.source, args.id];
  await store.write(async (conn) => {
    const found = await conn.runAndReadAll(
      'SELECT 1 FROM mentions WHERE source = $1 AND native_id = $2',
      key,
    );
    if (found.currentRowCount === 0) throw new UserError(`no mention ${args.source}:${args.id}`, 404);
    await conn.run(
      `INSERT INTO sentiment_corrections (source, native_id, label, corrected_by, corrected_at, note)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [...key, args.label, args.by, timestamptz(now), args.note ?? null],
    );
    await conn.run(
      `INSERT OR IGNORE INTO rollup_dirty
       SELECT ${localHour('created_at')} FROM mentions WHERE source = $source AND native_id = $id`,
      { tz: timezone, source: args.source, id: args.id },
    );
  });
  await refreshRollups(store, timezone);
  const history = await store.query(
    `SELECT label, corrected_by, corrected_at, note FROM sentiment_corrections
     WHERE source = $1 AND native_id = $2 ORDER BY corrected_at, id`,
    key,
  );
  const [scored] = await store.query(
    'SELECT sentiment, sentiment_model FROM mention_scores WHERE source = $1 AND native_id = $2',
    key,
  );
  const latest = history.at(-1) as Record<string, unknown>;
  return {
    source: args.source,
    nativeId: args.id,
    label: String(latest.label),
    correctedBy: String(latest.corrected_by),
    correctedAt: (latest.corrected_at as Date).toISOString(),
    modelLabel: scored ? String(scored.sentiment) : null,
    model: scored ? String(scored.sentiment_model) : null,
    history: history.map((h) => ({
      label: String(h.label),
      by: String(h.corrected_by),
      at: (h.corrected_at as Date).toISOString(),
      note: h.note === null ? null : String(h.note),
    })),
  };
}

/** "x:12345" -> source and id (ids may hold colons: the first one splits). */
export function parseMentionRef(ref: string): { source: string; id: string } {
  const at = ref.indexOf(':');
  if (at <= 0 || at === ref.length - 1)
    throw new UserError(`mention "${ref}": write it as <source>:<id>, e.g. x:1862412345`);
  return { source: ref.slice(0, at), id: ref.slice(at + 1) };
}
