import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eligibleSql } from '../../pipeline/adoption/population.js';
import type { Store } from '../../pipeline/store.js';
import { openTestStore } from '../helpers/store.js';
import { adoptionFixtures, fixture, importAt, textFile } from '../imports/helpers.js';
import { openCanonical, report, value } from './helpers.js';

const HEADER =
  'employee_id,email,department,location,level,is_manager,is_executive,hire_date,term_date,as_of';
const person = (id: string, dept: string, hire = '2020-01-01', term = '', asOf = '2026-01-01') =>
  `${id},${id.toLowerCase()}@example.com,${dept},Seoul,IC,false,false,${hire},${term},${asOf}`;

/** P01-P05 stay in Ops; H is hired mid-window, L leaves mid-window, L2 on its last day, M moves Ops -> R&D. */
function directory(asOf: string, mDept: string): string {
  return [
    HEADER,
    ...['P01', 'P02', 'P03', 'P04', 'P05'].map((id) => person(id, 'Ops', '2020-01-01', '', asOf)),
    person('H', 'Ops', '2026-03-10', '', asOf),
    person('L', 'Ops', '2020-01-01', '2026-03-20', asOf),
    person('L2', 'Ops', '2020-01-01', '2026-03-28', asOf),
    person('M', mDept, '2020-01-01', '', asOf),
  ].join('\n');
}

let store: Store;
let cleanup: () => void;
beforeEach(async () => {
  ({ store, cleanup } = await openTestStore());
  await importAt(store, 'employees', [textFile('dir-jan.csv', directory('2026-01-01', 'Ops'))]);
  await importAt(store, 'employees', [textFile('dir-mar.csv', directory('2026-03-15', 'R&D'))]);
});
afterEach(() => cleanup());

async function eligible(start: string, end: string): Promise<Record<string, string>> {
  const rows = await store.query(`SELECT employee_id, department FROM ${eligibleSql(start, end)} ORDER BY 1`);
  return Object.fromEntries(rows.map((r) => [String(r.employee_id), String(r.department)]));
}

describe('eligible employees', () => {
  it('leaves out who was hired or left during the window; a move counts where they are on its last day', async () => {
    // Window 03-01..03-28: H was hired on 03-10, L left on 03-20; L2 leaves on the last day (still in).
    expect(await eligible('2026-03-01', '2026-03-28')).toEqual({
      L2: 'Ops',
      M: 'R&D',
      P01: 'Ops',
      P02: 'Ops',
      P03: 'Ops',
      P04: 'Ops',
      P05: 'Ops',
    });
    // Window 02-11..03-10: H starts on its last day (not the whole window), L is still here, M in Ops.
    const early = await eligible('2026-02-11', '2026-03-10');
    expect(early.H).toBeUndefined();
    expect(early.L).toBe('Ops');
    expect(early.M).toBe('Ops');
  });

  it('leaves out who every platform export reports unlicensed', async () => {
    const path = join(adoptionFixtures, 'exports', 'graph_getTeamsUserActivityUserDetail_D30.csv');
    const [header, row] = readFileSync(path, 'utf8').split('\n');
    // The fixture's first row, moved to P05 and a day in the window, with "Is Licensed" = No.
    const unlicensed = (row ?? '')
      .replace('2026-04-14', '2026-03-20')
      .replace('user01@example.com', 'p05@example.com')
      .replace(/,Yes,30$/, ',No,30');
    await importAt(store, 'auto', [textFile('teams.csv', `${header}\n${unlicensed}\n`)]);
    expect(Object.keys(await eligible('2026-03-01', '2026-03-28'))).not.toContain('P05');
  });

  it('ties use departments at the time of each interaction', async () => {
    // M -> P01 on 03-05 (both in Ops then) and on 03-20 (M in R&D): one of two crosses departments.
    // With window-end departments both would cross.
    await importAt(store, 'interactions', [
      textFile(
        'i.csv',
        'event_ts,platform,from_employee_id,to_employee_id,interaction_type\n2026-03-05T03:00:00Z,viva_engage,M,P01,reply\n2026-03-20T03:00:00Z,viva_engage,M,P01,reply\n',
      ),
    ]);
    const r = await report(store, { asOf: '2026-03-28', audience: 'analyst' });
    expect(value(r.company.figures, 'interactions')).toBe(2);
    expect(value(r.company.figures, 'cross_department_share')).toBe(0.5);
  });
});

describe('grains are never mixed', () => {
  it('period totals are reported beside the daily figures, which they leave unchanged', async () => {
    const canonical = await openCanonical();
    try {
      const before = await report(canonical.store, { asOf: '2026-04-14', audience: 'analyst' });
      await importAt(canonical.store, 'auto', [
        fixture('exports/graph_getTeamsUserActivityUserDetail_D30.csv'),
      ]);
      const after = await report(canonical.store, { asOf: '2026-04-14', audience: 'analyst' });
      // Every licence in the export is Yes, so nobody drops out and the daily figures are identical.
      expect(after.company).toEqual(before.company);
      expect(before.period).toEqual([]);
      expect(after.period).toHaveLength(1);
      const [teams] = after.period;
      expect(teams).toMatchObject({ platform: 'teams', period_days: 30, period_end: '2026-04-14' });
      const c = teams?.groups[0];
      // D30 to 04-14: last activity inside it for user01, 02, 03, 05, 08 -> 5 of the 12 eligible;
      // posts or replies for user01 (10+30), user02 (0+2), user05 (45+75), user08 (5+10) -> 4 of 12.
      expect(c?.active_rate).toEqual({
        value: 5 / 12,
        grain: 'period',
        source: 'activity_period teams D30 to 2026-04-14',
      });
      expect(c?.participation_rate?.value).toBeCloseTo(4 / 12, 10);
    } finally {
      canonical.cleanup();
    }
  });
});
