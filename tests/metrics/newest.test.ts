/**
 * The stream and text search read a window newest first in disjoint slices (the last hour, the
 * day, the week, 60 days, the rest) until a page is full. Whatever the page size, window, filters
 * and search words, a page must be exactly the first rows of the whole window in the stream's
 * order, as one query over the window gives them: mentions are spread over months, sparse and
 * dense, with several posted at the very instants where slices meet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchMentions } from '../../pipeline/metrics/mentions.js';
import { parseMetricQuery } from '../../pipeline/metrics/query.js';
import { stream } from '../../pipeline/metrics/stream.js';
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
const DAY = 24 * HOUR;
const END = Date.parse('2026-11-22T00:00:00Z');
const WORDS = ['battery', 'recall', 'refund', 'screen'];

beforeAll(async () => {
  ({ store, cleanup } = await openTestStore());
  await addTopic(store, 'acme', 'acme', 'phones');
  const random = seededRandom(11);
  const at: number[] = [];
  // Denser towards the end, as a live topic is: a few in the last hour, more over the day, the
  // week and the months before.
  for (const [n, span] of [
    [4, HOUR],
    [9, DAY],
    [15, 7 * DAY],
    [25, 60 * DAY],
    [20, 120 * DAY],
  ] as const) {
    for (let i = 0; i < n; i++) at.push(END - Math.floor(random() * span) - 1);
  }
  // Several at the instants where slices meet (for windows ending at END), on two sources.
  for (const edge of [HOUR, DAY, 7 * DAY, 60 * DAY]) at.push(END - edge, END - edge, END - edge + 1);
  const bySource = new Map<string, ReturnType<typeof mentionRecord>[]>();
  at.forEach((t, i) => {
    const source = i % 3 === 0 ? 'reddit' : 'x';
    const words = WORDS.filter((_, w) => (i >> w) % 2 === 1).join(' ');
    const list = bySource.get(source) ?? [];
    list.push(
      mentionRecord({
        nativeId: `m${String(i).padStart(3, '0')}`,
        // Every sixth names no brand: in topic '*' but not in acme.
        text: `${i % 6 === 5 ? 'someone' : 'acme'} ${words} ${i % 5 === 0 ? 'awful' : 'great'}`,
        lang: i % 4 === 0 ? 'ko' : 'en',
        authorId: `a${i % 7}`,
        createdAt: new Date(t),
      }),
    );
    bySource.set(source, list);
  });
  for (const [source, records] of bySource) await collect(store, source, records, new Date(END));
  await scoreNew(scoringDeps(store, 'UTC'));
}, 60_000);
afterAll(() => cleanup());

/** The stream's originals over the whole window in its order, with one query. */
async function oracle(from: number, to: number, lang: string | null, limit: number) {
  const rows = await store.query(
    `SELECT source || '/' || native_id AS k FROM rollup_mentions
     WHERE topic_id = 'acme' AND original AND created_at >= $from AND created_at < $to
       AND ($lang IS NULL OR lang = $lang)
     ORDER BY created_at DESC, source DESC, native_id DESC LIMIT ${limit}`,
    { from: timestamptz(new Date(from)), to: timestamptz(new Date(to)), lang },
  );
  return rows.map((r) => String(r.k));
}

/** Search's mentions holding every word, over the whole window in its order, with one query. */
async function searchOracle(topic: string, from: number, to: number, words: string[], limit: number) {
  const rows = await store.query(
    `SELECT source || '/' || native_id AS k FROM rollup_mentions r
     WHERE topic_id = $topic AND created_at >= $from AND created_at < $to
       AND (SELECT count(DISTINCT term) FROM mention_terms t
            WHERE t.source = r.source AND t.native_id = r.native_id AND list_contains($words::VARCHAR[], t.term)) = $n
     ORDER BY created_at DESC, source, native_id LIMIT ${limit}`,
    {
      topic,
      from: timestamptz(new Date(from)),
      to: timestamptz(new Date(to)),
      words: JSON.stringify(words),
      n: words.length,
    },
  );
  return rows.map((r) => String(r.k));
}

/** A request of topic acme over [from, to) with page size `limit` and `extra` fields. */
const query = (from: number, to: number, limit: number, extra: Record<string, string>) =>
  parseMetricQuery(
    {
      topic: 'acme',
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      limit: String(limit),
      ...extra,
    },
    new Date(END),
  );

const keys = (results: Array<{ source: string; nativeId: string }>) =>
  results.map((r) => `${r.source}/${r.nativeId}`);

const WINDOWS = [
  [END - 200 * DAY, END],
  [END - 90 * DAY, END],
  [END - 8 * DAY, END],
  [END - 30 * DAY, END - 2 * HOUR],
];

describe('pages read slice by slice', () => {
  it('are the first rows of the whole window, for any page size and filter', async () => {
    let compared = 0;
    for (const [from, to] of WINDOWS as Array<[number, number]>) {
      for (const limit of [1, 3, 7, 20, 60, 200]) {
        for (const lang of [null, 'ko']) {
          const page = await stream(store, 'UTC', query(from, to, limit, lang ? { lang } : {}));
          const want = await oracle(from, to, lang, limit);
          expect(keys(page.results), `${limit} ${lang} ${from}`).toEqual(want);
          compared += want.length;
        }
      }
    }
    expect(compared).toBeGreaterThan(400);
  });

  it('find search words the same way, in a topic and in all of them', async () => {
    let compared = 0;
    const only: Record<string, number> = { acme: 0, '*': 0 };
    for (const topic of ['acme', '*']) {
      for (const [from, to] of WINDOWS as Array<[number, number]>) {
        for (const words of [['battery'], ['recall', 'refund'], ['battery', 'screen', 'recall']]) {
          for (const limit of [2, 20, 200]) {
            const page = await searchMentions(store, query(from, to, limit, { q: words.join(' '), topic }));
            const want = await searchOracle(topic, from, to, words, limit);
            expect(keys(page.results), `${topic} ${words} ${limit} ${from}`).toEqual(want);
            compared += want.length;
            if (limit === 200) only[topic] = (only[topic] ?? 0) + want.length;
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(200);
    // All topics hold the mentions naming no brand too.
    expect(only['*']).toBeGreaterThan(only.acme ?? 0);
  });
});
