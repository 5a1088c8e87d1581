/**
 * What leadership sees: the real privacy plan (pipeline/privacy/suppress.ts) applied to every section
 * and every output format. Expectations come from planSuppression over the same eligible people, so
 * the report is checked against the plan itself, group key by group key.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withheldFigure } from '../../pipeline/adoption/figures.js';
import { eligibleSql, keyId, PLANNED_DIMENSIONS } from '../../pipeline/adoption/population.js';
import { renderReport } from '../../pipeline/adoption/render.js';
import { type AdoptionReport, sentences } from '../../pipeline/adoption/report.js';
import { loadConfig } from '../../pipeline/config.js';
import { ConfigError } from '../../pipeline/errors.js';
import { type PrivacyPlan, planSuppression } from '../../pipeline/privacy/suppress.js';
import type { Store } from '../../pipeline/store.js';
import { openTestStore, tempDir } from '../helpers/store.js';
import { importAt, textFile } from '../imports/helpers.js';
import { openCanonical, report } from './helpers.js';

/** The plan over the report window's eligible people, made independently of the report. */
async function planOf(store: Store, r: AdoptionReport, min = 5): Promise<PrivacyPlan> {
  const rows = await store.query(
    `SELECT department, location, level, leader FROM ${eligibleSql(r.window.start, r.window.end)}`,
  );
  const members = rows.map((row) => Object.fromEntries(PLANNED_DIMENSIONS.map((d) => [d, String(row[d])])));
  return planSuppression(members, PLANNED_DIMENSIONS, min);
}

/** Every group of every section is withheld exactly when the plan withholds it, with its reason. */
function expectPlanApplied(r: AdoptionReport, plan: PrivacyPlan): void {
  for (const g of [r.company, ...r.groups]) {
    expect(g.withheld, keyId(g.key)).toBe(plan.reason(g.key));
    if (g.withheld) expect(g).toEqual({ key: g.key, withheld: g.withheld });
    else
      for (const [name, leader] of [
        ['leader_participation_rate', 'yes'],
        ['others_participation_rate', 'no'],
      ] as const)
        expect(g.figures?.[name]?.withheld ?? null, `${keyId(g.key)} ${name}`).toBe(
          plan.reason({ ...g.key, leader }),
        );
  }
  for (const t of r.trend) {
    expect(t.withheld, keyId(t.key)).toBe(plan.reason(t.key));
    if (t.withheld) expect(t).toEqual({ key: t.key, withheld: t.withheld });
  }
  for (const e of r.emailMeetings) {
    expect(e.withheld, keyId(e.key)).toBe(plan.reason(e.key));
    if (e.withheld) expect(e).toEqual({ key: e.key, withheld: e.withheld, rollout: e.rollout });
  }
  for (const p of r.period)
    for (const g of p.groups) if (plan.reason(g.key)) expect(g.withheld).toBe(plan.reason(g.key));
  for (const t of r.between)
    expect(t.interactions.withheld ?? null).toBe(plan.reason(t.a) ?? plan.reason(t.b));
}

/** Every object in `x` that says it is withheld. */
function withheldObjects(x: unknown, out: object[] = []): object[] {
  if (Array.isArray(x)) for (const v of x) withheldObjects(v, out);
  else if (x && typeof x === 'object') {
    if ((x as { withheld?: unknown }).withheld) out.push(x);
    for (const v of Object.values(x)) withheldObjects(v, out);
  }
  return out;
}
const numbersIn = (x: unknown): number[] =>
  typeof x === 'number' ? [x] : x && typeof x === 'object' ? Object.values(x).flatMap(numbersIn) : [];

let store: Store;
let cleanup: () => void;
let byDept: AdoptionReport;
let byDeptPlan: PrivacyPlan;
beforeAll(async () => {
  ({ store, cleanup } = await openCanonical());
  byDept = await report(store, { by: ['department'], days: 54 });
  byDeptPlan = await planOf(store, byDept);
});
afterAll(() => cleanup());

