import { createHash } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { appendAudit } from './audit/log.js';
import type { Config } from './config.js';
import { plainRows, type Store, timestamptz } from './store.js';
import { type TopicTagResult, tagMentions } from './topics/tag.js';

/**
 * Seeds what users edit at run time (topics, source schedules) from the config file. Rows the file
 * put there follow the file; rows changed at run time (origin 'user') are left alone. Topics the
 * file added or whose query/keywords it changed are re-tagged over all stored mentions; the
 * results (a query that does not parse carries its error) are returned.
 */
export async function syncConfig(store: Store, config: Config, now: Date): Promise<TopicTagResult[]> {
  const retag = await store.write(async (conn) => {
    const at = timestamptz(now);
    const stored = new Map(
      plainRows(await conn.runAndReadAll('SELECT id, query, keywords, origin FROM topics')).map((r) => [
        String(r.id),
        r,
      ]),
    );
    const changed: string[] = [];
    for (const t of config.topics) {
      const old = stored.get(t.id);
      const oldKeywords = Array.isArray(old?.keywords) ? old.keywords.map(String) : [];
      // Name or comparison-set edits do not change which mentions match, so they skip the re-tag.
      if (
        old === undefined ||
        (old.origin === 'config' &&
          ((old.query ?? null) !== (t.query ?? null) ||
            JSON.stringify(oldKeywords) !== JSON.stringify(t.keywords)))
      ) {
        changed.push(t.id);
      }
      await conn.run(
        `INSERT INTO topics VALUES ($1, $2, $3::VARCHAR[], $4, $5, 'config', $6)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, keywords = excluded.keywords, query = excluded.query,
           comparison_set = excluded.comparison_set, updated_at = excluded.updated_at
         WHERE topics.origin = 'config'`,
        [t.id, t.name, JSON.stringify(t.keywords), t.query ?? null, t.comparisonSet ?? null, at],
      );
    }
    for (const s of config.sources) {
      await conn.run(
        `INSERT INTO source_settings VALUES ($1, $2, $3, 'config', $4)
         ON CONFLICT (source) DO UPDATE SET schedule = excluded.schedule, enabled = excluded.enabled,
           updated_at = excluded.updated_at
         WHERE source_settings.origin = 'config'`,
        [s.id, s.schedule, s.enabled, at],
      );
    }
    await auditConfigChange(conn, config, now);
    return changed;
  });
  // After the seeding commits: tagMentions takes its own transaction per topic, and a seeded
  // topic must not wait on (or roll back with) a long re-tag.
  return retag.length > 0 ? tagMentions(store, retag) : [];
}

const CONFIG_HASHES = 'config_section_hashes';

/**
 * A config.change audit entry naming the top-level sections that differ from the last config this
 * database saw (hashes kept in meta). Secrets serialise as placeholders, so no value is hashed.
 */
async function auditConfigChange(conn: DuckDBConnection, config: Config, now: Date): Promise<void> {
  const hashes: Record<string, string> = Object.fromEntries(
    Object.entries(config)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [
        k,
        createHash('sha256')
          .update(JSON.stringify(v) ?? 'undefined')
          .digest('hex'),
      ]),
  );
  const [row] = plainRows(await conn.runAndReadAll('SELECT value FROM meta WHERE key = $1', [CONFIG_HASHES]));
  const before = row ? (JSON.parse(String(row.value)) as Record<string, string>) : {};
  const changed = [...new Set([...Object.keys(hashes), ...Object.keys(before)])]
    .filter((k) => hashes[k] !== before[k])
    .sort();
  if (changed.length === 0) return;
  await conn.run('INSERT OR REPLACE INTO meta VALUES ($1, $2)', [CONFIG_HASHES, JSON.stringify(hashes)]);
  await appendAudit(
    conn,
    { actor: 'system:config', action: 'config.change', target: config.configPath, detail: { changed } },
    now,
  );
}

/** Schedule and switch of each configured source, as stored (run-time edits win over the file). */
export async function sourceSchedules(
  store: Store,
  config: Config,
): Promise<Array<{ id: string; schedule: string; enabled: boolean }>> {
  const rows = await store.query('SELECT source, schedule, enabled FROM source_settings');
  const stored = new Map(rows.map((r) => [String(r.source), r]));
  return config.sources.map((s) => {
    const row = stored.get(s.id);
    return {
      id: s.id,
      schedule: row ? String(row.schedule) : s.schedule,
      enabled: row ? Boolean(row.enabled) : s.enabled,
    };
  });
}
