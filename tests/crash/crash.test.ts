import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../pipeline/random.js';
import { tempDir } from '../helpers/store.js';
import { compareDatabases } from './compare.js';
import { type Durations, PHASES, runClean, runKilled, startWorkload, type Workload } from './workload.js';

// `npm test` kills 5 times; `npm run test:crash` 20. The seed replays a kill schedule.
const KILLS = Number(process.env.CRASH_KILLS ?? 5);
const SEED = Number(process.env.CRASH_SEED ?? 20261123);
// A kill per phase and round, plus two spare rounds for kills that came after their phase ended.
const ROUNDS = Math.ceil(KILLS / PHASES.length) + 2;
const MINUTES = 60_000;

describe(`SIGKILL ${KILLS} times across collection, scoring and adoption import`, () => {
  let dir: string;
  let cleanup: () => void;
  let workload: Workload;
  let durations: Durations;

  beforeAll(async () => {
    ({ dir, cleanup } = tempDir('earshot-crash-'));
    workload = await startWorkload(dir, ROUNDS);
    durations = await runClean(workload, join(dir, 'clean.duckdb'));
  }, 10 * MINUTES);
  afterAll(async () => {
    await workload?.close();
    cleanup?.();
  });

  it(
    'ends with every fact table equal to the uninterrupted run: nothing lost, duplicated or half-imported',
    async () => {
      const killed = join(dir, 'killed.duckdb');
      console.log(`crash: seed ${SEED} (replay with CRASH_SEED=${SEED} CRASH_KILLS=${KILLS})`);
      const kills = await runKilled(workload, killed, durations, KILLS, seededRandom(SEED));
      const tables = await compareDatabases(join(dir, 'clean.duckdb'), killed);

      const phaseMs = durations.map((d) => `${d.collect}/${d.score}/${d.import}`).join(' ');
      console.log(
        `crash: ${kills.length} of ${KILLS} kills landed over ${ROUNDS} rounds ` +
          `(clean run collect/score/import ms per round: ${phaseMs})\n` +
          kills
            .map(
              (k, i) =>
                `  kill ${i + 1}: round ${k.round}, aimed at ${k.aimedAt}, landed in ${k.landed} after ${k.afterMs} ms`,
            )
            .join('\n') +
          '\n' +
          tables
            .map(
              (t) =>
                `  ${t.digest === t.otherDigest ? 'equal  ' : 'DIFFERS'} ${t.table}: ${t.rows} rows, ${t.lost} lost, ${t.extra} extra`,
            )
            .join('\n'),
      );

      expect(kills.length, 'kills that landed').toBe(KILLS);
      for (const phase of PHASES.slice(0, Math.min(KILLS, PHASES.length)))
        expect(
          kills.some((k) => k.landed === phase),
          `a kill landed in ${phase}`,
        ).toBe(true);
      // The comparison covers what the brief calls facts, non-empty, so equality means something.
      const byName = new Map(tables.map((t) => [t.table, t]));
      for (const t of [
        'mentions',
        'authors',
        'mention_topics',
        'mention_scores',
        'mention_terms',
        'rollup_hourly',
        'rollup_terms_hourly',
        'rollup_authors_daily',
        'employees',
        'employee_history',
        'activity_daily',
        'interactions',
        'imports',
      ])
        expect(byName.get(t)?.rows, `${t} has rows`).toBeGreaterThan(0);
      expect(tables.filter((t) => t.lost > 0 || t.extra > 0 || t.digest !== t.otherDigest)).toEqual([]);
    },
    20 * MINUTES,
  );
});
