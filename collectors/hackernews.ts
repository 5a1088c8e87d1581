import { z } from 'zod';
import type { Batch, Collector, MentionRecord } from './contract.js';
import { request, withQuery } from './http.js';
import { failedBatch, mapItems, parsePage } from './payload.js';
import { htmlToText } from './text.js';

/** Hacker News through Algolia's search_by_date: newest first, page-numbered, no auth. */
const configSchema = z.strictObject({
  /** Search terms; default: every topic keyword. */
  queries: z.array(z.string().trim().min(1)).optional(),
  /** story, comment, or both. */
  tags: z
    .array(z.enum(['story', 'comment']))
    .min(1)
    .default(['story', 'comment']),
  hitsPerPage: z.number().int().min(1).max(1000).default(100),
});
type Config = z.infer<typeof configSchema>;

/**
 * `since`: created_at_i of the newest item stored by a finished run (searches use >=, so items of
 * that second are seen again and deduplicated). `run`: where an unfinished run was, to resume it.
 */
const bookmarkSchema = z.object({
  since: z.number().int().optional(),
  run: z
    .object({ page: z.number().int().min(0), newest: z.number().int(), startedAt: z.number().int() })
    .optional(),
});
type Bookmark = z.infer<typeof bookmarkSchema>;

const hitSchema = z.object({
  objectID: z.string().min(1),
  created_at_i: z.number().int(),
  author: z.string().nullish(),
  title: z.string().nullish(),
  url: z.string().nullish(),
  story_text: z.string().nullish(),
  comment_text: z.string().nullish(),
  story_title: z.string().nullish(),
  points: z.number().nullish(),
  num_comments: z.number().nullish(),
  parent_id: z.number().nullish(),
  story_id: z.number().nullish(),
  _tags: z.array(z.string()).default([]),
});

const pageSchema = z.object({
  hits: z.array(z.unknown()),
  page: z.number().int(),
  nbPages: z.number().int(),
  nbHits: z.number().int().optional(),
});

function toRecord(hit: z.infer<typeof hitSchema>, raw: unknown): MentionRecord {
  const isComment = hit._tags.includes('comment');
  const body = htmlToText(hit.comment_text ?? hit.story_text ?? '');
  const text = isComment ? body : [hit.title ?? '', body].filter(Boolean).join('\n');
  return {
    nativeId: hit.objectID,
    url: `https://news.ycombinator.com/item?id=${encodeURIComponent(hit.objectID)}`,
    title: isComment ? (hit.story_title ?? null) : (hit.title ?? null),
    text,
    lang: null,
    channel: isComment ? 'comment' : 'story',
    authorId: hit.author ?? null,
    authorHandle: hit.author ?? null,
    authorName: null,
    authorFollowers: null,
    createdAt: new Date(hit.created_at_i * 1000),
    createdAtEstimated: false,
    likes: hit.points ?? null,
    reposts: null,
    replies: hit.num_comments ?? null,
    views: null,
    parentId: hit.parent_id != null ? String(hit.parent_id) : null,
    conversationId: hit.story_id != null ? String(hit.story_id) : null,
    repostOf: null,
    raw,
  };
}

export const hackernews: Collector<Config, { key: string; query: string }, Bookmark> = {
  id: 'hackernews',
  defaultBaseUrl: 'https://hn.algolia.com',
  configSchema,
  bookmarkSchema,

  partitions(config, targets) {
    return (config.queries ?? targets.keywords).map((query) => ({ key: query, query }));
  },

  async check(config, ctx) {
    try {
      await request(
        ctx,
        withQuery(`${ctx.baseUrl}/api/v1/search_by_date`, { query: 'test', hitsPerPage: 1 }),
        {
          policy: { retries: 1, baseDelayMs: 500, maxDelayMs: 2000, rateLimitWaits: 0 },
        },
      );
      void config;
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  },

  async *read(config, partition, bookmark, ctx): AsyncGenerator<Batch<Bookmark>> {
    const since = bookmark?.since;
    const run = bookmark?.run ?? {
      page: 0,
      newest: since ?? 0,
      startedAt: Math.floor(ctx.now().getTime() / 1000),
    };
    let { page, newest } = run;
    for (;;) {
      const url = withQuery(`${ctx.baseUrl}/api/v1/search_by_date`, {
        query: partition.query,
        tags: `(${config.tags.join(',')})`,
        numericFilters: since !== undefined ? `created_at_i>=${since}` : undefined,
        hitsPerPage: config.hitsPerPage,
        page,
      });
      const res = await request(ctx, url);
      const parsed = parsePage(res, pageSchema, url);
      if (!parsed.ok) {
        yield failedBatch(parsed.quarantine, {
          ...(since !== undefined ? { since } : {}),
          run: { page, newest, startedAt: run.startedAt },
        });
        return;
      }
      const { hits, nbPages, nbHits } = parsed.value;
      const { records, quarantine } = mapItems(
        hits,
        hitSchema,
        (hit, raw) => {
          // The filter is inclusive and pages shift as new items arrive: older items end the run.
          if (since !== undefined && hit.created_at_i < since) return null;
          newest = Math.max(newest, hit.created_at_i);
          return toRecord(hit, raw);
        },
        url,
        'hit',
      );
      const last = hits.length === 0 || page + 1 >= nbPages;
      yield {
        records,
        quarantine,
        bookmark: last
          ? { since: Math.min(newest, run.startedAt) }
          : {
              ...(since !== undefined ? { since } : {}),
              run: { page: page + 1, newest, startedAt: run.startedAt },
            },
        ...(nbHits !== undefined ? { total: nbHits } : {}),
      };
      if (last) return;
      page++;
    }
  },
};
