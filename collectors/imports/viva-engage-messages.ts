import { wholeFile } from './bytes.js';
import { hasColumns, type Importer, type InteractionRow, type Lined, type ThreadRow } from './contract.js';
import { readCsv } from './csv.js';

const REQUIRED = ['id', 'replied_to_id', 'thread_id', 'sender_id', 'created_at'];

interface Message {
  line: number;
  id: string;
  repliedTo: string | null;
  thread: string;
  group: string | null;
  sender: string;
  body: string;
  at: Date;
}

/**
 * Viva Engage "Export network data" Messages.csv: one row per message. Yields threads (started by the
 * message whose id is the thread id) and reply interactions (sender -> author of the message replied
 * to). Deleted messages are skipped. The export has no question flag, so a thread counts as a
 * question when its first message contains "?" (a heuristic; the analyst can correct is_question).
 */
export const vivaEngageMessages: Importer = {
  kind: 'viva-engage-messages',
  description: 'Viva Engage "export network data" Messages.csv (threads and replies)',
  detect: (header) => hasColumns(header, [...REQUIRED, 'sender_email', 'group_name']),
  async parse(file) {
    // Replies point at messages anywhere in the file and a thread's first reply needs all of them:
    // read whole (see the report's known gaps).
    const table = readCsv(await wholeFile(file));
    table.require(REQUIRED);
    const messages: Message[] = [];
    for (const r of table.records) {
      if (r.optStr('deleted_at') || r.optStr('deleted_by_id')) continue;
      messages.push({
        line: r.line,
        id: r.str('id'),
        repliedTo: r.optStr('replied_to_id'),
        thread: r.str('thread_id'),
        group: r.optStr('group_name'),
        // The directory knows emails; the Viva Engage user id is the fallback key.
        sender: r.optStr('sender_email')?.toLowerCase() ?? r.str('sender_id'),
        body: r.raw('body'),
        at: r.instant('created_at') ?? r.fail('created_at', 'is empty; a time is required'),
      });
    }
    const byId = new Map(messages.map((m) => [m.id, m]));
    const interactions: Lined<InteractionRow>[] = [];
    for (const m of messages) {
      const parent = m.repliedTo === null ? undefined : byId.get(m.repliedTo);
      // Replying to oneself is no tie between people.
      if (!parent || parent.sender === m.sender) continue;
      interactions.push({
        line: m.line,
        platform: 'viva_engage',
        event_ts: m.at,
        from_user: m.sender,
        to_user: parent.sender,
        interaction_type: 'reply',
        thread_id: m.thread,
      });
    }
    const threads: Lined<ThreadRow>[] = [];
    for (const start of messages) {
      if (start.id !== start.thread) continue;
      // "Answered" means by someone else: the author's own follow-up is not a reply.
      const first = messages
        .filter((m) => m.thread === start.thread && m.id !== start.id && m.sender !== start.sender)
        .sort((a, b) => a.at.getTime() - b.at.getTime())[0];
      threads.push({
        line: start.line,
        platform: 'viva_engage',
        thread_id: start.thread,
        group_name: start.group,
        author_user: start.sender,
        created_ts: start.at,
        is_question: start.body.includes('?'),
        first_reply_ts: first?.at ?? null,
        first_reply_user: first?.sender ?? null,
      });
    }
    return { threads, interactions };
  },
};
