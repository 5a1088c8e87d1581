import { bySlices, hasColumns } from './contract.js';

const REQUIRED = ['id', 'replied_to_id', 'thread_id', 'sender_id', 'created_at'];

/**
 * Viva Engage "Export network data" Messages.csv: one row per message. Yields threads (started by the
 * message whose id is the thread id) and reply interactions (sender -> author of the message replied
 * to), derived from the staged messages once the whole file is read (see MessageRow). Deleted
 * messages are skipped. The export has no question flag, so a thread counts as a question when its
 * first message contains "?" (a heuristic; the analyst can correct is_question).
 */
export const vivaEngageMessages = bySlices({
  kind: 'viva-engage-messages',
  description: 'Viva Engage "export network data" Messages.csv (threads and replies)',
  detect: (header) => hasColumns(header, [...REQUIRED, 'sender_email', 'group_name']),
  slices: () => (table) => {
    table.require(REQUIRED);
    return {
      messages: table.records
        .filter((r) => !(r.optStr('deleted_at') || r.optStr('deleted_by_id')))
        .map((r) => ({
          line: r.line,
          platform: 'viva_engage',
          id: r.str('id'),
          replied_to: r.optStr('replied_to_id'),
          thread_id: r.str('thread_id'),
          group_name: r.optStr('group_name'),
          // The directory knows emails; the Viva Engage user id is the fallback key.
          sender: r.optStr('sender_email')?.toLowerCase() ?? r.str('sender_id'),
          created_ts: r.instant('created_at') ?? r.fail('created_at', 'is empty; a time is required'),
          question: r.raw('body').includes('?'),
        })),
    };
  },
});
