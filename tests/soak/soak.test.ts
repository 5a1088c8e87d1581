import { describe, expect, it } from 'vitest';
import { formatSoak, PARTITIONS, runSoak, STREAK } from './soak.js';

// The one-minute form of `npm run soak`: timings are printed, never asserted (a shared machine).
describe('soak: one minute of a chaotic source under dashboard load', () => {
  it(
    'collects exactly what was emitted and raises an alert for the failure streak',
    async () => {
      const r = await runSoak({
        minutes: 1,
        seed: 20261123,
        clients: 20,
        rate: 5,
        drainMs: 4 * 60_000,
        history: 1000,
        historyDays: 7,
      });
      console.log(formatSoak(r, 1));
      // The history went through the same pipeline before the measured run, and is not counted in it.
      expect(r.historyCollected).toBe(1000);
      expect(r.emitted).toBeGreaterThan(100);
      expect({ missing: r.missing, unexpected: r.unexpected, collected: r.collected }).toEqual({
        missing: [],
        unexpected: [],
        collected: r.emitted,
      });
      // The chaos really happened, so the equality above proves something.
      expect(r.chaos.refusedRuns).toBe(STREAK * PARTITIONS.length);
      for (const k of ['rateLimited', 'serverErrors', 'truncated', 'duplicated', 'shuffled'] as const)
        expect(r.chaos[k], k).toBeGreaterThan(0);
      // One alert per partition's streak, not one per failed run.
      expect(r.failureAlerts.map((a) => a.partition).sort()).toEqual(PARTITIONS);
    },
    8 * 60_000,
  );
});