describe('leadership, on the 12-person canonical set', () => {
  it('is the default, and every section follows the real plan group by group', async () => {
    expect(byDept.audience).toBe('leadership');
    expectPlanApplied(byDept, byDeptPlan);
    // What that means here: Sales (4), HR (2) and Executive (1) are small; R&D (5) would then be
    // 12 - 4 - 2 - 1, and the company 8 non-leaders + 4 leaders, so both are complementary.
    expect(byDept.company).toEqual({ key: {}, withheld: 'complementary' });
    expect(byDept.groups.map((g) => [g.key.department, g.withheld])).toEqual([
      ['Executive', 'small'],
      ['HR', 'small'],
      ['R&D', 'complementary'],
      ['Sales', 'small'],
    ]);
    expect(byDept.between.length).toBeGreaterThan(0);

    // By level the 8 ICs are a published group (and so the plan does not withhold everything), but
    // their leaders-vs-others split is not.
    const byLevel = await report(store, { by: ['level'], days: 54 });
    expectPlanApplied(byLevel, await planOf(store, byLevel));
    const ic = byLevel.groups.find((g) => g.key.level === 'IC');
    expect(ic).toMatchObject({ withheld: null, eligible: 8 });
    const byCell = await report(store, { by: ['department', 'location'] });
    expectPlanApplied(byCell, await planOf(store, byCell));
    expect(byCell.groups.map((g) => g.key)).toContainEqual({ department: 'R&D', location: 'Busan' });
  });

  it('withheld groups and figures carry no numbers in the JSON, CSV or HTML', () => {
    const json = JSON.parse(renderReport(byDept, 'json', 'en')) as unknown;
    const withheld = withheldObjects(json);
    expect(withheld.length).toBeGreaterThan(5);
    for (const o of withheld) expect(numbersIn(o), JSON.stringify(o)).toEqual([]);

    const csv = renderReport(byDept, 'csv', 'en').trim().split('\n').slice(1);
    const rows = csv.filter((line) => !line.startsWith('summary,')).map((line) => line.split(','));
    for (const cells of rows) if (cells[9]) expect(cells.slice(4, 7), cells.join(',')).toEqual(['', '', '']);
    const metricRows = rows.filter((c) => c[0] === 'metrics' && c[3] === '*');
    expect(metricRows.map((c) => [c[1], c[9]])).toEqual([
      ['(company)', 'complementary'],
      ['department=Executive', 'small'],
      ['department=HR', 'small'],
      ['department=R&D', 'complementary'],
      ['department=Sales', 'small'],
    ]);

    for (const lang of ['en', 'ko'] as const) {
      const html = renderReport(byDept, 'html', lang);
      for (const d of ['Sales', 'R&amp;D', 'HR', 'Executive']) {
        const row = new RegExp(`<tr><td>${d}</td>(.*?)</tr>`).exec(html)?.[1];
        // The row's text, without its markup: the reason and no number.
        expect(row?.replace(/<[^>]*>/g, '')).toMatch(/^(withheld|비공개)$/);
      }
      // The headline cards say withheld; no percentage and no head count is printed.
      const cards = /<div class="cards">([\s\S]*?)<h2>/.exec(html)?.[1] ?? '';
      expect(cards).toContain(
        `<strong><span class="withheld">${lang === 'en' ? 'withheld' : '비공개'}</span>`,
      );
      const strong = [...cards.matchAll(/<strong>(.*?)<\/strong>/g)].map((m) => m[1]).join(' ');
      expect(strong.replace(/<[^>]*>/g, '')).not.toMatch(/\d/);
      expect(cards).toContain('E-I <span class="withheld">');
      expect(html).not.toMatch(/eligible employees|명의 대상 직원/);
    }
  });

  it('the sentences say the company figures are withheld for privacy, in English and Korean', () => {
    expect(sentences(byDept, 'en')).toEqual([
      {
        topic: 'participation',
        text: 'Company-wide figures are withheld for privacy: with the published group figures they would reveal a group of fewer than 5 people.',
      },
    ]);
    expect(sentences(byDept, 'ko')).toEqual([
      {
        topic: 'participation',
        text: '전사 수치는 공개된 집단별 수치와 함께 보면 5명 미만 집단이 드러날 수 있어 개인정보 보호를 위해 공개하지 않습니다.',
      },
    ]);
    expect(renderReport(byDept, 'csv', 'ko')).toContain('summary,(company),,participation,,,,,,,전사 수치는');
  });

  it('a larger minimum is planned with it: R&D (5 people) becomes small at 6', async () => {
    const r = await report(store, { by: ['department'] }, 6);
    expectPlanApplied(r, await planOf(store, r, 6));
    expect(r.minGroupSize).toBe(6);
    expect(r.groups.find((g) => g.key.department === 'R&D')?.withheld).toBe('small');
  });

  it('the analyst report withholds nothing and says it is not for leadership', async () => {
    const r = await report(store, { by: ['department'], days: 54, audience: 'analyst' });
    expect(r.audience).toBe('analyst');
    expect(withheldObjects(r)).toEqual([]);
    expect(r.company.eligible).toBe(12);
    expect(r.groups.find((g) => g.key.department === 'Sales')?.eligible).toBe(4);
    expect(sentences(r, 'en')[0]?.text).toBe(
      'Analyst report: no figure is withheld for privacy, so do not pass it on to leadership.',
    );
    expect(sentences(r, 'ko')[0]?.topic).toBe('audience');
    expect(renderReport(r, 'html', 'en')).toContain('Analyst report: nothing is withheld for privacy');
    await expect(report(store, { audience: 'everyone' as 'analyst' })).rejects.toThrow(
      'audience: "everyone" is not one of leadership, analyst',
    );
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

describe('leadership, on 200 people', () => {
  // Departments of 60, 50, 46, 40 and 4 people, alternating Seoul/Busan; in each, every sixth person
  // from the first an executive, every sixth from the fourth a manager. Half of everyone posts once.
  const SIZES = { Alpha: 60, Bravo: 50, Charlie: 46, Delta: 40, Tiny: 4 };
  function directory(): string {
    const lines = [
      'employee_id,email,department,location,level,is_manager,is_executive,hire_date,term_date,as_of',
    ];
    let n = 0;
    for (const [dept, size] of Object.entries(SIZES))
      for (let i = 0; i < size; i++) {
        n++;
        const id = `P${String(n).padStart(3, '0')}`;
        const exec = i % 6 === 0;
        const manager = i % 6 === 3;
        const level = exec ? 'Executive' : manager ? 'Manager' : 'IC';
        const loc = n % 2 ? 'Seoul' : 'Busan';
        lines.push(
          `${id},${id.toLowerCase()}@example.com,${dept},${loc},${level},${manager},${exec},2020-01-01,,2026-01-01`,
        );
      }
    return lines.join('\n');
  }
  const activity = () => {
    const lines = [
      'activity_date,platform,employee_id,posts,replies,reactions,reads,chat_messages,channel_messages,meetings_attended',
    ];
    for (let n = 1; n <= 200; n += 2)
      lines.push(`2026-03-20,viva_engage,P${String(n).padStart(3, '0')},1,0,0,3,0,0,0`);
    return lines.join('\n');
  };

  it('publishes the company and the large departments, and the 4-person one cannot be worked out', async () => {
    const opened = await openTestStore();
    try {
      await importAt(opened.store, 'employees', [textFile('directory.csv', directory())]);
      await importAt(opened.store, 'auto', [textFile('activity_daily.csv', activity())]);
      const r = await report(opened.store, { by: ['department'], asOf: '2026-03-28' });
      expectPlanApplied(r, await planOf(opened.store, r));

      expect(r.company).toMatchObject({ withheld: null, eligible: 200 });
      expect(r.company.figures?.participation_rate?.value).toBe(0.5);
      const dept = new Map(r.groups.map((g) => [g.key.department, g]));
      expect(dept.get('Tiny')).toEqual({ key: { department: 'Tiny' }, withheld: 'small' });
      for (const d of ['Alpha', 'Bravo', 'Charlie'])
        expect(dept.get(d), d).toMatchObject({ withheld: null, eligible: SIZES[d as keyof typeof SIZES] });

      // The differencing attack: the company minus every published department. It must not be Tiny
      // alone: at least one more department is withheld, and together they are at least the minimum.
      const published = r.groups.filter((g) => !g.withheld);
      const rest = 200 - published.reduce((s, g) => s + (g.eligible ?? 0), 0);
      const hidden = r.groups.filter((g) => g.withheld);
      expect(hidden.length).toBeGreaterThanOrEqual(2);
      expect(hidden.filter((g) => g.withheld === 'complementary').length).toBeGreaterThanOrEqual(1);
      expect(rest).toBeGreaterThanOrEqual(5);
      // And the sentences give the company figures.
      expect(sentences(r, 'en')[0]?.text).toBe(
        'Participation is 50%, above both the SWOOP average (27%) and the recommended target (38%).',
      );
      // A headline figure withheld as complementary is explained as such, in both languages.
      const f = r.company.figures ?? {};
      const leadersHidden: AdoptionReport = {
        ...r,
        company: {
          ...r.company,
          figures: {
            ...f,
            leader_participation_rate: withheldFigure('complementary', 'daily', 'activity_daily'),
          },
        },
      };
      const leaders = (lang: 'en' | 'ko') =>
        sentences(leadersHidden, lang).find((x) => x.topic === 'leaders')?.text;
      expect(leaders('en')).toBe(
        'Leaders vs everyone else is withheld for privacy: with the published figures it would reveal a group of fewer than 5 people.',
      );
      expect(leaders('ko')).toBe(
        '리더와 그 밖의 직원 비교는 다른 공개 수치와 함께 보면 5명 미만 집단이 드러날 수 있어 개인정보 보호를 위해 공개하지 않습니다.',
      );
      expect(sentences(r, 'en').find((x) => x.topic === 'leaders')?.text).toMatch(
        /^Leaders participate at \d+%/,
      );
    } finally {
      opened.cleanup();
    }
  });
});
