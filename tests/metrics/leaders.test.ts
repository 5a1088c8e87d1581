/**
 * Opinion leaders and new voices (read from rollup_author_days, migration 015) against the same
 * figures computed straight from the mentions, through everything that changes those rows: a topic
 * edit, a topic deleted and added back, new engagement counts, an earlier mention collected late,
 * a correction, an erasure, and a 64-bit key already taken by another author.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MentionRecord } from '../../collectors/contract.js';
import { eraseAuthor } from '../../pipeline/compliance/erase.js';
import { opinionLeaders, parseMetricQuery } from '../../pipeline/metrics/mentions.js';
import { refreshRollups } from '../../pipeline/scoring/rollups.js';
import { syncAuthorDays } from '../../pipeline/scoring/rollups-authors.js';
import { scoreNew } from '../../pipeline/scoring/score.js';
import { correctSentiment } from '../../pipeline/sentiment/corrections.js';
import { type Store, timestamptz } from '../../pipeline/store.js';
import { deleteTopic, saveTopic } from '../../pipeline/topics/edit.js';
import { mentionRecord } from '../helpers/mention.js';
import { openTestStore } from '../helpers/store.js';
import { addTopic, collect, scoringDeps } from '../scoring/helpers.js';

const TZ = 'Asia/Seoul';
const NOW = new Date('2026-11-21T15:00:00Z');
const DAY = 86_400_000;
const START = Date.parse('2026-11-10T00:00:00Z');

// Few distinct follower and like counts, so authors tie on impact and the tie-break decides.
const FOLLOWERS = [100, 2500, 100, 40_000, null, 2500];
const handle = (source: string, a: number) => `${source}_user${a}`;

/** Mention k of `source`: its author, day and topic words follow from k, so every run is the same. */
function mention(source: string, k: number, dayOffset = 0): MentionRecord {
  const author = (k * 7) % (source === 'x' ? 13 : 5);
  const day = (k * 5 + author) % 11;
  const brands = ['acme', 'globex', 'acme and globex'][k % 3];
  return mentionRecord({
    nativeId: `${source}-${k}`,
    text: `${brands} post number ${k} about the battery`,
    lang: 'en',
    authorId: `${source}-a${author}`,
    authorHandle: handle(source, author),
    authorName: `User ${author}`,
    authorFollowers: FOLLOWERS[author % FOLLOWERS.length] ?? null,
    likes: k % 4,
    replies: k % 2,
    createdAt: new Date(START + (day - dayOffset) * DAY + ((k * 37) % 24) * 3_600_000),
    ...(k % 17 === 5 ? { repostOf: `${source}-${k - 1}` } : {}),
  });
}

let store: Store;
let cleanup: () => void;
beforeEach(async () => {
  ({ store, cleanup } = await openTestStore());
  await addTopic(store, 'acme', 'acme', null, new Date('2026-11-01T00:00:00Z'));
  await addTopic(store, 'globex', 'globex', null, new Date('2026-11-01T00:00:00Z'));
  // Collected two hours before a last small batch: a refresh re-reads mentions seen since a little
  // before its watermark, so the later steps recompute only their own days, not everything.
  const earlier = new Date(NOW.getTime() - 2 * 3_600_000);
  await collect(
    store,
    'x',
    Array.from({ length: 60 }, (_, k) => mention('x', k)),
    earlier,
  );
  await collect(
    store,
    'mastodon',
    Array.from({ length: 20 }, (_, k) => mention('mastodon', k)),
    earlier,
  );
  await scoreNew(scoringDeps(store, TZ, { now: () => earlier }));
  await collect(store, 'x', [mention('x', 60)], NOW);
  await scoreNew(scoringDeps(store, TZ, { now: () => NOW }));
});
afterEach(() => cleanup());

interface Leader {
  source: string;
  authorId: string;
  handle: string | null;
  name: string | null;
  mentions: number;
  engagement: number;
  reach: number;
  firstDay: string;
}

