import type { MentionRecord } from '../../collectors/contract.js';

/** A mention as a collector yields it: every field present, the given ones set, the rest empty. */
export function mentionRecord(
  fields: Partial<MentionRecord> & Pick<MentionRecord, 'nativeId'>,
): MentionRecord {
  return {
    url: null,
    title: null,
    text: '',
    lang: null,
    channel: null,
    authorId: null,
    authorHandle: null,
    authorName: null,
    authorFollowers: null,
    createdAt: new Date('2026-11-20T01:02:03Z'),
    createdAtEstimated: false,
    likes: null,
    reposts: null,
    replies: null,
    views: null,
    parentId: null,
    conversationId: null,
    repostOf: null,
    raw: null,
    ...fields,
  };
}
