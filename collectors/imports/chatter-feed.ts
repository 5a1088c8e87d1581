import {
  hasColumns,
  type Importer,
  type InteractionRow,
  type Lined,
  type ParsedRows,
  type ThreadRow,
} from './contract.js';
import { type CsvTable, ImportError, readCsv } from './csv.js';

const ITEM = ['Id', 'CreatedById', 'CreatedDate', 'Type'];
const COMMENT = ['Id', 'FeedItemId', 'CreatedById', 'CreatedDate'];
// What tells the two apart: a comment points at its post, a post has a type.
const isItem = (header: readonly string[]) =>
  hasColumns(header, [...ITEM, 'BestCommentId']) && !hasColumns(header, ['FeedItemId']);
const isComment = (header: readonly string[]) => hasColumns(header, [...COMMENT, 'CommentType']);

interface Post {
  line: number;
  id: string;
  group: string | null;
  author: string;
  at: Date;
  question: boolean;
  table: CsvTable;
}

const deleted = (t: CsvTable) => (r: CsvTable['records'][number]) =>
  t.index('IsDeleted') !== undefined && r.bool('IsDeleted') === true;

/**
 * Salesforce Chatter FeedItem + FeedComment (SOQL exports, Salesforce field API names), which only
 * make sense together: posts become threads (a QuestionPost is a question), and each comment is a
 * reply from its author to the post's author. The first reply is the earliest comment by someone
 * else. BestCommentId (the accepted answer) is always one of those comments, so the first reply
 * already marks the question answered; threads (002) has no column for which comment was accepted.
 * Both files must be in the same import: threads written from posts
 * alone would erase the answers a previous import found. Deleted rows (IsDeleted) are skipped.
 */
export const chatterFeed: Importer = {
  kind: 'chatter-feed',
  description: 'Salesforce Chatter FeedItem.csv + FeedComment.csv SOQL exports, imported together',
  detect: (header) => isItem(header) || isComment(header),
  parse(file) {
    throw new ImportError(
      file.name,
      1,
      null,
      'a Chatter feed import needs its FeedItem and FeedComment files',
    );
  },
  parseSet(files) {
    const tables = files.map(readCsv);
    const items = tables.filter((t) => isItem(t.header));
    const comments = tables.filter((t) => isComment(t.header));
    const stray = tables.find((t) => !isItem(t.header) && !isComment(t.header));
    if (stray) stray.require(ITEM);
    const [first] = tables;
    if (first && (items.length === 0 || comments.length === 0))
      throw new ImportError(
        first.file,
        1,
        null,
        `Chatter's FeedItem and FeedComment exports come as a set: import both files of the same period together (missing: ${items.length === 0 ? 'FeedItem' : 'FeedComment'})`,
      );
    const posts = new Map<string, Post>();
    for (const t of items) {
      t.require(ITEM);
      const skip = deleted(t);
      for (const r of t.records) {
        if (skip(r)) continue;
        const id = r.str('Id');
        posts.set(id, {
          line: r.line,
          id,
          group: r.optStr('ParentId'),
          author: r.str('CreatedById'),
          at: r.instant('CreatedDate') ?? r.fail('CreatedDate', 'is empty; a time is required'),
          question: r.str('Type') === 'QuestionPost',
          table: t,
        });
      }
    }
    const replies = new Map<string, { author: string; at: Date }[]>();
    const out = new Map<CsvTable, ParsedRows>();
    for (const t of comments) {
      t.require(COMMENT);
      const skip = deleted(t);
      const interactions: Lined<InteractionRow>[] = [];
      for (const r of t.records) {
        if (skip(r)) continue;
        const postId = r.str('FeedItemId');
        // Without the post there is no one the reply goes to; an all-or-nothing import says so.
        const post =
          posts.get(postId) ??
          r.fail(
            'FeedItemId',
            `post "${postId}" is not in the FeedItem export of this import; export both over the same period`,
          );
        const reply = {
          author: r.str('CreatedById'),
          at: r.instant('CreatedDate') ?? r.fail('CreatedDate', 'is empty; a time is required'),
        };
        replies.set(post.id, [...(replies.get(post.id) ?? []), reply]);
        // Commenting on one's own post is no tie between people.
        if (reply.author === post.author) continue;
        interactions.push({
          line: r.line,
          platform: 'chatter',
          event_ts: reply.at,
          from_user: reply.author,
          to_user: post.author,
          interaction_type: 'reply',
          thread_id: post.id,
        });
      }
      out.set(t, { interactions });
    }
    for (const t of items) {
      const threads: Lined<ThreadRow>[] = [];
      for (const post of posts.values()) {
        if (post.table !== t) continue;
        const others = (replies.get(post.id) ?? [])
          .filter((c) => c.author !== post.author)
          .sort((a, b) => a.at.getTime() - b.at.getTime());
        const firstReply = others[0];
        threads.push({
          line: post.line,
          platform: 'chatter',
          thread_id: post.id,
          group_name: post.group,
          author_user: post.author,
          created_ts: post.at,
          is_question: post.question,
          first_reply_ts: firstReply?.at ?? null,
          first_reply_user: firstReply?.author ?? null,
        });
      }
      out.set(t, { threads });
    }
    return tables.map((t) => out.get(t) ?? {});
  },
};