/**
 * The chart computed from the mentions themselves: originals (no repost, no syndicated copy) of the
 * topic with an author, summed over the local days the window touches; first day over all time.
 */
async function direct(topic: string, from: Date, to: Date, limit: number) {
  const rows = await store.query(
    `WITH o AS (
       SELECT m.source, m.author_id, timezone($tz, m.created_at)::DATE AS day, m.author_followers,
         coalesce(m.likes, 0) + coalesce(m.reposts, 0) + coalesce(m.replies, 0) AS engagement
       FROM mentions m JOIN mention_scores s USING (source, native_id)
       WHERE NOT m.is_repost AND s.copy_of_id IS NULL AND m.author_id IS NOT NULL
         AND ($topic = '*' OR EXISTS (SELECT 1 FROM mention_topics t
               WHERE t.source = m.source AND t.native_id = m.native_id AND t.topic_id = $topic))),
     w AS (SELECT *, day BETWEEN timezone($tz, $from)::DATE AND timezone($tz, $to - INTERVAL 1 MICROSECOND)::DATE AS inside FROM o)
     SELECT w.source, w.author_id, a.handle, a.name, count(*) FILTER (WHERE inside) AS mentions,
       sum(engagement) FILTER (WHERE inside) AS engagement,
       coalesce(max(author_followers) FILTER (WHERE inside), 0) AS reach,
       strftime(min(day), '%Y-%m-%d') AS first_day,
       ln(1 + coalesce(max(author_followers) FILTER (WHERE inside), 0)) + ln(1 + sum(engagement) FILTER (WHERE inside)) AS impact
     FROM w LEFT JOIN authors a USING (source, author_id)
     GROUP BY ALL HAVING count(*) FILTER (WHERE inside) > 0`,
    { tz: TZ, topic, from: timestamptz(from), to: timestamptz(to) },
  );
  const ranked = rows
    .map((r) => ({
      impact: Number(r.impact),
      isNew: String(r.first_day) >= from.toLocaleDateString('sv', { timeZone: TZ }),
      leader: {
        source: String(r.source),
        authorId: String(r.author_id),
        handle: r.handle === null ? null : String(r.handle),
        name: r.name === null ? null : String(r.name),
        mentions: Number(r.mentions),
        engagement: Number(r.engagement),
        reach: Number(r.reach),
        firstDay: String(r.first_day),
      } satisfies Leader,
    }))
    .sort(
      (a, b) =>
        b.impact - a.impact ||
        (a.leader.source < b.leader.source ? -1 : a.leader.source > b.leader.source ? 1 : 0) ||
        (a.leader.authorId < b.leader.authorId ? -1 : a.leader.authorId > b.leader.authorId ? 1 : 0),
    );
  return {
    leaders: ranked.slice(0, limit).map((r) => r.leader),
    newVoices: ranked
      .filter((r) => r.isNew)
      .slice(0, limit)
      .map((r) => r.leader),
    authors: ranked.length,
  };
}

/** Erases the first of the leaders over every topic in `window` (as `limit` ranks them), at `now`. */
async function eraseLeader(window: [string, string] | undefined, now: Date, limit: number): Promise<Leader> {
  const top = await direct('*', new Date(window?.[0] ?? ''), new Date(window?.[1] ?? ''), limit);
  const gone = top.leaders[0] as Leader;
  await eraseAuthor(
    { store, timezone: TZ, now: () => now, actor: 'cli:tester' },
    `${gone.source}:${gone.handle}`,
  );
  return gone;
}

const WINDOWS: Array<[string, string]> = [
  ['2026-11-09T15:00:00Z', '2026-11-21T15:00:00Z'],
  ['2026-11-14T15:00:00Z', '2026-11-17T15:00:00Z'],
  // Edges inside local days: the chart counts whole days the window touches.
  ['2026-11-16T03:30:00Z', '2026-11-18T20:10:00Z'],
];

