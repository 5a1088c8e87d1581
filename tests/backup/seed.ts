import type { Store } from '../../pipeline/store.js';

/**
 * Rows in the tables backups and exports carry: mentions over three UTC days and two sources with
 * scores, topics and a correction; adoption facts over two ISO weeks; an employee. Ids are
 * `${prefix}${i}` so several seeds can coexist.
 */
export async function seedFacts(
  store: Store,
  opts: { mentions?: number; prefix?: string } = {},
): Promise<void> {
  const n = opts.mentions ?? 60;
  const p = opts.prefix ?? 'm';
  await store.write(async (conn) => {
    await conn.run(
      `INSERT INTO mentions
       SELECT CASE WHEN i % 2 = 0 THEN 'x' ELSE 'rss' END, '${p}' || i, 'q', NULL, 'https://example.com/' || i,
         NULL, 'text ' || i || ' ''quoted'' 한빛', 'en', 'a' || (i % 5), 'h' || (i % 5), NULL, i * 10,
         TIMESTAMPTZ '2026-11-20 00:30:00+00' + (i % 3) * INTERVAL 1 DAY + i * INTERVAL 1 SECOND, false,
         TIMESTAMPTZ '2026-11-23 00:00:00+00', TIMESTAMPTZ '2026-11-23 00:00:00+00',
         i, NULL, 2, NULL, NULL, NULL, false, NULL, '{"id": 1}'
       FROM range(${n}) t(i)`,
    );
    await conn.run(
      `INSERT INTO mention_scores
       SELECT source, native_id, 'en', 'platform', CASE WHEN likes % 3 = 0 THEN 'positive' ELSE 'neutral' END,
         0.5, 'en-linear@1', NULL, NULL, url, NULL, TIMESTAMPTZ '2026-11-23 00:00:00+00'
       FROM mentions WHERE native_id LIKE '${p}%'`,
    );
    await conn.run(
      `INSERT INTO mention_topics SELECT source, native_id, 'brand' FROM mentions WHERE native_id LIKE '${p}%'`,
    );
    await conn.run(
      `INSERT INTO mention_topics SELECT source, native_id, 'rival' FROM mentions
       WHERE native_id LIKE '${p}%' AND likes % 20 = 0`,
    );
    await conn.run(
      `INSERT INTO sentiment_corrections (source, native_id, label, corrected_by, corrected_at)
       SELECT source, native_id, 'negative', 'ana', TIMESTAMPTZ '2026-11-23 01:00:00+00'
       FROM mentions WHERE native_id = '${p}1'`,
    );
    await conn.run(
      `INSERT INTO employees VALUES ('${p}e1', '${p}e1@example.com', 'Kim', 'Sales', 'Seoul', 'L3', true, false,
         NULL, DATE '2020-01-01', NULL, TIMESTAMPTZ '2026-11-01 00:00:00+00')`,
    );
    await conn.run(
      `INSERT INTO activity_daily
       SELECT 'engage', DATE '2026-11-12' + i::INTEGER, '${p}u' || (i % 3), '${p}e1', i, 1, 2, 3, NULL, NULL, NULL, 1
       FROM range(10) t(i)`,
    );
    await conn.run(
      `INSERT INTO interactions
       SELECT 'engage', TIMESTAMPTZ '2026-11-12 09:00:00+00' + i * INTERVAL 1 DAY, '${p}u1', '${p}u2', 'reply',
         '${p}e1', NULL, 't' || i, 1
       FROM range(8) t(i)`,
    );
    await conn.run(
      `INSERT INTO threads
       SELECT 'engage', '${p}t' || i, 'General', '${p}u1', '${p}e1', TIMESTAMPTZ '2026-11-12 09:00:00+00' + i * INTERVAL 1 DAY,
         true, NULL, NULL, NULL, 1
       FROM range(8) t(i)`,
    );
    await conn.run(
      `INSERT INTO comm_volume_weekly VALUES (DATE '2026-11-09', '${p}e1', 10, 20, 3, 2.5, 1),
         (DATE '2026-11-16', '${p}e1', 12, 18, 4, 3.0, 1)`,
    );
    await conn.run(
      `INSERT INTO activity_period VALUES ('teams', 7, DATE '2026-11-15', '${p}u1', '${p}e1', DATE '2026-11-14', 3,
         NULL, NULL, NULL, NULL, 5, 6, 1, 2, 2, true, 'E3', NULL, 1)`,
    );
  });
}
