/**
 * Chart buckets over any window, in zones whose days are not 24 hours: a day-grain chart adds the
 * whole local days of the daily rollup and the ragged edges' hours, and must equal the hourly
 * rollup grouped by local day; each bucket starts at the first instant of its local day (01:00
 * where midnight does not exist). Windows are drawn from a seeded generator, not picked by hand.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sentimentTrend, shareOfVoice, trendingTerms, volume } from '../../pipeline/metrics/mentions.js';
import { type MetricQuery, parseMetricQuery } from '../../pipeline/metrics/query.js';
import { seededRandom } from '../../pipeline/random.js';
import { scoreNew } from '../../pipeline/scoring/score.js';
import type { Store } from '../../pipeline/store.js';
import { timestamptz } from '../../pipeline/store.js';
import { mentionRecord } from '../helpers/mention.js';
import { openTestStore } from '../helpers/store.js';
import { addTopic, collect, scoringDeps } from '../scoring/helpers.js';

let store: Store;
let cleanup: () => void;

const HOUR = 3_600_000;
// Spring and autumn of 2026: New York moves on 8 March and 1 November; Santiago's midnight does
// not exist on 6 September and happens twice on 4-5 April.
const SPANS = [
  [Date.parse('2026-03-01T00:00:00Z'), Date.parse('2026-04-12T00:00:00Z')],
  [Date.parse('2026-08-30T00:00:00Z'), Date.parse('2026-09-12T00:00:00Z')],
  [Date.parse('2026-10-25T00:00:00Z'), Date.parse('2026-11-06T00:00:00Z')],
] as const;
const WORDS = ['great', 'awful', 'fine', 'love it', 'broken again'];

beforeAll(async () => {
  ({ store, cleanup } = await openTestStore());
  await addTopic(store, 'acme', 'acme', 'phones');
  await addTopic(store, 'globex', 'globex', 'phones');
  const records = [];
  let n = 0;
  for (const [lo, hi] of SPANS) {
    // About one mention every five hours, at irregular minutes, alternating brands and words.
    for (let t = lo; t < hi; t += 5 * HOUR + (n % 7) * 11 * 60_000) {
      const brand = n % 3 === 0 ? 'globex' : 'acme';
      records.push(
        mentionRecord({
          nativeId: String(n),
          text: `${brand} ${WORDS[n % WORDS.length]}`,
          authorId: `a${n % 13}`,
          createdAt: new Date(t),
        }),
      );
      n++;
    }
  }
  // A word that rises at the end of each span, for trending terms to find.
  for (const [, hi] of SPANS) {
    for (let t = hi - 3 * 24 * HOUR; t < hi; t += 90 * 60_000) {
      records.push(
        mentionRecord({
          nativeId: String(n++),
          text: 'acme recall notice',
          authorId: 'r1',
          createdAt: new Date(t),
        }),
      );
    }
  }
  await collect(store, 'x', records, new Date('2026-11-22T00:00:00Z'));
}, 60_000);
afterAll(() => cleanup());

/** The local calendar date of an instant, by the platform's own time-zone data (not DuckDB's). */
function localDate(tz: string, at: number): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: tz,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date(at));
}

/** The first instant (a whole minute) of the local day holding `at`. */
function localMidnight(tz: string, at: number): number {
  const day = localDate(tz, at);
  let t = Math.floor(at / 60_000) * 60_000;
  while (localDate(tz, t - HOUR) === day) t -= HOUR;
  while (localDate(tz, t - 60_000) === day) t -= 60_000;
  return t;
}

/** Mentions per local day (or hour) and sentiment, from the hourly rollup alone. */
async function reference(tz: string, q: MetricQuery, topic: string) {
  const rows = await store.query(
    `SELECT ${q.grain === 'day' ? "strftime(timezone($tz, hour_start)::DATE, '%Y-%m-%d')" : "strftime(timezone($tz, hour_start), '%Y-%m-%d %H:00')"} AS label,
       sentiment, sum(mentions)::INTEGER AS n
     FROM rollup_hourly WHERE topic_id = $topic AND hour_start >= $from AND hour_start < $to
     GROUP BY ALL ORDER BY ALL`,
    { tz, topic, from: timestamptz(q.from), to: timestamptz(q.to) },
  );
  return rows.map((r) => ({ label: r.label, sentiment: r.sentiment, n: r.n }));
}

