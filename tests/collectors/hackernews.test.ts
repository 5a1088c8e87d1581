import { expect } from 'vitest';
import { hnFixture, hnSearch } from '../helpers/fake-hn.js';
import { describeSource } from './suite.js';

describeSource({
  source: 'hackernews',
  settings: { hitsPerPage: 1 },
  keywords: ['acme'],
  start: new Date('2016-12-09T00:00:00Z'),
  api: () => ({
    isData: (req) => req.url.pathname === '/api/v1/search_by_date',
    handler: hnSearch(hnFixture.hits),
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
