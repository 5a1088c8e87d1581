import { byRecord, graphPeriod, hasColumns, refuseConcealed } from './contract.js';

const REQUIRED = ['Report Refresh Date', 'Group Display Name', 'Posted Count', 'Report Period'];

/**
 * Microsoft Graph getYammerGroupsActivityDetail (Viva Engage groups): per-group totals over
 * D7/D30/D90/D180 ending on the report refresh date (a one-day API report: a 1-day period on the day
 * asked for), into group_activity_period (groups are not
 * people). Concealment hides group names and owners alike, so either refuses the file.
 */
export const graphYammerGroups = byRecord({
  kind: 'graph-yammer-groups',
  description: 'Microsoft Graph getYammerGroupsActivityDetail CSV (Viva Engage per-group period totals)',
  detect: (header) => hasColumns(header, [...REQUIRED, 'Member Count']),
  parseTable(table, file) {
    table.require(REQUIRED);
    refuseConcealed(table, 'Group Display Name');
    refuseConcealed(table, 'Owner Principal Name');
    return {
      group_activity_period: table.records.map((r) => ({
        line: r.line,
        platform: 'viva_engage',
        ...graphPeriod(file, r),
        group_name: r.str('Group Display Name'),
        group_type: r.optStr('Group Type'),
        is_deleted: r.bool('Is Deleted'),
        owner_user: r.optStr('Owner Principal Name')?.toLowerCase() ?? null,
        created_date: null,
        last_activity_date: r.date('Last Activity Date'),
        member_count: r.int('Member Count'),
        guest_count: null,
        posts: r.int('Posted Count'),
        reads: r.int('Read Count'),
        reactions: r.int('Liked Count'),
        members_who_posted: null,
        members_who_read: null,
        members_who_reacted: null,
      })),
    };
  },
});
