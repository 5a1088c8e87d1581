/**
 * A refresh cut into many transactions (RefreshLimits) writes exactly what one transaction writes:
 * every rollup, the authors' first days, bounds and keys, and the refresh's bookkeeping; and a
 * process killed between two of those transactions leaves the rest to the next refresh.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { projectRoot } from '../../pipeline/paths.js';
import { refreshRollups } from '../../pipeline/scoring/rollups.js';
import { Store } from '../../pipeline/store.js';
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

  it('finishes after kills between slices what one transaction writes', async () => {
    const opened = await openTestStore();
    cleanup = opened.cleanup;
    let store = opened.store;
    await loadFixture(store);
    await refreshRollups(store, 'America/Los_Angeles');
    const la = await snapshot(store);
    await refreshRollups(store, 'Asia/Seoul');
    const seoul = await snapshot(store);
    store.close();

    const child = join(projectRoot, 'dist', 'tests', 'metrics', 'refresh-child.js');
    const killed = (tz: string, after: number) => {
      const run = spawnSync(process.execPath, [child, opened.path, tz, String(after)], { encoding: 'utf8' });
      expect(run.signal, `${tz} killed after ${after} commits: ${run.stderr}`).toBe('SIGKILL');
    };
    // A new zone: killed right after the transaction that emptied the rollups, then after the
    // listing and one day, then a few days further on.
    for (const after of [1, 2, 4]) killed('America/Los_Angeles', after);
    store = await Store.open(opened.path);
    expect((await refreshRollups(store, 'America/Los_Angeles', SMALL)).rebuilt).toBe(false);
    expect(await snapshot(store)).toEqual(la);

    // A backfill (no watermark): every day listed again, killed part way, twice.
    await store.write((conn) => conn.run("DELETE FROM pipeline_state WHERE stage = 'rollups'"));
    await store.write((conn) => conn.run('DELETE FROM rollup_hourly'));
    store.close();
    for (const after of [2, 3]) killed('America/Los_Angeles', after);
    store = await Store.open(opened.path);
    await refreshRollups(store, 'America/Los_Angeles');
    expect(await snapshot(store)).toEqual(la);

    await refreshRollups(store, 'Asia/Seoul');
    expect(await snapshot(store)).toEqual(seoul);
    store.close();
  }, 60_000);
});
