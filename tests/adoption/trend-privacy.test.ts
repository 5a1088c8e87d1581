/**
 * The weekly trend under privacy: each week has its own people (hires, leavers), so a plan made for
 * the window alone could publish, in an early week, a department and all but one of its levels
 * while that level had fewer than the minimum. Weekly figures also split leaders from everyone
 * else, so each week's plan covers that split too: with weeks planned over department, location and
 * level alone, department C's two January leaders would be published (checked: the first test then
 * fails). Checked with the independent verifier, week by week, over what every breakdown of the
 * report publishes together, leader splits included.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, eligibleSql, keyId, PLANNED_DIMENSIONS } from '../../pipeline/adoption/population.js';
import type { GroupKey } from '../../pipeline/privacy/suppress.js';
import type { Store } from '../../pipeline/store.js';
import { openTestStore } from '../helpers/store.js';
import { importAt, textFile } from '../imports/helpers.js';
import { findLeaks } from '../privacy/verify.js';
import { report } from './helpers.js';

const AS_OF = '2026-03-29'; // a Sunday: the window is 2026-03-02 .. 03-29, the trend's weeks 2026-01-05 .. 03-23

// Department A: six IC1 since 2020, two IC2 since 2020 and four more from 2026-02-02 (so six in the
// window, two in the weeks of January). Department B: six of each since 2020. Department C: six
// L1 and six L2 non-leaders since 2020, and in each level one manager since 2020 and two more from
// 2026-02-02: six leaders in the window, two in January.
const PEOPLE: { id: string; line: string; hired: string }[] = [];
function hire(n: number, dept: string, level: string, hired: string, manager = false): void {
  for (let i = 0; i < n; i++) {
    const id = `E${String(PEOPLE.length + 1).padStart(3, '0')}`;
    PEOPLE.push({
      id,
      hired,
      line: `${id},${id.toLowerCase()}@example.com,${dept},Seoul,${level},${manager},false,${hired}`,
    });
  }
}
hire(6, 'A', 'IC1', '2020-01-06');
hire(2, 'A', 'IC2', '2020-01-06');
hire(4, 'A', 'IC2', '2026-02-02');
hire(6, 'B', 'IC1', '2020-01-06');
hire(6, 'B', 'IC2', '2020-01-06');
for (const level of ['L1', 'L2']) {
  hire(6, 'C', level, '2020-01-06');
  hire(1, 'C', level, '2020-01-06', true);
  hire(2, 'C', level, '2026-02-02', true);
}

function directory(): string {
  return ['employee_id,email,department,location,level,is_manager,is_executive,hire_date']
    .concat(PEOPLE.map((p) => p.line))
    .join('\n');
}

// Everyone posts on one day of every week they are there, some only read, so rates are not all 1.
function activity(): string {
  const lines = ['activity_date,platform,employee_id,posts,replies,reactions,reads'];
  for (let w = 0; w < 12; w++) {
    const day = new Date(Date.parse('2026-01-06T00:00:00Z') + w * 7 * 86_400_000).toISOString().slice(0, 10);
    PEOPLE.forEach((p, e) => {
      if (day >= p.hired) lines.push(`${day},viva_engage,${p.id},${(e + 1 + w) % 3 === 0 ? 1 : 0},0,0,2`);
    });
  }
  return lines.join('\n');
}

const BREAKDOWNS = [
  [],
  ['department'],
  ['level'],
  ['location'],
  ['department', 'level'],
  ['department', 'location'],
  ['level', 'location'],
  ['department', 'level', 'location'],
];

describe('weekly trend privacy', () => {
  let store: Store;
  let cleanup: () => void;
  beforeAll(async () => {
    ({ store, cleanup } = await openTestStore());
    await importAt(store, 'auto', [
      textFile('employees.csv', directory()),
      textFile('activity.csv', activity()),
    ]);
  });
  afterAll(() => cleanup());

  it('lets no week of any breakdowns, taken together, reveal a group smaller than the minimum', async () => {
    // week -> keys published that week by some breakdown: the group's, and its leaders' or its
    // other people's when a figure about them is published.
    const published = new Map<string, Set<string>>();
    const split = {
      leader_participation_rate: 'yes',
      others_participation_rate: 'no',
      others_interacted_with_leader: 'no',
    };
    let leaderFigures = 0;
    for (const by of BREAKDOWNS) {
      const r = await report(store, { asOf: AS_OF, by });
      for (const t of r.trend)
        for (const w of t.weeks ?? []) {
          if (w.withheld) continue;
          const keys = published.get(w.week) ?? new Set<string>();
          keys.add(keyId(t.key));
          for (const [name, leader] of Object.entries(split))
            if (!w.figures?.[name]?.withheld) {
              keys.add(keyId({ ...t.key, leader }));
              leaderFigures++;
            }
          published.set(w.week, keys);
        }
    }
    // Leader figures are published in some weeks, so the check below covers them.
    expect(leaderFigures).toBeGreaterThan(0);
    expect([...published.keys()].sort()).toHaveLength(12);
    for (const [week, keys] of published) {
      const rows = await store.query(
        `SELECT department, location, level, leader FROM ${eligibleSql(week, addDays(week, 6))}`,
      );
      const members = rows.map((r) => Object.fromEntries(PLANNED_DIMENSIONS.map((d) => [d, String(r[d])])));
      const isWithheld = (key: GroupKey) => !keys.has(keyId(key));
      const leaks = findLeaks(members, PLANNED_DIMENSIONS, {
        minGroupSize: 5,
        isWithheld,
        reason: (key) => (isWithheld(key) ? 'complementary' : null),
      }).filter((l) => l.people < 5);
      expect(leaks, week).toEqual([]);
    }
  });

  it("withholds, in January, A's two IC2 people and a complement, though the window publishes them all", async () => {
    const r = await report(store, { asOf: AS_OF, by: ['department', 'level'] });
    const trendOf = (key: GroupKey) => r.trend.find((t) => keyId(t.key) === keyId(key));
    const weekOf = (key: GroupKey, week: string) => trendOf(key)?.weeks?.find((w) => w.week === week);
    const aIc2 = { department: 'A', level: 'IC2' };
    const aIc1 = { department: 'A', level: 'IC1' };
    expect(trendOf(aIc2)?.withheld).toBeNull();
    expect(weekOf(aIc2, '2026-03-23')?.withheld).toBeNull();
    expect(weekOf(aIc2, '2026-01-05')?.withheld).toBe('small');
    // Department A's January rate, published by the department breakdown, minus A/IC1 would give A/IC2.
    const byDept = await report(store, { asOf: AS_OF, by: ['department'] });
    const aWeek = byDept.trend
      .find((t) => keyId(t.key) === keyId({ department: 'A' }))
      ?.weeks?.find((w) => w.week === '2026-01-05');
    const both = [aWeek, weekOf(aIc1, '2026-01-05')].filter((w) => w && !w.withheld);
    expect(both.length).toBeLessThan(2);
  });
});
