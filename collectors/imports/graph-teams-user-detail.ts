import { byRecord, graphPeriod, graphUserRows, hasColumns, refuseConcealed } from './contract.js';

const REQUIRED = [
  'Report Refresh Date',
  'User Principal Name',
  'Team Chat Message Count',
  'Private Chat Message Count',
  'Report Period',
];

/**
 * Microsoft Graph getTeamsUserActivityUserDetail, both the current 33-column schema and the older
 * 12-column one: columns are read by name, and those the old schema lacks (Post/Reply Messages,
 * Meetings Attended, Is Licensed) stay NULL rather than zero. Period grain, or daily for a one-day
 * API report (the graph-reports collector's `date=`).
 */
export const graphTeamsUserDetail = byRecord({
  kind: 'graph-teams-user-detail',
  description: 'Microsoft Graph getTeamsUserActivityUserDetail CSV (33- and legacy 12-column schemas)',
  detect: (header) => hasColumns(header, REQUIRED),
  parseTable(table, file) {
    table.require(REQUIRED);
    refuseConcealed(table, 'User Principal Name');
    return graphUserRows(
      file,
      table.records.map((r) => ({
        line: r.line,
        platform: 'teams',
        ...graphPeriod(file, r),
        user_key: r.str('User Principal Name'),
        last_activity_date: r.date('Last Activity Date'),
        active_days: null,
        posts: r.int('Post Messages'),
        replies: r.int('Reply Messages'),
        reactions: null,
        reads: null,
        chat_messages: r.int('Private Chat Message Count'),
        // "Team Chat Message Count" is what was said in team channels (posts + replies).
        channel_messages: r.int('Team Chat Message Count'),
        calls: r.int('Call Count'),
        meetings: r.int('Meeting Count'),
        meetings_attended: r.int('Meetings Attended Count'),
        is_licensed: r.bool('Is Licensed'),
        assigned_products: r.optStr('Assigned Products'),
        user_state: r.bool('Is Deleted') ? 'Deleted' : null,
      })),
    );
  },
});
