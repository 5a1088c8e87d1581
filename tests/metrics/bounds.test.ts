/**
 * The local-day bounds of a chart window (rollupParams), worked out in JS from a table of local
 * midnights, against DuckDB converting the window's own instants, as the rollups' days are made.
 * Zones with a skipped midnight (Santiago), a repeated hour (New York), a half-hour offset
 * (Kolkata), a half-hour daylight shift (Lord Howe), a whole skipped day (Apia, 30 December 2011)
 * and +14 hours (Kiritimati); windows drawn from a seeded generator, many starting or ending on a
 * local midnight or beside a transition.
 */
import { DuckDBDateValue, DuckDBTimestampTZValue } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollupParams } from '../../pipeline/metrics/query.js';
import { seededRandom } from '../../pipeline/random.js';
import type { Store } from '../../pipeline/store.js';
import { timestamptz } from '../../pipeline/store.js';
import { openTestStore } from '../helpers/store.js';

let store: Store;
let cleanup: () => void;

beforeAll(async () => {
  ({ store, cleanup } = await openTestStore());
});
afterAll(() => cleanup());

// The bounds as DuckDB states them, from the window's instants alone: the local day of `from`
// (first), the day after it unless `from` is that day's start (d0), the local day of `to` (d1),
// and the instants days d0 and d1 start.
const ORACLE = `SELECT first, d0, d1, least(lo, $to) AS ahi, greatest(timezone($tz, d1::TIMESTAMP), lo) AS blo
  FROM (SELECT first, d0, d1, timezone($tz, d0::TIMESTAMP) AS lo
    FROM (SELECT timezone($tz, $from)::DATE AS first,
      first + CASE WHEN timezone($tz, date_trunc('day', timezone($tz, $from))) = $from THEN 0 ELSE 1 END AS d0,
      timezone($tz, $to)::DATE AS d1))`;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Instants near which days are not 24 hours long, per zone.
const TRANSITIONS: Record<string, string[]> = {
  'America/Santiago': ['2026-04-05T03:00:00Z', '2026-09-06T04:00:00Z'],
  'America/New_York': ['2026-03-08T07:00:00Z', '2026-11-01T06:00:00Z'],
  'Asia/Kolkata': ['2026-06-01T18:30:00Z'],
  'Australia/Lord_Howe': ['2026-04-04T15:00:00Z', '2026-10-03T15:30:00Z'],
  'Pacific/Apia': ['2011-12-30T10:00:00Z'],
  'Pacific/Kiritimati': ['2026-01-01T10:00:00Z'],
  'Asia/Seoul': ['2026-11-20T15:00:00Z'],
};

const ms = (v: unknown) => (v as Date).getTime();
const value = (v: unknown) =>
  v instanceof DuckDBTimestampTZValue || v instanceof DuckDBDateValue ? String(v.toString()) : v;

describe('rollupParams', () => {
  for (const [tz, near] of Object.entries(TRANSITIONS)) {
    it(`gives the bounds DuckDB gives for the window's instants in ${tz}`, async () => {
      const random = seededRandom(tz.length * 7919);
      let checked = 0;
      let wholeDays = 0;
      let fromMidnight = 0;
      for (let k = 0; k < 120; k++) {
        const at = Date.parse(near[k % near.length] as string);
        // An instant within three days of the transition: the start of its local day a third of
        // the time (as DuckDB puts it), on a quarter hour a third, else at any minute.
        const pick = async () => {
          const t = at + Math.floor((random() - 0.5) * 6 * DAY);
          const r = random();
          if (r < 1 / 3) {
            const [m] = await store.query("SELECT timezone($tz, date_trunc('day', timezone($tz, $t))) AS m", {
              tz,
              t: timestamptz(new Date(t)),
            });
            return ms(m?.m);
          }
          return r < 2 / 3 ? Math.floor(t / (15 * 60_000)) * 15 * 60_000 : Math.floor(t / 60_000) * 60_000;
        };
        let from = await pick();
        let to = k % 3 === 0 ? from + Math.ceil(random() * 40) * DAY : await pick();
        if (to === from) continue;
        if (to < from) [from, to] = [to, from];
        const window = { tz, from: timestamptz(new Date(from)), to: timestamptz(new Date(to)) };
        const [expected] = await store.query(ORACLE, window);
        const got = await rollupParams(store, tz, new Date(from), new Date(to));
        const want = await store.query(
          'SELECT $first::DATE AS first, $d0::DATE AS d0, $d1::DATE AS d1, $ahi::TIMESTAMPTZ AS ahi, $blo::TIMESTAMPTZ AS blo',
          {
            first: got.first ?? null,
            d0: got.d0 ?? null,
            d1: got.d1 ?? null,
            ahi: got.ahi ?? null,
            blo: got.blo ?? null,
          },
        );
        expect(want[0], `${tz} [${new Date(from).toISOString()}, ${new Date(to).toISOString()})`).toEqual(
          expected,
        );
        expect(value(got.from)).toBe(value(window.from));
        expect(value(got.to)).toBe(value(window.to));
        checked++;
        if (ms(expected?.d1) > ms(expected?.d0)) wholeDays++;
        if (ms(expected?.d0) === ms(expected?.first)) fromMidnight++;
      }
      expect(checked).toBeGreaterThan(100);
      // Both kinds of window were drawn: with whole days between the edges and without.
      expect(wholeDays).toBeGreaterThan(10);
      expect(checked - wholeDays).toBeGreaterThan(10);
      // Some windows start exactly where a local day does (that day is whole, not an edge).
      expect(fromMidnight).toBeGreaterThan(3);
    });
  }
});