/** Every topic, window and a few limits: the chart equals the direct figures. */
async function expectDirect(windows = WINDOWS, limits = [1, 3, 20]): Promise<void> {
  let newVoices = 0;
  for (const topic of ['*', 'acme', 'globex']) {
    for (const [from, to] of windows) {
      for (const limit of limits) {
        const q = parseMetricQuery({ topic, from, to, limit: String(limit) }, NOW);
        const got = await opinionLeaders(store, TZ, q);
        const want = await direct(topic, q.from, q.to, limit);
        expect({ leaders: got.leaders, newVoices: got.newVoices }, `${topic} ${from} ${limit}`).toEqual({
          leaders: want.leaders,
          newVoices: want.newVoices,
        });
        if (limit === 20) expect(want.authors).toBeGreaterThan(0);
        newVoices += got.newVoices.length;
      }
    }
  }
  // Some windows have new voices and some authors are not new: both lists are exercised.
  expect(newVoices).toBeGreaterThan(0);
}

/** rollup_author_days and author_keys hold exactly rollup_authors_daily, first days, handles and names included. */
async function expectInSync(): Promise<void> {
  const [diff] = await store.query(
    `WITH want AS (
       SELECT r.topic_id, r.day, r.source, r.author_id, r.mentions, r.engagement, r.followers,
         min(r.day) OVER (PARTITION BY r.topic_id, r.source, r.author_id) AS first_day, a.handle, a.name
       FROM rollup_authors_daily r LEFT JOIN authors a USING (source, author_id)),
     got AS (
       SELECT topic_id, day, source, author_id, mentions, engagement, followers, first_day, handle, name
       FROM rollup_author_days JOIN author_keys USING (author_key))
     SELECT (SELECT count(*) FROM (SELECT * FROM want EXCEPT ALL SELECT * FROM got)) AS lost,
       (SELECT count(*) FROM (SELECT * FROM got EXCEPT ALL SELECT * FROM want)) AS extra,
       (SELECT count(*) FROM author_keys) AS keys,
       (SELECT count(DISTINCT (source, author_id)) FROM rollup_authors_daily) AS authors,
       (SELECT count(DISTINCT author_key) FROM author_keys) AS distinct_keys`,
  );
  expect(diff).toEqual({
    lost: 0,
    extra: 0,
    keys: diff?.authors,
    authors: diff?.authors,
    distinct_keys: diff?.authors,
  });
  // Bounds, first days and floors (migration 016) as recomputed from the rows, the floor with 800 candidates.
  const [bounds] = await store.query(
    `WITH want AS (
       SELECT topic_id, author_key, min(first_day) AS first_day,
         ln(1 + coalesce(max(followers), 0)) + ln(1 + sum(engagement)) AS ub
       FROM rollup_author_days GROUP BY topic_id, author_key),
     floors AS (SELECT topic_id, list_min(max(ub, 800)) AS floor FROM want GROUP BY ALL)
     SELECT (SELECT count(*) FROM (SELECT * FROM want EXCEPT ALL SELECT * FROM rollup_author_bounds)) AS lost,
       (SELECT count(*) FROM (SELECT * FROM rollup_author_bounds EXCEPT ALL SELECT * FROM want)) AS extra,
       (SELECT count(*) FROM (SELECT * FROM floors EXCEPT ALL SELECT * FROM rollup_author_floors)) AS floors_lost,
       (SELECT count(*) FROM (SELECT * FROM rollup_author_floors EXCEPT ALL SELECT * FROM floors)) AS floors_extra`,
  );
  expect(bounds).toEqual({ lost: 0, extra: 0, floors_lost: 0, floors_extra: 0 });
}

