import { byRecord, hasColumns } from './contract.js';

const REQUIRED = ['activity_date', 'platform', 'employee_id'];

/** Daily per-user activity in the canonical model (one row per platform, day and employee). */
export const canonicalActivityDaily = byRecord({
  kind: 'activity-daily',
  description: 'canonical daily activity CSV (activity_date, platform, employee_id, posts, replies, ...)',
  detect: (header) => hasColumns(header, [...REQUIRED, 'posts']),
  parseTable(table) {
    table.require(REQUIRED);
    return {
      activity_daily: table.records.map((r) => ({
        line: r.line,
        platform: r.str('platform'),
        activity_date: r.date('activity_date') ?? r.fail('activity_date', 'is empty; a day is required'),
        user_key: r.str('employee_id'),
        posts: r.int('posts'),
        replies: r.int('replies'),
        reactions: r.int('reactions'),
        reads: r.int('reads'),
        chat_messages: r.int('chat_messages'),
        channel_messages: r.int('channel_messages'),
        meetings_attended: r.int('meetings_attended'),
      })),
    };
  },
});
