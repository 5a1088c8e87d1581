import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { json } from '../helpers/loopback.js';
import { describeSource } from './suite.js';

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/listening/hn_algolia_search_by_date.json', import.meta.url), 'utf8'),
);
const hits: Array<{ created_at_i: number }> = fixture.hits;

describeSource({
  source: 'hackernews',
  settings: { hitsPerPage: 1 },
  keywords: ['acme'],
  start: new Date('2016-12-09T00:00:00Z'),
  api: () => ({
    isData: (req) => req.url.pathname === '/api/v1/search_by_date',
    handler: (req) => {
      if (req.url.pathname !== '/api/v1/search_by_date') return { status: 404 };
      const filter = /created_at_i>=(\d+)/.exec(req.url.searchParams.get('numericFilters') ?? '');
      const min = filter ? Number(filter[1]) : 0;
      const per = Number(req.url.searchParams.get('hitsPerPage') ?? 20);
      const page = Number(req.url.searchParams.get('page') ?? 0);
      const matching = hits
        .filter((h) => h.created_at_i >= min)
        .sort((a, b) => b.created_at_i - a.created_at_i);
      return json({
        ...fixture,
        hits: matching.slice(page * per, page * per + per),
        nbHits: matching.length,
        nbPages: Math.ceil(matching.length / per),
        page,
        hitsPerPage: per,
      });
    },
  }),
  expectedIds: ['13133437', '13133593'],
  checkRows(rows) {
    const [story, comment] = rows;
    expect(story).toMatchObject({
      native_id: '13133437',
      channel: 'story',
      author_handle: 'anigbrowl',
      url: 'https://news.ycombinator.com/item?id=13133437',
      title: 'Ask HN: How would I visualize URL propagation in the blogosphere?',
      likes: 1,
      replies: 0,
      is_repost: false,
    });
    expect(story?.text).toContain('I want to map the dynamics');
    expect((story?.created_at as Date | undefined)?.toISOString()).toBe('2016-12-08T19:39:07.000Z');
    expect(comment).toMatchObject({
      native_id: '13133593',
      channel: 'comment',
      text: "Have you looked at Gephi plus a crawler? Acme's API exports this.",
      parent_id: '13133437',
      conversation_id: '13133437',
      author_id: 'someuser',
    });
    expect(JSON.parse(String(comment?.raw)).objectID).toBe('13133593');
  },
  farFutureBookmark: () => ({ since: 4_000_000_000 }),
  rateLimited: (now) => ({
    status: 429,
    headers: { 'retry-after': '30', 'content-type': 'text/plain' },
    body: `Too many requests (at ${now.toISOString()})`,
  }),
});
