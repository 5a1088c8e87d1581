import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MentionRecord } from '../../collectors/contract.js';
import { scoreNew } from '../../pipeline/scoring/score.js';
import type { Store } from '../../pipeline/store.js';
import { mentionRecord } from '../helpers/mention.js';
import { openTestStore } from '../helpers/store.js';
import { addTopic, collect, rollupSnapshot, scoringDeps } from './helpers.js';

let store: Store;
let cleanup: () => void;
beforeEach(async () => {
  ({ store, cleanup } = await openTestStore());
});
afterEach(() => cleanup());

const T0 = Date.parse('2026-11-20T00:00:00Z');
const EN = [
  'Acme phone battery is great',
  'Acme support was awful today',
  'new Acme update ships',
  'Globex launch event',
];
const KO = [
  '한빛전자가 새 노트북을 출시했다',
  '한빛전자의 서비스센터 너무 느려요',
  '글로벡스 가격 대비 만족',
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
      text: `${texts[i % texts.length]} #${i}`,
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
});
