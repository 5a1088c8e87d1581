import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tagMentions } from '../../pipeline/topics/tag.js';
import { collect, type Services } from '../../pipeline/verbs.js';
import { hnFixture, hnSearch } from '../helpers/fake-hn.js';
import { harnessServices, type SourceHarness, sourceHarness } from '../helpers/runner.js';

let h: SourceHarness;
let svc: Services;
beforeEach(async () => {
  h = await sourceHarness({
    id: 'hackernews',
    start: new Date('2016-12-09T00:00:00Z'),
    handler: () => hnSearch(hnFixture.hits),
    settings: () => ({ hitsPerPage: 1 }),
    keywords: ['acme'],
  });
  svc = harnessServices(h, 'UTC');
});
afterEach(() => h.close());

const tagRows = async () =>
  (await h.store.query('SELECT topic_id, source, native_id FROM mention_topics ORDER BY ALL')).map((r) =>
    Object.values(r).join('/'),
  );

describe('collect', () => {
  it('tags the mentions it collected, once, after all sources', async () => {
    const results = await collect(svc, { source: 'hackernews' });
    expect(results.every((r) => r.status === 'ok')).toBe(true);
    const tagged = await tagRows();
    expect(tagged.length).toBeGreaterThan(0);
    // The incremental round agrees with a full re-tag over everything stored.
    await tagMentions(h.store, ['t']);
    expect(await tagRows()).toEqual(tagged);
    const logged = h.mem.lines.filter((l) => l.includes('tagged new mentions'));
    expect(logged).toHaveLength(1);
  });

  it('still reports a successful collection when tagging fails, and logs why', async () => {
    // Without its table the tagging round cannot store its hits; the mentions are stored anyway.
    await h.store.write((c) => c.run('DROP TABLE mention_topics'));
    const results = await collect(svc, { source: 'hackernews' });
    expect(results.every((r) => r.status === 'ok')).toBe(true);
    expect(h.mem.lines.some((l) => l.includes('tagging new mentions failed'))).toBe(true);
  });
});
