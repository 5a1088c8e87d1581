import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MentionRecord } from '../../collectors/contract.js';
import { createLogger } from '../../pipeline/logger.js';
import { scoreNew } from '../../pipeline/scoring/score.js';
import type { Store } from '../../pipeline/store.js';
import { deleteTopic, saveTopic } from '../../pipeline/topics/edit.js';
import { tagMentions } from '../../pipeline/topics/tag.js';
import { mentionRecord } from '../helpers/mention.js';
import { openTestStore } from '../helpers/store.js';
import { markerModels } from '../metrics/fixture.js';
import { addTopic, collect, rollupSnapshot, scoringDeps } from './helpers.js';

let store: Store;
let cleanup: () => void;
beforeEach(async () => {
  ({ store, cleanup } = await openTestStore());
});
afterEach(() => cleanup());

const T0 = Date.parse('2026-11-20T00:00:00Z');
const EN = [
  'Acme phone battery is good',
  'Acme support was bad today',
  'new Acme update ships',
  'Globex launch event',
];
const KO = [
  '한빛전자가 새 노트북을 출시했다',
  '한빛전자의 서비스센터 너무 별로',
  '글로벡스 가격 대비 좋아요',
  '한빛전자는 최고',
];

/** n mentions spread over 30 hours: English and Korean, a few reposts, five authors. */
function mentions(n: number, offset = 0): MentionRecord[] {
  return Array.from({ length: n }, (_, k) => {
    const i = k + offset;
    const ko = i % 2 === 1;
    const texts = ko ? KO : EN;
    return mentionRecord({
      nativeId: `m${i}`,
      text: `${texts[Math.floor(i / 2) % texts.length]} #${i}`,
      lang: i % 3 === 0 ? null : ko ? 'ko' : 'en',
      authorId: `a${i % 5}`,
      authorHandle: `user${i % 5}`,
      authorFollowers: 100 * (i % 5),
      likes: i % 4,
      reposts: i % 3,
      replies: 1,
      createdAt: new Date(T0 + i * 37 * 60_000),
      repostOf: i % 9 === 8 ? `m${i - 1}` : null,
    });
  });
}

/** Raw counts the rollups must equal, from mentions and their scores (what the dashboard never scans). */
async function rawCounts(): Promise<unknown[]> {
  return store.query(
    `WITH r AS (
       SELECT '*' AS topic_id, m.*, s.lang AS slang, s.sentiment, s.copy_of_id FROM mentions m JOIN mention_scores s USING (source, native_id)
       UNION ALL
       SELECT t.topic_id, m.*, s.lang, s.sentiment, s.copy_of_id FROM mentions m JOIN mention_scores s USING (source, native_id)
         JOIN mention_topics t USING (source, native_id))
     SELECT topic_id, source, slang AS lang, sentiment,
       count(*) FILTER (WHERE NOT is_repost AND copy_of_id IS NULL) AS mentions,
       count(*) FILTER (WHERE is_repost) AS reposts,
       count(*) FILTER (WHERE NOT is_repost AND copy_of_id IS NOT NULL) AS copies,
       coalesce(sum(coalesce(likes, 0) + coalesce(reposts, 0) + coalesce(replies, 0)) FILTER (WHERE NOT is_repost AND copy_of_id IS NULL), 0) AS engagement
     FROM r GROUP BY ALL ORDER BY ALL`,
  );
}

async function rolledUp(): Promise<unknown[]> {
  return store.query(
    `SELECT topic_id, source, lang, sentiment, sum(mentions) AS mentions, sum(reposts) AS reposts,
       sum(copies) AS copies, sum(engagement) AS engagement
     FROM rollup_hourly GROUP BY ALL ORDER BY ALL`,
  );
}

