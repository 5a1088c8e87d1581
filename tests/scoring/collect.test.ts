import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collect, type Services, SourceLocks } from '../../pipeline/verbs.js';
import { hnFixture, hnSearch } from '../helpers/fake-hn.js';
import { type SourceHarness, sourceHarness } from '../helpers/runner.js';

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
  svc = {
    config: {
      configPath: null,
      databasePath: h.store.path,
      host: '127.0.0.1',
      port: 0,
      timezone: 'Asia/Seoul',
      logLevel: 'debug',
      topics: [],
      sources: [h.source],
      maxRateLimitWaitMs: 0,
    },
    store: h.store,
    logger: h.mem.logger,
    fetch,
    now: h.clock.now,
    sleep: h.clock.sleep,
    signal: new AbortController().signal,
    locks: new SourceLocks(),
  };
});
afterEach(() => h.close());

describe('collect', () => {
  it('scores what it collected and brings the rollups up to date', async () => {
    await collect(svc, { source: 'hackernews' });
    const [m] = await h.store.query('SELECT count(*) AS n FROM mentions');
    const [s] = await h.store.query('SELECT count(*) AS n FROM mention_scores');
    expect(Number(m?.n)).toBeGreaterThan(0);
    expect(s?.n).toBe(m?.n);
    const [r] = await h.store.query(
      "SELECT sum(mentions + reposts + copies) AS n FROM rollup_hourly WHERE topic_id = '*'",
    );
    expect(r?.n).toBe(m?.n);
    expect(h.mem.lines.some((l) => l.includes('scored mentions'))).toBe(true);
  });
});