/** Mentions of the topic, and of each term, over [from, to) from the hourly rollups alone. */
async function hourlySums(from: Date, to: Date) {
  const window = { topic: 'acme', from: timestamptz(from), to: timestamptz(to) };
  const where = 'topic_id = $topic AND hour_start >= $from AND hour_start < $to';
  const [total] = await store.query(
    `SELECT sum(mentions)::INTEGER AS n FROM rollup_hourly WHERE ${where}`,
    window,
  );
  const terms = await store.query(
    `SELECT term, sum(mentions)::INTEGER AS n FROM rollup_terms_hourly WHERE ${where} GROUP BY term`,
    window,
  );
  return { total: Number(total?.n ?? 0), terms: new Map(terms.map((r) => [String(r.term), Number(r.n)])) };
}

describe('chart buckets', () => {
  for (const tz of ['America/Santiago', 'America/New_York', 'Asia/Kolkata']) {
    it(`equal the hourly rollup per local day and hour in ${tz}`, async () => {
      await scoreNew(scoringDeps(store, tz));
      const random = seededRandom(tz.length);
      for (let k = 0; k < 24; k++) {
        const [lo, hi] = SPANS[k % SPANS.length] as readonly [number, number];
        const a = lo + Math.floor(random() * (hi - lo));
        const b = lo + Math.floor(random() * (hi - lo));
        if (a === b) continue;
        const grain = k % 2 === 0 ? 'day' : 'hour';
        const q = parseMetricQuery(
          {
            topic: 'acme',
            set: 'phones',
            grain,
            from: new Date(Math.min(a, b)).toISOString(),
            to: new Date(Math.max(a, b)).toISOString(),
            by: 'sentiment',
          },
          new Date(hi),
        );
        const ref = await reference(tz, q, 'acme');
        const vol = await volume(store, tz, q);
        const got = vol.points
          .map((p) => ({ label: p.label, sentiment: p.key, n: p.mentions }))
          .filter((p) => p.n > 0);
        expect(got, `${grain} ${q.from.toISOString()} ${q.to.toISOString()}`).toEqual(ref);

        // Each bucket begins at the first instant of its local hour or day.
        for (const p of vol.points) {
          const start = Date.parse(p.start);
          expect(localDate(tz, start)).toBe(p.label.slice(0, 10));
          if (grain === 'day') expect(localDate(tz, start - 1)).not.toBe(p.label);
        }

        const trend = await sentimentTrend(store, tz, q);
        const perLabel = new Map<string, number>();
        for (const r of ref) if (r.sentiment === 'negative') perLabel.set(r.label as string, r.n as number);
        for (const p of trend.points) expect(p.negative).toBe(perLabel.get(p.label) ?? 0);
        expect(trend.points.reduce((s, p) => s + p.positive + p.negative + p.neutral, 0)).toBe(
          ref.reduce((s, r) => s + (r.n as number), 0),
        );

        const sov = await shareOfVoice(store, tz, q);
        const globex = await reference(tz, q, 'globex');
        expect(sov.topics.map((t) => t.mentions)).toEqual([
          ref.reduce((s, r) => s + (r.n as number), 0),
          globex.reduce((s, r) => s + (r.n as number), 0),
        ]);
      }
    }, 60_000);
  }

  it('trending terms count the window and its baseline as the hourly rollups do, in any zone', async () => {
    let checked = 0;
    for (const tz of ['America/Santiago', 'Asia/Kolkata']) {
      await scoreNew(scoringDeps(store, tz));
      const random = seededRandom(7 * tz.length);
      for (let k = 0; k < 24; k++) {
        const [lo, hi] = SPANS[k % SPANS.length] as readonly [number, number];
        // Windows ending in the span's last four days, where "recall" rises: some start at a
        // local midnight, some are a few hours long (their baseline inside a day or two).
        const to = Math.max(lo, hi - 4 * 24 * HOUR) + Math.floor(random() * 4 * 24 * HOUR);
        const span = k % 4 === 2 ? (1 + random() * 5) * HOUR : (0.2 + random() * 12) * 24 * HOUR;
        let from = to - Math.floor(span);
        if (k % 4 === 1) from = localMidnight(tz, from);
        const q = parseMetricQuery(
          { topic: 'acme', from: new Date(from).toISOString(), to: new Date(to).toISOString(), limit: '200' },
          new Date(hi),
        );
        const t = await trendingTerms(store, tz, q);
        const recent = await hourlySums(q.from, q.to);
        const baseline = await hourlySums(new Date(t.baselineFrom), q.from);
        const at = `${tz} ${q.from.toISOString()} ${q.to.toISOString()}`;
        expect(t.mentions, at).toEqual({ recent: recent.total, baseline: baseline.total });
        for (const term of t.terms) {
          expect([term.term, term.recent, term.baseline], at).toEqual([
            term.term,
            recent.terms.get(term.term) ?? 0,
            baseline.terms.get(term.term) ?? 0,
          ]);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(10);
  }, 60_000);
});