describe('opinion leaders from rollup_author_days', () => {
  it('equal the figures computed from the mentions, with ties broken by source and author', async () => {
    await expectInSync();
    await expectDirect();
    // The data has authors tying on impact inside a top three (same followers, same engagement).
    const q = parseMetricQuery({ topic: '*', from: WINDOWS[0]?.[0], to: WINDOWS[0]?.[1], limit: '20' }, NOW);
    const impacts = (await opinionLeaders(store, TZ, q)).leaders.map((l) => `${l.reach}/${l.engagement}`);
    expect(new Set(impacts).size).toBeLessThan(impacts.length);
  });

  it('stay equal across a topic edit, and a topic deleted and added back', async () => {
    await saveTopic(
      store,
      { id: 'acme', name: 'Acme', keywords: ['acme'], query: 'acme AND NOT globex' },
      NOW,
    );
    await expectInSync();
    await expectDirect();
    expect(await deleteTopic(store, 'globex')).toBe(true);
    await expectInSync();
    expect(
      Number(
        (await store.query("SELECT count(*) AS n FROM rollup_author_days WHERE topic_id = 'globex'"))[0]?.n,
      ),
    ).toBe(0);
    await saveTopic(store, { id: 'globex', name: 'Globex', keywords: ['globex'], query: 'globex' }, NOW);
    await expectInSync();
    await expectDirect();
  });

  it('stay equal when counts change, an earlier mention arrives late, and after a correction', async () => {
    // Re-seen with new engagement; an author's earlier mention (moving their first day back); a
    // repost under a new handle (the author's handle changes, none of their original days do).
    const later = new Date(NOW.getTime() + 3_600_000);
    await collect(
      store,
      'x',
      [
        { ...mention('x', 3), likes: 500 },
        { ...mention('x', 61, 9), nativeId: 'x-early' },
        {
          ...mention('x', 2),
          nativeId: 'x-renamed',
          repostOf: 'x-1',
          authorHandle: 'renamed',
          authorName: 'New Name',
        },
      ],
      later,
    );
    expect(await store.query("SELECT handle, name FROM author_keys WHERE author_id = 'x-a1'")).toEqual([
      { handle: 'renamed', name: 'New Name' },
    ]);
    await scoreNew(scoringDeps(store, TZ, { now: () => later }));
    await expectInSync();
    await expectDirect();
    await correctSentiment(store, TZ, { source: 'x', id: 'x-4', label: 'negative', by: 'carol' }, later);
    await refreshRollups(store, TZ);
    await expectInSync();
    await expectDirect();
  });

  it('follow a new reporting time zone (every day rebuilt)', async () => {
    await refreshRollups(store, 'America/Los_Angeles');
    await expectInSync();
    const [moved] = await store.query(
      "SELECT count(*) AS n FROM rollup_author_days WHERE first_day < DATE '2026-11-10'",
    );
    expect(Number(moved?.n)).toBeGreaterThan(0);
  });

  it('forget an erased author everywhere, leaders included', async () => {
    const gone = await eraseLeader(WINDOWS[0], NOW, 20);
    await expectInSync();
    await expectDirect();
    const left = await store.query('SELECT * FROM author_keys WHERE author_id = $1', [gone.authorId]);
    expect(left).toEqual([]);
  });

  it('give an author whose key another author holds the next key, and name them right', async () => {
    // What a 64-bit collision leaves: the key x-a1 would get is already held by someone else.
    await store.write(async (conn) => {
      await conn.run(
        "DELETE FROM rollup_author_days WHERE author_key = (SELECT author_key FROM author_keys WHERE author_id = 'x-a1')",
      );
      await conn.run("DELETE FROM author_keys WHERE author_id = 'x-a1'");
      await conn.run(
        "INSERT INTO author_keys VALUES (md5_number_lower('x:x-a1'), 'x', 'squatter', NULL, NULL)",
      );
      await syncAuthorDays(conn, null);
    });
    const keys = await store.query(
      `SELECT author_id, author_key = md5_number_lower('x:x-a1:1') AS second FROM author_keys
       WHERE author_id IN ('x-a1', 'squatter') ORDER BY author_id`,
    );
    expect(keys).toEqual([
      { author_id: 'squatter', second: false },
      { author_id: 'x-a1', second: true },
    ]);
    await expectDirect();
  });

  it('are the same whatever the floors, on random authors whose followers drop, before and after an erasure', async () => {
    // 90 authors of a third source over the 70 days before: random followers (falling for some,
    // unknown for others) and few distinct likes, so bounds exceed window impacts and impacts tie.
    // Windows beyond a month are read in passes over the bounds (shorter ones in one).
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    const records = Array.from({ length: 600 }, (_, k) => {
      const author = rand(90);
      const day = rand(70);
      const base = [0, 50, 300, 2500, 40_000][author % 5] ?? 0;
      return mentionRecord({
        nativeId: `bsky-${k}`,
        text: `${['acme', 'globex', 'acme and globex'][rand(3)]} note ${k}`,
        lang: 'en',
        authorId: `bsky-a${author}`,
        authorHandle: `bsky_user${author}`,
        authorFollowers: author % 7 === 0 ? null : author % 2 === 0 ? Math.max(0, base - day * 200) : base,
        likes: rand(3) * 5,
        replies: rand(2),
        createdAt: new Date(NOW.getTime() - (day + 1) * DAY + rand(24) * 3_600_000),
      });
    });
    const later = new Date(NOW.getTime() + 3_600_000);
    await collect(store, 'bluesky', records, later);
    await scoreNew(scoringDeps(store, TZ, { now: () => later }));
    await expectInSync();
    const windows: Array<[string, string]> = [
      ['2026-09-10T15:00:00Z', '2026-11-21T15:00:00Z'],
      ['2026-10-01T15:00:00Z', '2026-11-21T15:00:00Z'],
      // Edges inside local days, and a window ending before the data does.
      ['2026-10-05T03:30:00Z', '2026-11-18T20:10:00Z'],
      ['2026-09-20T15:00:00Z', '2026-10-31T15:00:00Z'],
      ['2026-11-14T15:00:00Z', '2026-11-21T15:00:00Z'],
    ];
    // Floors at the bound of the 1st, 3rd, 10th and 40th author of each topic, above every bound
    // (no candidate) and below every one (all candidates): each makes the first pass complete for
    // some windows and limits and not for others.
    const floorsAt = async (floor: string) =>
      store.write((conn) =>
        conn.run(
          `UPDATE rollup_author_floors f SET floor = (${floor}) FROM (
             SELECT topic_id, list_sort(list(ub), 'DESC') AS ubs, max(ub) AS top FROM rollup_author_bounds GROUP BY ALL) b
           WHERE f.topic_id = b.topic_id`,
        ),
      );
    const check = async () => {
      const cases = [];
      for (const topic of ['*', 'acme', 'globex']) {
        for (const [from, to] of windows) {
          for (const limit of [1, 3, 20]) {
            const q = parseMetricQuery({ topic, from, to, limit: String(limit) }, NOW);
            const want = await direct(topic, q.from, q.to, limit);
            cases.push({ q, want: { leaders: want.leaders, newVoices: want.newVoices } });
          }
        }
      }
      for (const floor of ['ubs[1]', 'ubs[3]', 'ubs[10]', 'ubs[40]', 'top + 1', '-1']) {
        await floorsAt(floor);
        for (const { q, want } of cases) {
          const got = await opinionLeaders(store, TZ, q);
          expect(
            { leaders: got.leaders, newVoices: got.newVoices },
            `${floor} ${q.topic} ${q.from.toISOString()} ${q.limit}`,
          ).toEqual(want);
        }
      }
    };
    await check();
    const [ties] = await store.query(
      "SELECT count(*) - count(DISTINCT ub) AS n FROM rollup_author_bounds WHERE topic_id = 'acme'",
    );
    expect(Number(ties?.n)).toBeGreaterThan(0);
    // The erased author led, so their removal lowers bounds and changes the leaders.
    await eraseLeader(windows[0], later, 1);
    await expectInSync();
    await check();
  }, 120_000);
});
