import { seededRandom } from '../../pipeline/random.js';
import { type Hit, hnFixture, hnSearch } from '../helpers/fake-hn.js';
import type { Reply, Request } from '../helpers/loopback.js';

/** What the chaos source did, to print beside the soak's figures. */
export interface ChaosCounts {
  requests: number;
  ok: number;
  rateLimited: number;
  serverErrors: number;
  slow: number;
  truncated: number;
  duplicated: number;
  shuffled: number;
  /** Runs refused in a row (403) on purpose: the failure streak the alerts must report. */
  refusedRuns: number;
}

export interface ChaosSource {
  handler: (req: Request) => Promise<Reply>;
  /** Adds one story, dated now (the source's clock is the real one, like the server's). */
  emit(): void;
  emitted(): string[];
  counts: ChaosCounts;
}

/**
 * Hacker News search_by_date misbehaving like real APIs do, from a seed: 429 with Retry-After,
 * 500s, slow answers, bodies cut short, a story repeated within a page and pages in no order; new
 * stories keep arriving, so pages also shift under a run (more repeats across pages). After
 * `streakAfter` runs (page-0 requests answered), the next `streak` runs are refused with 403.
 */
export function chaosSource(seed: number, streakAfter: number, streak: number): ChaosSource {
  const random = seededRandom(seed);
  const hits: Hit[] = [];
  const base = hnFixture.hits[0] as Hit;
  const counts: ChaosCounts = {
    requests: 0,
    ok: 0,
    rateLimited: 0,
    serverErrors: 0,
    slow: 0,
    truncated: 0,
    duplicated: 0,
    shuffled: 0,
    refusedRuns: 0,
  };
  let runsServed = 0;
  const handler = async (req: Request): Promise<Reply> => {
    counts.requests++;
    const firstPage = (req.url.searchParams.get('page') ?? '0') === '0';
    if (firstPage && runsServed >= streakAfter && counts.refusedRuns < streak) {
      counts.refusedRuns++;
      return { status: 403, body: '{"message":"chaos: access suspended"}' };
    }
    const roll = random();
    if (roll < 0.05) {
      counts.rateLimited++;
      return { status: 429, headers: { 'retry-after': '1' }, body: '{"message":"slow down"}' };
    }
    if (roll < 0.12) {
      counts.serverErrors++;
      return { status: 500, body: 'chaos: internal error' };
    }
    if (roll < 0.17) {
      counts.slow++;
      await new Promise((r) => setTimeout(r, 800 + random() * 1200));
    }
    const reply = hnSearch(hits)(req);
    const page = JSON.parse(String(reply.body)) as { hits: Hit[] };
    if (random() < 0.3) {
      counts.shuffled++;
      page.hits.sort(() => random() - 0.5);
    }
    const twin = page.hits[Math.floor(random() * page.hits.length)];
    if (twin && random() < 0.2) {
      counts.duplicated++;
      page.hits.push(twin);
    }
    const body = JSON.stringify(page);
    if (roll > 0.95) {
      counts.truncated++;
      return { ...reply, body, cutAfter: Math.floor(body.length / 2) };
    }
    if (firstPage) runsServed++;
    counts.ok++;
    return { ...reply, body };
  };
  return {
    handler,
    emit() {
      const sec = Math.floor(Date.now() / 1000);
      const n = hits.length;
      hits.push({
        ...base,
        objectID: String(50_000_000 + n),
        created_at_i: sec,
        created_at: new Date(sec * 1000).toISOString(),
        title: `Acme soak story ${n}`,
        points: n % 13,
      });
    },
    emitted: () => hits.map((h) => h.objectID),
    counts,
  };
}
