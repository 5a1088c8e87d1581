import { DuckDBDateValue } from '@duckdb/node-api';
import { hasColumns, type Importer } from './contract.js';
import { readCsv } from './csv.js';

const REQUIRED = ['ParentId', 'PostCount', 'CommentCount'];

/**
 * Salesforce Chatter ChatterActivity (SOQL export): one row per user (ParentId, a 005... user id)
 * with running totals since the user started, not totals of a window. They are stored as a period
 * of 0 days ("since the start") ending on the snapshot day, so two snapshots give a window by
 * difference and are never mistaken for a D7/D30 total. The snapshot day is the latest
 * SystemModstamp when exported, else the day of the import. Received comments and likes have no
 * column in activity_period (it counts what a user gives), so they are not kept.
 */
export const chatterActivity: Importer = {
  kind: 'chatter-activity',
  description: 'Salesforce Chatter ChatterActivity SOQL export (per-user running totals)',
  detect: (header) => hasColumns(header, [...REQUIRED, 'CommentReceivedCount']),
  parse(file, context) {
    const table = readCsv(file);
    table.require(REQUIRED);
    const stamps = table.records.map((r) => r.instant('SystemModstamp')?.getTime() ?? null);
    const latest = Math.max(...stamps.map((t) => t ?? Number.NEGATIVE_INFINITY));
    const snapshot = Number.isFinite(latest) ? latest : context.now.getTime();
    const periodEnd = new DuckDBDateValue(Math.floor(snapshot / 86_400_000));
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
  },
};
