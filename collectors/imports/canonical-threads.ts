import { byRecord, hasColumns } from './contract.js';

const REQUIRED = ['platform', 'thread_id', 'author_id', 'created_ts', 'is_question'];

/** Threads with their first reply (canonical threads.csv): the responsiveness metrics. */
export const canonicalThreads = byRecord({
  kind: 'threads',
  description:
    'canonical threads CSV (platform, thread_id, author_id, created_ts, is_question, first_reply_*)',
  detect: (header) => hasColumns(header, REQUIRED),
  parseTable(table) {
    table.require(REQUIRED);
    return {
      threads: table.records.map((r) => {
        const created = r.instant('created_ts') ?? r.fail('created_ts', 'is empty; a time is required');
        const firstReply = r.instant('first_reply_ts');
        if (firstReply && firstReply < created)
          r.fail('first_reply_ts', 'is before created_ts; a reply cannot precede its thread');
        return {
          line: r.line,
          platform: r.str('platform'),
          thread_id: r.str('thread_id'),
          group_name: r.optStr('group_name'),
          author_user: r.str('author_id'),
          created_ts: created,
          is_question: r.bool('is_question') ?? false,
          first_reply_ts: firstReply,
          first_reply_user: r.optStr('first_reply_by'),
        };
      }),
    };
  },
});
