/**
 * A refresh cut into many transactions (RefreshLimits) writes exactly what one transaction writes:
 * every rollup, the authors' first days, bounds and keys, and the refresh's bookkeeping.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { refreshRollups } from '../../pipeline/scoring/rollups.js';
import type { Store } from '../../pipeline/store.js';
import { openTestStore } from '../helpers/store.js';
import { loadFixture } from './fixture.js';

let cleanup: (() => void) | null = null;
afterEach(() => {
  cleanup?.();
  cleanup = null;
});

const TABLES = [
  'rollup_hourly',
  'rollup_daily',
  'rollup_mentions',
  'rollup_terms_hourly',
  'rollup_terms_daily',
  'rollup_authors_daily',
  'rollup_author_days',
  'rollup_author_bounds',
  'rollup_author_floors',
  'author_keys',
  'rollup_dirty',
  'pipeline_state',
  'meta',
];

async function snapshot(store: Store): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of TABLES) out[t] = await store.query(`SELECT * FROM ${t} ORDER BY ALL`);
  return out;
}

// One day a transaction, and one key a compaction transaction.
const SMALL = { sliceMentions: 1, compactRows: 1 };

describe('a refresh in slices', () => {
  it('writes what one transaction writes, for dirty days and for a new time zone', async () => {
    const opened = await openTestStore();
    cleanup = opened.cleanup;
    const store = opened.store;
    await loadFixture(store);
    const seoul = await snapshot(store);
    expect(seoul.rollup_hourly?.length).toBeGreaterThan(0);
    expect(seoul.rollup_author_days?.length).toBeGreaterThan(0);

    // Without its watermark the refresh recomputes every day that has mentions, as after a backfill.
    await store.write((conn) => conn.run("DELETE FROM pipeline_state WHERE stage = 'rollups'"));
    const again = await refreshRollups(store, 'Asia/Seoul', SMALL);
    expect(again.days).toBeGreaterThanOrEqual(9);
    expect(await snapshot(store)).toEqual(seoul);

    // A new zone in slices, then back in slices, then the new zone in one transaction.
    const sliced = await refreshRollups(store, 'America/Los_Angeles', SMALL);
    expect(sliced.rebuilt).toBe(true);
    const la = await snapshot(store);
    expect(la.rollup_daily).not.toEqual(seoul.rollup_daily);
    await refreshRollups(store, 'Asia/Seoul', SMALL);
    expect(await snapshot(store)).toEqual(seoul);
    await refreshRollups(store, 'America/Los_Angeles');
    expect(await snapshot(store)).toEqual(la);
  });
});
