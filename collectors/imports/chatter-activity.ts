import { DuckDBDateValue } from '@duckdb/node-api';
import { bySlices, hasColumns } from './contract.js';
import { readSlices } from './formats.js';

const REQUIRED = ['ParentId', 'PostCount', 'CommentCount'];

/**
 * Salesforce Chatter ChatterActivity (SOQL export): one row per user (ParentId, a 005... user id)
 * with running totals since the user started, not totals of a window. They are stored as a period
 * of 0 days ("since the start") ending on the snapshot day, so two snapshots give a window by
 * difference and are never mistaken for a D7/D30 total. The snapshot day is the latest
 * SystemModstamp when exported, else the day of the import. Received comments and likes have no
 * column in activity_period (it counts what a user gives), so they are not kept.
 */
export const chatterActivity = bySlices({
  kind: 'chatter-activity',
  description: 'Salesforce Chatter ChatterActivity SOQL export (per-user running totals)',
  detect: (header) => hasColumns(header, [...REQUIRED, 'CommentReceivedCount']),
  async slices(file, context) {
    // The snapshot day is the whole file's latest stamp, known before any row: a first pass reads
    // only the stamps, a slice at a time.
    let latest = Number.NEGATIVE_INFINITY;
    for await (const table of readSlices(file, 10_000)) {
      table.require(REQUIRED);
      for (const r of table.records)
        latest = Math.max(latest, r.instant('SystemModstamp')?.getTime() ?? latest);
    }
    const snapshot = Number.isFinite(latest) ? latest : context.now.getTime();
    const periodEnd = new DuckDBDateValue(Math.floor(snapshot / 86_400_000));
    return (table) => {
      table.require(REQUIRED);
      return {
        activity_period: table.records.map((r) => ({
          line: r.line,
          platform: 'chatter',
          period_days: 0,
          period_end: periodEnd,
          user_key: r.str('ParentId'),
          last_activity_date: null,
          active_days: null,
          posts: r.int('PostCount'),
          replies: r.int('CommentCount'),
          reactions: null,
          reads: null,
          chat_messages: null,
          channel_messages: null,
          calls: null,
          meetings: null,
          meetings_attended: null,
          is_licensed: null,
          assigned_products: null,
          user_state: null,
        })),
      };
    };
  },
});