describe('scoreNew', () => {
  it('scores every mention once, rollups equal raw counts, and a second run changes nothing', async () => {
    await addTopic(store, 'acme', 'acme OR 한빛전자', 'phones');
    await addTopic(store, 'globex', 'globex OR 글로벡스', 'phones');
    await collect(store, 'x', mentions(60), new Date(T0 + 40 * 3_600_000));
    const first = await scoreNew(scoringDeps(store));
    expect(first.scored).toBe(60);
    const [scores] = await store.query(
      'SELECT count(*) AS n, count(DISTINCT (source, native_id)) AS d FROM mention_scores',
    );
    expect(scores).toEqual({ n: 60, d: 60 });
    const raw = await rawCounts();
    expect(raw.length).toBeGreaterThan(4);
    expect(await rolledUp()).toEqual(raw);
    const before = await rollupSnapshot(store);

    const second = await scoreNew(scoringDeps(store));
    expect(second.scored).toBe(0);
    expect(await rollupSnapshot(store)).toEqual(before);
  });

  it('scores only what is new, and refreshes the buckets of re-seen mentions with their new counts', async () => {
    await addTopic(store, 'acme', 'acme OR 한빛전자');
    await collect(store, 'x', mentions(40), new Date(T0 + 30 * 3_600_000));
    expect((await scoreNew(scoringDeps(store))).scored).toBe(40);
    // 20 new mentions, and 10 old ones seen again with more likes.
    const again = mentions(10).map((m) => ({ ...m, likes: 1000 }));
    await collect(store, 'x', [...mentions(20, 40), ...again], new Date(T0 + 60 * 3_600_000));
    const second = await scoreNew(scoringDeps(store));
    expect(second.scored).toBe(20);
    expect(await rolledUp()).toEqual(await rawCounts());
    const [likes] = await store.query("SELECT sum(engagement) AS e FROM rollup_hourly WHERE topic_id = '*'");
    expect(Number(likes?.e)).toBeGreaterThan(10 * 1000 - 1000);
    expect((await scoreNew(scoringDeps(store))).scored).toBe(0);
  });

  it('re-scores in bulk when the sentiment model version changes, and only with --rescore', async () => {
    await addTopic(store, 'acme', 'acme OR 한빛전자');
    await collect(store, 'x', mentions(36), new Date(T0 + 30 * 3_600_000));
    await scoreNew(scoringDeps(store, 'UTC', { models: markerModels(1) }));
    const labels = async () =>
      (
        await store.query('SELECT sentiment, count(*) AS n FROM mention_scores GROUP BY ALL ORDER BY ALL')
      ).map((r) => `${r.sentiment}:${r.n}`);
    const before = await labels();
    const v2 = scoringDeps(store, 'UTC', { models: markerModels(2) });
    const plain = await scoreNew(v2);
    expect(plain).toMatchObject({ scored: 0, rescored: 0, outdated: 36 });
    const rescored = await scoreNew(v2, { rescore: true });
    expect(rescored).toMatchObject({ scored: 0, rescored: 36, outdated: 0 });
    const [models] = await store.query(
      "SELECT count(*) FILTER (WHERE sentiment_model LIKE '%@2') AS v2, count(*) AS n FROM mention_scores",
    );
    expect(models).toEqual({ v2: 36, n: 36 });
    // Version 2 swaps positive and negative: the rollups follow.
    expect(await labels()).not.toEqual(before);
    expect(await rolledUp()).toEqual(await rawCounts());
    expect((await scoreNew(v2, { rescore: true })).rescored).toBe(0);
  });

  it('an edited topic re-tags and rebuilds its rollups; a deleted one leaves none', async () => {
    await addTopic(store, 'acme', 'acme OR 한빛전자');
    await addTopic(store, 'globex', 'globex');
    await collect(store, 'x', mentions(40), new Date(T0 + 30 * 3_600_000));
    await scoreNew(scoringDeps(store));
    const globexBefore = await store.query(
      "SELECT * FROM rollup_hourly WHERE topic_id = 'globex' ORDER BY ALL",
    );
    await saveTopic(
      store,
      { id: 'acme', name: 'Acme', keywords: ['x'], query: '글로벡스 OR globex' },
      new Date(),
    );
    expect(await rolledUp()).toEqual(await rawCounts());
    const [acme] = await store.query(
      "SELECT sum(mentions + reposts + copies) AS n FROM rollup_hourly WHERE topic_id = 'acme'",
    );
    const [tags] = await store.query("SELECT count(*) AS n FROM mention_topics WHERE topic_id = 'acme'");
    expect(acme?.n).toBe(tags?.n);
    // Other topics untouched.
    expect(await store.query("SELECT * FROM rollup_hourly WHERE topic_id = 'globex' ORDER BY ALL")).toEqual(
      globexBefore,
    );
    // The next scoring round finds nothing to rebuild for it.
    expect((await scoreNew(scoringDeps(store))).rollups.topics).toEqual([]);

    await deleteTopic(store, 'acme');
    for (const table of ['rollup_hourly', 'rollup_terms_hourly', 'rollup_authors_daily']) {
      const [n] = await store.query(`SELECT count(*) AS n FROM ${table} WHERE topic_id = 'acme'`);
      expect(n?.n, table).toBe(0);
    }
  });

  it('term rollups count each original mention of a term once per topic and hour', async () => {
    await addTopic(store, 'acme', 'acme OR 한빛전자');
    await collect(store, 'x', mentions(30), new Date(T0 + 30 * 3_600_000));
    await scoreNew(scoringDeps(store));
    const fromIndex = await store.query(
      `SELECT t.topic_id, mt.term, count(*) AS n FROM mention_terms mt JOIN mention_topics t USING (source, native_id)
       JOIN mentions m USING (source, native_id) JOIN mention_scores s USING (source, native_id)
       WHERE NOT m.is_repost AND s.copy_of_id IS NULL GROUP BY ALL ORDER BY ALL`,
    );
    const rolled = await store.query(
      "SELECT topic_id, term, sum(mentions) AS n FROM rollup_terms_hourly WHERE topic_id <> '*' GROUP BY ALL ORDER BY ALL",
    );
    expect(rolled).toEqual(fromIndex);
    // Particles are stripped: 한빛전자가 / 한빛전자의 / 한빛전자는 are one term.
    const terms = rolled.map((r) => r.term);
    expect(terms).toContain('한빛전자');
    expect(terms.filter((t) => String(t).startsWith('한빛전자'))).toEqual(['한빛전자']);
  });

  it('tags mentions in the scoring batches exactly as a full re-tag does: filters, titles, a broken query', async () => {
    await addTopic(store, 'acme', 'acme NOT lang:ko');
    await addTopic(store, 'hanbit', '한빛전자 AND source:x');
    await addTopic(store, 'phrase', '"acme phone" OR 서비스센터');
    await addTopic(store, 'near', 'acme NEAR/2 battery');
    await addTopic(store, 'broken', '(acme');
    await collect(store, 'x', mentions(40), new Date(T0 + 30 * 3_600_000));
    const titled = mentions(6, 100).map((m, i) => ({
      ...m,
      title: i % 2 ? 'Acme phone review' : '한빛전자 서비스센터',
    }));
    await collect(store, 'news', titled, new Date(T0 + 31 * 3_600_000));
    // Small batches: several batch transactions tag, and the tag stage finds nothing left.
    const result = await scoreNew(scoringDeps(store, 'UTC', { batchSize: 7 }));
    const tags = () => store.query('SELECT * FROM mention_topics ORDER BY ALL');
    const batched = await tags();
    expect(new Set(batched.map((t) => t.topic_id))).toEqual(new Set(['acme', 'hanbit', 'phrase', 'near']));
    expect(result.tagged).toBe(batched.length);
    await tagMentions(store);
    expect(await tags()).toEqual(batched);
  });

  it('keeps the tags stored before scoring when a later batch meets them, and adds only the missing ones', async () => {
    await addTopic(store, 'acme', 'acme OR 한빛전자');
    await addTopic(store, 'globex', 'globex');
    // Collected later but tagged first (as a collect does): scored after the untagged ones, so the
    // first batches write their tags plainly and a later one meets the stored tags.
    await collect(store, 'x', mentions(20, 100), new Date(T0 + 60 * 3_600_000));
    await tagMentions(store);
    const tags = () => store.query('SELECT * FROM mention_topics ORDER BY ALL');
    const stored = (await tags()).length;
    expect(stored).toBeGreaterThan(0);
    await collect(store, 'x', mentions(20), new Date(T0 + 30 * 3_600_000));
    const result = await scoreNew(scoringDeps(store, 'UTC', { batchSize: 7 }));
    expect(result.scored).toBe(40);
    const after = await tags();
    expect(result.tagged).toBe(after.length - stored);
    expect(result.tagged).toBeGreaterThan(0);
    await tagMentions(store);
    expect(await tags()).toEqual(after);
    expect(await rolledUp()).toEqual(await rawCounts());
  });

  it('leaves the batches scored after a topic edit to the tag stage, which tags them with the new query', async () => {
    await addTopic(store, 'acme', 'acme');
    await collect(store, 'x', mentions(40), new Date(T0 + 30 * 3_600_000));
    // The edit lands between two batch transactions (the log line follows each batch's commit).
    let edited = false;
    const logger = createLogger('debug', {
      write: (line: string) => {
        if (!edited && line.includes('scored batch')) {
          edited = true;
          void saveTopic(store, { id: 'acme', name: 'Acme', keywords: ['x'], query: '한빛전자' }, new Date());
        }
        return true;
      },
    } as unknown as NodeJS.WritableStream);
    await scoreNew(scoringDeps(store, 'UTC', { batchSize: 10, logger }));
    expect(edited).toBe(true);
    const tags = () => store.query('SELECT * FROM mention_topics ORDER BY ALL');
    const after = await tags();
    expect(after.length).toBeGreaterThan(0);
    await tagMentions(store);
    expect(await tags()).toEqual(after);
  });
});
