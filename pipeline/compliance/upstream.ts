/**
 * Upstream deletions (issue 7, part 5): after a collection, sources that can tell (Mastodon,
 * Bluesky: Collector.deleted) are asked about the posts stored recently, and those deleted on the
 * platform are purged the way erasure purges, with a compliance.upstream audit entry. Older posts
 * are not asked about again: their text leaves with retention (mentionText), and X has its own
 * batch job (`earshot compliance x`).
 */
import type { CollectorContext, StoredMention } from '../../collectors/contract.js';
import { collectorOf } from '../../collectors/registry.js';
import { appendAudit } from '../audit/log.js';
import type { SourceConfig } from '../config.js';
import { refreshRollups } from '../scoring/rollups.js';
import { timestamptz } from '../store.js';
import type { Services } from '../verbs.js';
import { type PurgeCounts, purgeMentions, stagePurge } from './purge.js';

/** Posts collected this recently are re-checked after each collection of their source... */
const RECHECK_MS = 24 * 3_600_000;
/** ...at most this many (the newest) a source and run, so a recheck costs a bounded number of calls. */
const RECHECK_LIMIT = 200;

export interface UpstreamResult {
  source: string;
  checked: number;
  purged: PurgeCounts | null;
}

/** A collector context for one configured source outside a collection run (no quota is shared). */
export function sourceContext(svc: Services, source: SourceConfig, job: string): CollectorContext {
  return {
    fetch: svc.fetch,
    now: svc.now,
    sleep: svc.sleep,
    logger: svc.logger.child({ source: source.id, job }),
    signal: svc.signal,
    baseUrl: source.baseUrl,
    maxRateLimitWaitMs: svc.config.maxRateLimitWaitMs,
    budget: { take: () => true },
  };
}

/** Asks each source that can tell which of its recently stored posts are gone, and purges them. */
export async function purgeUpstreamDeletions(
  svc: Services,
  sources: readonly SourceConfig[],
  actor: string,
): Promise<UpstreamResult[]> {
  const results: UpstreamResult[] = [];
  for (const source of sources) {
    const collector = collectorOf(source.id);
    if (!collector.deleted) continue;
    const rows = await svc.store.query(
      `SELECT native_id, channel, raw::VARCHAR AS raw FROM mentions WHERE source = $1 AND collected_at >= $2
       ORDER BY collected_at DESC, native_id LIMIT ${RECHECK_LIMIT}`,
      [source.id, timestamptz(new Date(svc.now().getTime() - RECHECK_MS))],
    );
    const stored: StoredMention[] = rows.map((r) => ({
      nativeId: String(r.native_id),
      channel: r.channel === null ? null : String(r.channel),
      raw: r.raw === null ? null : JSON.parse(String(r.raw)),
    }));
    const gone =
      stored.length === 0
        ? []
        : await collector.deleted(source.settings, stored, sourceContext(svc, source, 'upstream-deletions'));
    let purged: PurgeCounts | null = null;
    if (gone.length > 0) {
      purged = await svc.store.write(async (conn) => {
        await stagePurge(
          conn,
          gone.map((id) => [source.id, id] as const),
        );
        const counts = await purgeMentions(conn, svc.config.timezone);
        await appendAudit(
          conn,
          {
            actor,
            action: 'compliance.upstream',
            target: source.id,
            detail: { checked: stored.length, ...counts },
          },
          svc.now(),
        );
        return counts;
      });
    }
    results.push({ source: source.id, checked: stored.length, purged });
  }
  if (results.some((r) => r.purged !== null)) await refreshRollups(svc.store, svc.config.timezone);
  return results;
}
