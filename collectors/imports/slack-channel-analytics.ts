import { byRecord, hasColumns } from './contract.js';
import { slackExportPeriod } from './slack-period.js';

const REQUIRED = ['Name', 'Messages posted', 'Members who posted'];

/**
 * Slack dashboard "Channels" export (Channel Analytics): per-channel totals over the prior N days,
 * into group_activity_period (channels are not people). Channels have no owner in this export.
 */
export const slackChannelAnalytics = byRecord({
  kind: 'slack-channel-analytics',
  description:
    'Slack dashboard Channel Analytics CSV ("... Channel Analytics Prior 30 Days - Apr 17, 2026.csv")',
  detect: (header) => hasColumns(header, [...REQUIRED, 'Total membership']),
  parseTable(table, file) {
    const period = slackExportPeriod(file, 'Example Co Channel Analytics Prior 30 Days - Apr 17, 2026.csv');
    table.require(REQUIRED);
    return {
      group_activity_period: table.records.map((r) => ({
        line: r.line,
        platform: 'slack',
        ...period,
        group_name: r.str('Name'),
        group_type: null,
        is_deleted: null,
        owner_user: null,
        created_date: r.date('Created'),
        last_activity_date: null,
        member_count: r.int('Total membership'),
        guest_count: r.int('Guests'),
        posts: r.int('Messages posted'),
        reads: null,
        reactions: r.int('Reactions added'),
        members_who_posted: r.int('Members who posted'),
        members_who_read: r.int('Members who viewed'),
        members_who_reacted: r.int('Members who reacted'),
      })),
    };
  },
});
