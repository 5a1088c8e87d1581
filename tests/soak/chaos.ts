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
  /** Runs refused in a row (403) on purpose, all partitions: the streaks the alerts must report. */
  refusedRuns: number;
}

/** Story `n` of a run: a third mention Acme, like the soak's own stream. */
function story(idBase: number, n: number, sec: number): Hit {
  return {
    ...(hnFixture.hits[0] as Hit),
    objectID: String(idBase + n),
    created_at_i: sec,
    created_at: new Date(sec * 1000).toISOString(),
    title: `${n % 3 === 0 ? 'Acme' : 'Rival'} soak story ${n}`,
    points: n % 13,
  };
}

/**
 * The history a soak starts from: `n` stories evenly spread over the `days` before `nowSec` (ids
 * apart from the live ones), so the measured run adds a modest share instead of multiplying the data.
 */
export function historyHits(n: number, days: number, nowSec: number): Hit[] {
  const span = days * 86_400;
  return Array.from({ length: n }, (_, i) =>
    story(60_000_000, i, nowSec - 3600 - Math.floor(((n - i) * span) / n)),
  );
}

const FAULTS = ['rate-limit', 'server-error', 'truncate', 'slow'] as const;

export interface ChaosSource {
  handler: (req: Request) => Promise<Reply>;
  /** Adds one story, dated now (the source's clock is the real one, like the server's). */
  emit(): void;
  emitted(): string[];
  counts: ChaosCounts;
}

/**
 * Hacker News search_by_date misbehaving like real APIs do: 429 with Retry-After, 500s, slow
 * answers, bodies cut short, and (seeded) a story repeated within a page and pages in no order; new
 * stories keep arriving, so pages also shift under a run (more repeats across pages). After
 * `streakAfter` runs of a partition (its query's page-0 requests answered), its next `streak` runs
 * are refused with 403.
 */
export function chaosSource(seed: number, streakAfter: number, streak: number): ChaosSource {
  const random = seededRandom(seed);
  const hits: Hit[] = [];
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
  const runs = new Map<string, { served: number; refused: number }>();
  const handler = async (req: Request): Promise<Reply> => {
    counts.requests++;
    const firstPage = (req.url.searchParams.get('page') ?? '0') === '0';
    const query = req.url.searchParams.get('query') ?? '';
    const partition = runs.get(query) ?? { served: 0, refused: 0 };
    runs.set(query, partition);
    if (firstPage && partition.served >= streakAfter && partition.refused < streak) {
      partition.refused++;
      counts.refusedRuns++;
      return { status: 403, body: '{"message":"chaos: access suspended"}' };
    }
    // Every third answer is a fault, in turn, so even a one-minute soak meets each kind.
    const fault = counts.requests % 3 === 0 ? FAULTS[(counts.requests / 3) % FAULTS.length] : undefined;
    if (fault === 'rate-limit') {
      counts.rateLimited++;
      return { status: 429, headers: { 'retry-after': '1' }, body: '{"message":"slow down"}' };
    }
    if (fault === 'server-error') {
      counts.serverErrors++;
      return { status: 500, body: 'chaos: internal error' };
    }
    if (fault === 'slow') {
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
    if (fault === 'truncate') {
      counts.truncated++;
      return { ...reply, body, cutAfter: Math.floor(body.length / 2) };
    }
    if (firstPage) partition.served++;
    counts.ok++;
    return { ...reply, body };
  };
  return {
    handler,
    emit() {
      hits.push(story(50_000_000, hits.length, Math.floor(Date.now() / 1000)));
    },
    emitted: () => hits.map((h) => h.objectID),
    counts,
  };
}
