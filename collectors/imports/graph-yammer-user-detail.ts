import { byRecord, graphPeriod, graphUserRows, hasColumns, refuseConcealed } from './contract.js';

const REQUIRED = [
  'Report Refresh Date',
  'User Principal Name',
  'Posted Count',
  'Read Count',
  'Report Period',
];

/**
 * Microsoft Graph getYammerActivityUserDetail (Viva Engage): per-user totals over D7/D30/D90/D180,
 * so period grain, ending on the report refresh date; a one-day API report (the graph-reports
 * collector's `date=`) is daily grain on the day asked for.
 */
export const graphYammerUserDetail = byRecord({
  kind: 'graph-yammer-user-detail',
  description: 'Microsoft Graph getYammerActivityUserDetail CSV (Viva Engage per-user period totals)',
  detect: (header) => hasColumns(header, [...REQUIRED, 'Liked Count']),
  parseTable(table, file) {
    table.require(REQUIRED);
    refuseConcealed(table, 'User Principal Name');
    return graphUserRows(
      file,
      table.records.map((r) => ({
        line: r.line,
        platform: 'viva_engage',
        ...graphPeriod(file, r),
        user_key: r.str('User Principal Name'),
        last_activity_date: r.date('Last Activity Date'),
        active_days: null,
        posts: r.int('Posted Count'),
        replies: null,
        reactions: r.int('Liked Count'),
        reads: r.int('Read Count'),
        chat_messages: null,
        channel_messages: null,
        calls: null,
        meetings: null,
        meetings_attended: null,
        is_licensed: null,
        assigned_products: r.optStr('Assigned Products'),
        user_state: r.optStr('User State'),
      })),
    );
  },
});
