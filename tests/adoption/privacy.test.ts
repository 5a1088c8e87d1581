import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReport } from '../../pipeline/adoption/render.js';
import type { AdoptionReport } from '../../pipeline/adoption/report.js';
import { loadConfig } from '../../pipeline/config.js';
import { ConfigError } from '../../pipeline/errors.js';
import { planSuppression } from '../../pipeline/privacy/suppress.js';
import type { Store } from '../../pipeline/store.js';
import { tempDir } from '../helpers/store.js';
import { openCanonical, report } from './helpers.js';

let store: Store;
let cleanup: () => void;
let byDept: AdoptionReport;
beforeAll(async () => {
  ({ store, cleanup } = await openCanonical());
  byDept = await report(store, { by: ['department'], days: 54 });
});
afterAll(() => cleanup());

describe('minimum group size', () => {
  it('withholds Sales (4 people) in every section, with no count of its own', () => {
    const sales = (key: Record<string, string>) => key.department === 'Sales';
    expect(byDept.groups.filter((g) => sales(g.key))).toEqual([
      { key: { department: 'Sales' }, withheld: 'small' },
    ]);
    expect(byDept.trend.filter((g) => sales(g.key))).toEqual([
      { key: { department: 'Sales' }, withheld: 'small' },
    ]);
    expect(byDept.emailMeetings.filter((g) => sales(g.key))).toEqual([
      { key: { department: 'Sales' }, withheld: 'small', rollout: '2026-02-16' },
    ]);
    for (const t of byDept.between.filter((t) => sales(t.a) || sales(t.b)))
      expect(t.interactions).toEqual({
        value: null,
        grain: 'event',
        source: 'interactions',
        withheld: 'small',
      });
  });

  it("keeps Sales' figures out of the JSON, CSV and HTML", async () => {
    // Sales over 54 days: 4 people, E001 E002 E008 E011; what would leak is e.g. its eligible count 4.
    const json = JSON.parse(renderReport(byDept, 'json', 'en')) as AdoptionReport;
    const salesJson = JSON.stringify(json.groups.find((g) => g.key.department === 'Sales'));
    expect(salesJson).toBe('{"key":{"department":"Sales"},"withheld":"small"}');

    const csv = renderReport(byDept, 'csv', 'en').trim().split('\n');
    const salesRows = csv.filter((line) => line.includes('department=Sales'));
    expect(salesRows.length).toBeGreaterThan(0);
    for (const line of salesRows) {
      const cells = line.split(',');
      // value, low and high are empty; the reason is there.
      expect(cells.slice(4, 7)).toEqual(['', '', '']);
      expect(line).toMatch(/,small,/);
    }

    for (const lang of ['en', 'ko'] as const) {
      const html = renderReport(byDept, 'html', lang);
      const row = /<tr><td>Sales<\/td>(.*?)<\/tr>/.exec(html)?.[1];
      // The row's text, without its markup: the reason and no number.
      const text = row?.replace(/<[^>]*>/g, '');
      expect(text).toMatch(/^(withheld|비공개)$/);
    }
  });

  it('a larger minimum withholds more: R&D (5) at 6', async () => {
    const r = await report(store, { by: ['department'] }, 6);
    expect(r.groups.find((g) => g.key.department === 'R&D')).toEqual({
      key: { department: 'R&D' },
      withheld: 'small',
    });
    // The company (12) is still shown.
    expect(r.company.withheld).toBeNull();
  });

  it('a combination of dimensions is withheld cell by cell', async () => {
    const r = await report(store, { by: ['department', 'location'] });
    // R&D: E003 E004 E006 E012 in Busan, E009 in Seoul: both cells are under 5.
    expect(r.groups.every((g) => g.withheld === 'small')).toBe(true);
    expect(r.groups.map((g) => g.key)).toContainEqual({ department: 'R&D', location: 'Busan' });
  });

  it('the interim plan counts the people in each group of the lattice', () => {
    const members = ['a', 'a', 'a', 'a', 'a', 'b', 'b', 'b', 'b'].map((department, i) => ({
      department,
      leader: i % 2 ? 'yes' : 'no',
    }));
    const plan = planSuppression(members, ['department', 'leader'], 5);
    expect(plan.reason({})).toBeNull();
    expect(plan.reason({ department: 'a' })).toBeNull();
    expect(plan.reason({ department: 'b' })).toBe('small');
    expect(plan.isWithheld({ leader: 'yes' })).toBe(true);
    expect(() => plan.reason({ location: 'x' })).toThrow(/not a planned dimension/);
  });

  it('refuses a configured minimum below 5, naming the field', () => {
    const { dir, cleanup: done } = tempDir();
    try {
      const path = join(dir, 'earshot.yaml');
      writeFileSync(path, 'privacy:\n  minGroupSize: 4\n');
      expect(() => loadConfig({ EARSHOT_CONFIG: path })).toThrow(ConfigError);
      expect(() => loadConfig({ EARSHOT_CONFIG: path })).toThrow(/privacy\.minGroupSize: must be 5 or more/);
      writeFileSync(path, 'privacy:\n  minGroupSize: 8\n');
      expect(loadConfig({ EARSHOT_CONFIG: path }).minGroupSize).toBe(8);
      writeFileSync(path, 'timezone: UTC\n');
      expect(loadConfig({ EARSHOT_CONFIG: path }).minGroupSize).toBe(5);
    } finally {
      done();
    }
  });
});
