import { byRecord, hasColumns } from './contract.js';

const REQUIRED = ['date', 'user_id', 'messages_posted_count'];

/**
 * Slack admin.analytics.getFile (type=member): one JSON object per member and day, gzip as the API
 * gives it or plain. Daily grain, keyed (platform, date, user); members are keyed by email (what the
 * directory knows), else by Slack user id. Counts the file omits stay NULL, not zero.
 */
export const slackMemberNdjson = byRecord({
  kind: 'slack-member-ndjson',
  description: 'Slack admin.analytics.getFile member NDJSON, gzip or plain (daily per-member activity)',
  detect: (header) => hasColumns(header, [...REQUIRED, 'is_active', 'channel_messages_posted_count']),
  parseTable(table) {
    table.require(REQUIRED);
    return {
      activity_daily: table.records.map((r) => ({
        line: r.line,
        platform: 'slack',
        activity_date: r.date('date') ?? r.fail('date', 'is empty; the day is required'),
        user_key: r.optStr('email_address')?.toLowerCase() ?? r.str('user_id'),
        posts: r.int('messages_posted_count'),
        replies: null,
        reactions: r.int('reactions_added_count'),
        reads: null,
        chat_messages: null,
        channel_messages: r.int('channel_messages_posted_count'),
        meetings_attended: r.int('slack_huddles_count'),
      })),
    };
  },
});
