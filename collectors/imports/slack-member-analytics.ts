import { byRecord, hasColumns } from './contract.js';
import { slackExportPeriod } from './slack-period.js';

const REQUIRED = ['User ID', 'Days active', 'Messages posted'];

/**
 * Slack dashboard "Members" export (Member Analytics): per-member totals over the prior N days, so
 * period grain. Members are keyed by email (what the directory knows), else by Slack user id.
 * Account type (Member, Owner, guests) goes to user_state: guests are usually not employees.
 */
export const slackMemberAnalytics = byRecord({
  kind: 'slack-member-analytics',
  description:
    'Slack dashboard Member Analytics CSV ("... Member Analytics Prior 30 Days - Apr 17, 2026.csv")',
  detect: (header) => hasColumns(header, [...REQUIRED, 'Email']),
  parseTable(table, file) {
    const period = slackExportPeriod(file, 'Example Co Member Analytics Prior 30 Days - Apr 17, 2026.csv');
    table.require(REQUIRED);
    return {
      activity_period: table.records.map((r) => ({
        line: r.line,
        platform: 'slack',
        ...period,
        user_key: r.optStr('Email')?.toLowerCase() ?? r.str('User ID'),
        last_activity_date: r.date('Last active (UTC)'),
        active_days: r.int('Days active'),
        posts: r.int('Messages posted'),
        replies: null,
        reactions: r.int('Reactions added'),
        reads: null,
        chat_messages: null,
        channel_messages: r.int('Messages posted in channels'),
        calls: null,
        meetings: null,
        meetings_attended: null,
        is_licensed: null,
        assigned_products: null,
        user_state: r.optStr('Deactivated date (UTC)') ? 'Deactivated' : r.optStr('Account type'),
      })),
    };
  },
});
