import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scoreNew } from '../../pipeline/scoring/score.js';
import type { Store } from '../../pipeline/store.js';
import { mentionRecord } from '../helpers/mention.js';
import { openTestStore } from '../helpers/store.js';
import { addTopic, collect, scoringDeps } from './helpers.js';

let store: Store;
let cleanup: () => void;
beforeEach(async () => {
  ({ store, cleanup } = await openTestStore());
});
afterEach(() => cleanup());

// 15:30 UTC on the 20th is 00:30 on the 21st in Seoul (+09:00) and 21:00 on the 20th in Kolkata (+05:30).
const AT = new Date('2026-11-20T15:30:00Z');

async function buckets() {
  const hours = await store.query("SELECT hour_start FROM rollup_hourly WHERE topic_id = 'acme'");
  const days = await store.query(
    "SELECT strftime(day, '%Y-%m-%d') AS day FROM rollup_authors_daily WHERE topic_id = 'acme'",
  );
  return { hours: hours.map((r) => (r.hour_start as Date).toISOString()), days: days.map((r) => r.day) };
}

describe('reporting time zone', () => {
  it('puts hours and days in the configured zone, and rebuilds when the zone changes', async () => {
    await addTopic(store, 'acme', 'acme');
    await collect(
      store,
      'x',
      [mentionRecord({ nativeId: '1', text: 'acme news', authorId: 'a1', createdAt: AT })],
      new Date('2026-11-21T00:00:00Z'),
    );
    const seoul = await scoreNew(scoringDeps(store, 'Asia/Seoul'));
    expect(seoul.rollups.rebuilt).toBe(true);
    expect(await buckets()).toEqual({ hours: ['2026-11-20T15:00:00.000Z'], days: ['2026-11-21'] });

    const utc = await scoreNew(scoringDeps(store, 'UTC'));
    expect(utc.rollups.rebuilt).toBe(true);
    expect(await buckets()).toEqual({ hours: ['2026-11-20T15:00:00.000Z'], days: ['2026-11-20'] });

    // A half-hour zone: the local hour starts at :30 UTC.
    await scoreNew(scoringDeps(store, 'Asia/Kolkata'));
    expect(await buckets()).toEqual({ hours: ['2026-11-20T15:30:00.000Z'], days: ['2026-11-20'] });

    expect((await scoreNew(scoringDeps(store, 'Asia/Kolkata'))).rollups.rebuilt).toBe(false);
  });
});
