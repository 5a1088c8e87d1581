import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collect, type Services } from '../../pipeline/verbs.js';
import { hnFixture, hnSearch } from '../helpers/fake-hn.js';
import { harnessServices, type SourceHarness, sourceHarness } from '../helpers/runner.js';

let h: SourceHarness;
let svc: Services;
/** The fake Hacker News answers 500 while this is set. */
let down = false;
beforeEach(async () => {
  down = false;
  h = await sourceHarness({
    id: 'hackernews',
    start: new Date('2016-12-09T00:00:00Z'),
    handler: () => (req) => (down ? { status: 500 } : hnSearch(hnFixture.hits)(req)),
    settings: () => ({ hitsPerPage: 1 }),
    keywords: ['acme'],
  });
  svc = harnessServices(h, 'Asia/Seoul');
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

describe('collect and alerts', () => {
  it('raises one collection-failure alert after three failed runs in a row, not a second on the fourth', async () => {
    down = true;
    for (let run = 1; run <= 4; run++) {
      const [result] = await collect(svc, { source: 'hackernews' });
      expect(result?.status).toBe('error');
      const alerts = await h.store.query("SELECT source FROM alerts WHERE kind = 'collection_failure'");
      expect(alerts.length).toBe(run < 3 ? 0 : 1);
    }
  });
});
