/**
 * Retention (issue 7, part 4): per-kind policies from the config's `retention:` section, applied
 * daily by the scheduler and by `earshot retention run`. Aggregates (rollups, scores, tags, counts)
 * are kept: old mentions lose their text, raw payload and search words but stay as rows, so every
 * figure for an old day reads the same before and after a run.
 */
import cron from 'node-cron';
import { z } from 'zod';
import { appendAudit } from '../audit/log.js';
import { plainRows, type Store, timestamptz } from '../store.js';

const days = z.number().int().min(1, 'must be 1 day or more, or null to keep forever').nullable();

/** The `retention:` section; days per kind, null keeps that kind forever. */
export const retentionSchema = z.strictObject({
  /**
   * Mention text, title, raw JSON and the words indexed for search, by the mention's time; the
   * mention row and its counts stay.
   */
  mentionText: days.default(365),
  /** Unparseable payloads kept for inspection, by the time they arrived. */
  quarantine: days.default(30),
  /** Collection runs and API call counts (the run log), by when they started. */
  runs: days.default(90),
  /** When the scheduler applies the policies (cron, reporting time zone). */
  schedule: z
    .string()
    .refine((s) => cron.validate(s), {
      message: 'is not a cron expression; use five fields like "30 3 * * *"',
    })
    .default('30 3 * * *'),
});
export type RetentionPolicy = z.infer<typeof retentionSchema>;
export const defaultRetention: RetentionPolicy = retentionSchema.parse({});

export const RETENTION_KINDS = ['mentionText', 'quarantine', 'runs'] as const;
type Kind = (typeof RETENTION_KINDS)[number];

export interface RetentionKindResult {
  kind: Kind;
  /** null: kept forever, nothing looked at. */
  days: number | null;
  /** Rows older than this were (or, in a dry run, would be) removed. */
  before: string | null;
  removed: number;
}

export interface RetentionResult {
  dryRun: boolean;
  kinds: RetentionKindResult[];
}

/** Per kind: how to count what is due and how to remove it; $1 is the cut-off instant. */
const RULES: Record<Kind, { count: string; apply: string[] }> = {
  mentionText: {
    count: `SELECT count(*) AS n FROM mentions
            WHERE created_at < $1 AND (text <> '' OR title IS NOT NULL OR raw IS NOT NULL)`,
    apply: [
      `UPDATE mentions SET text = '', title = NULL, raw = NULL
       WHERE created_at < $1 AND (text <> '' OR title IS NOT NULL OR raw IS NOT NULL)`,
      // The words indexed for search are the text too: a search must not find what was removed.
      // (Each row carries its mention's created_at.)
      'DELETE FROM mention_terms WHERE created_at < $1',
    ],
  },
  quarantine: {
    count: 'SELECT count(*) AS n FROM quarantine WHERE received_at < $1',
    apply: ['DELETE FROM quarantine WHERE received_at < $1'],
  },
  runs: {
    // A run still going is never removed, however old.
    count: "SELECT count(*) AS n FROM collection_runs WHERE started_at < $1 AND status <> 'running'",
    apply: [
      "DELETE FROM collection_runs WHERE started_at < $1 AND status <> 'running'",
      'DELETE FROM api_budget WHERE day < $1::DATE',
    ],
  },
};

/** Applies (or with dryRun, only counts) every policy in one transaction, with a retention.run audit entry. */
export function runRetention(
  deps: { store: Store; now: () => Date; actor: string },
  policy: RetentionPolicy,
  opts: { dryRun?: boolean } = {},
): Promise<RetentionResult> {
  const dryRun = opts.dryRun === true;
  const now = deps.now();
  return deps.store.write(async (conn) => {
    const kinds: RetentionKindResult[] = [];
    for (const kind of RETENTION_KINDS) {
      const keep = policy[kind];
      if (keep === null) {
        kinds.push({ kind, days: null, before: null, removed: 0 });
        continue;
      }
      const before = new Date(now.getTime() - keep * 86_400_000);
      const cutoff = timestamptz(before);
      const removed = Number(plainRows(await conn.runAndReadAll(RULES[kind].count, [cutoff]))[0]?.n ?? 0);
      if (!dryRun && removed > 0) for (const sql of RULES[kind].apply) await conn.run(sql, [cutoff]);
      kinds.push({ kind, days: keep, before: before.toISOString(), removed });
    }
    if (!dryRun) {
      await appendAudit(
        conn,
        {
          actor: deps.actor,
          action: 'retention.run',
          detail: Object.fromEntries(kinds.map((k) => [k.kind, { days: k.days, removed: k.removed }])),
        },
        now,
      );
    }
    return { dryRun, kinds };
  });
}
