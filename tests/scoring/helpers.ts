import type { MentionRecord } from '../../collectors/contract.js';
import { refreshAuthors, storeBatch } from '../../pipeline/ingest.js';
import { silentLogger } from '../../pipeline/logger.js';
import type { ScoringDeps } from '../../pipeline/scoring/score.js';
import type { Store } from '../../pipeline/store.js';

/** Stores mentions as one collector batch of `source` would, collected at `now`. */
export async function collect(store: Store, source: string, records: MentionRecord[], now: Date) {
  const result = await storeBatch(store, {
    source,
    partition: 'test',
    runId: 0,
    records,
    quarantine: [],
    bookmark: null,
    budget: new Map(),
    now,
  });
  // As the runner does after a run: opinion leaders show authors' handles from this table.
  await store.write((conn) => refreshAuthors(conn, source));
  return result;
}

/** Adds or replaces a topic the way the topic editor stores it. */
export function addTopic(
  store: Store,
  id: string,
  query: string,
  set: string | null = null,
  at = new Date(),
) {
  return store.write((c) =>
    c.run(
      `INSERT INTO topics VALUES ($1, $1, [$1], $2, $3, 'user', $4::TIMESTAMPTZ)
       ON CONFLICT (id) DO UPDATE SET query = excluded.query, comparison_set = excluded.comparison_set,
         updated_at = excluded.updated_at`,
      [id, query, set, at.toISOString()],
    ),
  );
}

export function scoringDeps(store: Store, timezone = 'UTC', extra: Partial<ScoringDeps> = {}): ScoringDeps {
  return { store, timezone, logger: silentLogger, now: () => new Date('2026-11-22T00:00:00Z'), ...extra };
}

/** Every rollup row, ordered, as plain values (to compare two states of the tables). */
export async function rollupSnapshot(store: Store): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const [table, order] of [
    ['rollup_hourly', 'topic_id, hour_start, source, lang, sentiment'],
    ['rollup_terms_hourly', 'topic_id, hour_start, term'],
    ['rollup_authors_daily', 'topic_id, day, source, author_id'],
    ['mention_terms', 'term, source, native_id'],
  ]) {
    out.push(table, await store.query(`SELECT * FROM ${table} ORDER BY ${order}`));
  }
  return out;
}
