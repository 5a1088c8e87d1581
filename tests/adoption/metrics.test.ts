/**
 * Golden figures on the canonical fixture set. Every expected number is worked out by hand from the
 * fixture rows in the comment next to it. The directory: 12 people, all hired in 2020, none left;
 * leaders (is_manager or is_executive) E001, E005, E006, E010; departments Sales {E001, E002, E008,
 * E011}, R&D {E003, E004, E006, E009, E012}, HR {E007, E010}, Executive {E005}; Seoul {E001, E002,
 * E005, E007, E009, E010}, Busan {E003, E004, E006, E008, E011, E012}.
 *
 * The reports here are the analyst's, which withhold nothing, so every figure's math is checked; what
 * leadership sees of them (the privacy plan) is privacy.test.ts's subject.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdoptionReport } from '../../pipeline/adoption/report.js';
import type { Store } from '../../pipeline/store.js';
import { openCanonical, report, value } from './helpers.js';

let store: Store;
let cleanup: () => void;
let r28: AdoptionReport;
beforeAll(async () => {
  ({ store, cleanup } = await openCanonical());
  r28 = await report(store, { by: ['department'], audience: 'analyst' });
});
afterAll(() => cleanup());

describe('window metrics, 28 days, company', () => {
  it('ends on the latest day with data, in the reporting zone', () => {
    // Latest activity_date is 2026-04-10 (the last interaction and thread are earlier).
    // 28 days ending there start on 2026-03-14.
    expect(r28.window).toEqual({ start: '2026-03-14', end: '2026-04-10', days: 28, timeZone: 'Asia/Seoul' });
    expect(r28.company.eligible).toBe(12);
  });

  it('active, participation, DAU/WAU/MAU and stickiness from daily rows', () => {
    const f = r28.company.figures;
    // activity_daily rows from 03-14 to 04-10 with any count > 0: everyone but E004 (whose two rows
    // are in February) -> 11 of 12.
    expect(value(f, 'active_rate')).toBeCloseTo(11 / 12, 10);
    // posts + replies + reactions > 0 in the window: E001 (22), E005 (15), E006 (12), E008 (5),
    // E009 (1), E010 (2) -> 6 of 12.
    expect(value(f, 'participation_rate')).toBeCloseTo(6 / 12, 10);
    // Active days per person: E001 17, E002 11, E003 5, E005 20, E006 14, E007 10, E008 8, E009 7,
    // E010 4, E011 9, E012 3 = 108 person-days over 28 days.
    expect(value(f, 'dau')).toBeCloseTo(108 / 28, 10);
    // Distinct active people in the 7-day blocks 04-04..04-10: 11, 03-28..04-03: 9,
    // 03-21..03-27: 10, 03-14..03-20: 9 -> 39 / 4.
    expect(value(f, 'wau')).toBeCloseTo(39 / 4, 10);
    expect(value(f, 'mau')).toBe(11);
    expect(value(f, 'dau_mau')).toBeCloseTo(108 / 28 / 11, 10);
    expect(value(f, 'wau_mau')).toBeCloseTo(39 / 4 / 11, 10);
    for (const name of ['active_rate', 'dau', 'mau'])
      expect(f?.[name]).toMatchObject({ grain: 'daily', source: 'activity_daily' });
  });

  it('Gini and 90-9-1', () => {
    const f = r28.company.figures;
    // Contributions ascending: six zeros, then 1, 2, 5, 12, 15, 22 (sum 57). Gini =
    // sum((2i - 13) x_i) / (12 * 57) = (1*1 + 3*2 + 5*5 + 7*12 + 9*15 + 11*22) / 684 = 493 / 684.
    expect(value(f, 'gini')).toBeCloseTo(493 / 684, 10);
    // Top 1% and next 9% of 12 people are one person each (ceil(0.12) = 1, ceil(1.2) - 1 = 1): E001
    // with 22 and E005 with 15; the other ten 12 + 5 + 2 + 1 = 20.
    expect(value(f, 'top1_share')).toBeCloseTo(22 / 57, 10);
    expect(value(f, 'next9_share')).toBeCloseTo(15 / 57, 10);
    expect(value(f, 'rest90_share')).toBeCloseTo(20 / 57, 10);
  });

  it('leaders vs others', () => {
    const f = r28.company.figures;
    // Leaders E001 (22), E005 (15), E006 (12), E010 (2) all contributed: 4 of 4.
    expect(value(f, 'leader_participation_rate')).toBe(1);
    // Others: E002, E003, E004, E007, E008, E009, E011, E012; of them E008 and E009 contributed.
    expect(value(f, 'others_participation_rate')).toBeCloseTo(2 / 8, 10);
    // Interactions in the window touching a leader from a non-leader: only E007 -> E006 (03-16 21:10Z,
    // 03-17 in Seoul). 1 of 8.
    expect(value(f, 'others_interacted_with_leader')).toBeCloseTo(1 / 8, 10);
  });

  it('ties, E-I and reciprocity from interactions at the time', () => {
    const f = r28.company.figures;
    // In the window (Seoul days): E007>E006, E006>E005, E005>E006, E002>E009, E009>E002, E010>E005,
    // E007>E008, E006>E001, E001>E006 = 9, all between departments.
    expect(value(f, 'interactions')).toBe(9);
    expect(value(f, 'cross_department_share')).toBe(1);
    expect(value(f, 'ei_department')).toBe(1);
    // Same location: E002-E009 twice and E010>E005 (Seoul) -> 3 internal, 6 external.
    expect(value(f, 'cross_location_share')).toBeCloseTo(6 / 9, 10);
    expect(value(f, 'ei_location')).toBeCloseTo((6 - 3) / 9, 10);
    // Pairs: E006-E007, E005-E006 (both ways), E002-E009 (both ways), E005-E010, E007-E008,
    // E001-E006 (both ways) -> 3 of 6.
    expect(value(f, 'reciprocity')).toBeCloseTo(3 / 6, 10);
    expect(f?.reciprocity).toMatchObject({ grain: 'event', source: 'interactions' });
  });

  it('personas with k = 2 (gives = posts+replies+reactions, receives = interactions received)', () => {
    const f = r28.company.figures;
    // Received in the window: E006 3, E005 2, E001/E002/E008/E009 1.
    // Observer (active, gives 0, receives 0): E003, E007, E011, E012 -> 4
    // Catalyst: E002 (gives 0 < receives 1) -> 1
    // Responder (gives > 2 x receives, replies+reactions > posts): E001 22 vs 1, E005 15 vs 2,
    //   E006 12 vs 3, E008 5 vs 1, E010 2 vs 0 -> 5
    // Engager: E009 (1 vs 1) -> 1; Inactive: E004 -> 1; Broadcaster: none.
    expect(value(f, 'persona_observer')).toBeCloseTo(4 / 12, 10);
    expect(value(f, 'persona_catalyst')).toBeCloseTo(1 / 12, 10);
    expect(value(f, 'persona_responder')).toBeCloseTo(5 / 12, 10);
    expect(value(f, 'persona_engager')).toBeCloseTo(1 / 12, 10);
    expect(value(f, 'persona_inactive')).toBeCloseTo(1 / 12, 10);
    expect(value(f, 'persona_broadcaster')).toBe(0);
  });

  it('responsiveness of the four askers', () => {
    // Questions created 03-14..04-10: T0012 (E006), T0013, T0016 (E005), T0015, T0019 (E001), T0017
    // (E008): six. Answered by someone else (see the 54-day test): T0012 11h10m, T0013 4h10m, T0016
    // 17h10m, T0017 20h10m -> 4 of 6, all within 24 h.
    const f = r28.company.figures;
    expect(value(f, 'questions')).toBe(6);
    expect(value(f, 'answered_share')).toBeCloseTo(4 / 6, 10);
    expect(value(f, 'answered_24h_share')).toBeCloseTo(4 / 6, 10);
    // Sorted 4.17, 11.17, 17.17, 20.17: median (11.17 + 17.17) / 2; p90 at 3 x 0.9 = 2.7 -> 17.17 + 0.7 x 3.
    expect(value(f, 'median_hours_to_reply')).toBeCloseTo(14 + 10 / 60, 6);
    expect(value(f, 'p90_hours_to_reply')).toBeCloseTo(17 + 10 / 60 + 0.7 * 3, 6);
  });
});

describe('groups', () => {
  it('each department, down to one person', () => {
    const byName = new Map(r28.groups.map((g) => [g.key.department, g]));
    expect([...byName.keys()].sort()).toEqual(['Executive', 'HR', 'R&D', 'Sales']);
    expect(r28.groups.every((g) => g.withheld === null)).toBe(true);
    // Executive: E005 (active, 15 contributions). HR: E007 (active, none), E010 (2).
    // Sales: E001 (22), E002, E008 (5), E011, all active.
    const sizes = { Executive: [1, 1, 1], HR: [2, 1, 1 / 2], Sales: [4, 1, 2 / 4] } as const;
    for (const [d, [eligible, active, participation]] of Object.entries(sizes)) {
      const g = byName.get(d);
      expect(g?.eligible).toBe(eligible);
      expect(value(g?.figures, 'active_rate')).toBeCloseTo(active, 10);
      expect(value(g?.figures, 'participation_rate')).toBeCloseTo(participation, 10);
    }
    const rd = byName.get('R&D');
    expect(rd?.eligible).toBe(5);
    // R&D active in the window: E003, E006, E009, E012 (not E004) -> 4 of 5; contributed: E006, E009.
    expect(value(rd?.figures, 'active_rate')).toBeCloseTo(4 / 5, 10);
    expect(value(rd?.figures, 'participation_rate')).toBeCloseTo(2 / 5, 10);
    // Interactions touching R&D: E007>E006, E006>E005, E005>E006, E002>E009, E009>E002, E006>E001,
    // E001>E006 = 7, none inside R&D: E-I of the group = (7 - 0) / 7.
    expect(value(rd?.figures, 'interactions')).toBe(7);
    expect(value(rd?.figures, 'ei_group')).toBe(1);
  });

  it('ties between two groups, both directions together', () => {
    // The 9 interactions by department at the time: E010>E005 (HR-Executive), E006>E005 and E005>E006
    // (R&D-Executive), E007>E006 (HR-R&D), E007>E008 (HR-Sales), E002>E009, E009>E002, E006>E001,
    // E001>E006 (R&D-Sales).
    expect(
      r28.between.map((t) => [t.a.department, t.b.department, value({ n: t.interactions }, 'n')]),
    ).toEqual([
      ['Executive', 'HR', 1],
      ['Executive', 'R&D', 2],
      ['HR', 'R&D', 1],
      ['HR', 'Sales', 1],
      ['R&D', 'Sales', 4],
    ]);
  });
});

describe('responsiveness over 54 days', () => {
  it('answered share, within 24 h, median and p90 hours', async () => {
    const r = await report(store, { days: 54, audience: 'analyst' });
    // 2026-02-16..04-10: 13 questions (T0001, 2, 5, 6, 9, 10, 11, 12, 13, 15, 16, 17, 19) by
    // E008, E001, E006, E009, E005: five askers.
    const f = r.company.figures;
    expect(value(f, 'questions')).toBe(13);
    // Answered by someone else: T0002 16h10m, T0005 0h10m, T0006 4h10m, T0009 29h10m, T0010 23h10m,
    // T0012 11h10m, T0013 4h10m, T0016 17h10m, T0017 20h10m -> 9 of 13; within 24 h: all but T0009.
    expect(value(f, 'answered_share')).toBeCloseTo(9 / 13, 10);
    expect(value(f, 'answered_24h_share')).toBeCloseTo(8 / 13, 10);
    // Sorted hours: 0.17, 4.17, 4.17, 11.17, 16.17, 17.17, 20.17, 23.17, 29.17: median the 5th.
    expect(value(f, 'median_hours_to_reply')).toBeCloseTo(16 + 10 / 60, 6);
    // p90 (linear): position 8 x 0.9 = 7.2 -> 23.17 + 0.2 x (29.17 - 23.17) = 24.37.
    expect(value(f, 'p90_hours_to_reply')).toBeCloseTo(23 + 10 / 60 + 0.2 * 6, 6);
    expect(f?.median_hours_to_reply).toMatchObject({ grain: 'event', source: 'threads' });
    // Everyone was active in the 54 days (E004 on 02-27), but MAU is the 28 days ending 04-10: 11.
    expect(value(f, 'active_rate')).toBe(1);
    expect(value(f, 'mau')).toBe(11);
  });
});

describe('weekly trend and forecast', () => {
  it('complete weeks from the first data week, a least-squares slope and 4 forecast weeks', () => {
    const t = r28.trend.find((g) => Object.keys(g.key).length === 0);
    // Weeks (Monday) 02-16 .. 03-30; the week of 04-06 is not over on 04-10. People who posted,
    // replied or reacted each week: 3 (E001 E006 E008), 3 (E001 E006 E009), 2 (E001 E002),
    // 2 (E001 E005), 4 (E001 E005 E006 E009), 3 (E001 E005 E008), 3 (E001 E005 E008), of 12.
    expect(t?.weeks?.map((w) => w.week)).toEqual([
      '2026-02-16',
      '2026-02-23',
      '2026-03-02',
      '2026-03-09',
      '2026-03-16',
      '2026-03-23',
      '2026-03-30',
    ]);
    expect(t?.weeks?.map((w) => Math.round((w.figures?.participation_rate?.value ?? -1) * 12))).toEqual([
      3, 3, 2, 2, 4, 3, 3,
    ]);
    // Slope: sum((x - 3) c) / sum((x - 3)^2) / 12 = (-9 - 6 - 2 + 0 + 4 + 6 + 9) / 28 / 12 = 2 / 336.
    expect(t?.fit?.slope_per_week).toBeCloseTo(2 / 336, 10);
    // Intercept: mean 20/84 - 3 x 2/336; the 4th forecast week is x = 10.
    const intercept = 20 / 84 - (3 * 2) / 336;
    expect(t?.forecast).toHaveLength(4);
    expect(t?.forecast?.[3]?.week).toBe('2026-04-27');
    expect(t?.forecast?.[3]?.participation_rate).toBeCloseTo(intercept + (10 * 2) / 336, 10);
    const last = t?.forecast?.[3];
    expect(
      (last?.low ?? 1) < (last?.participation_rate ?? 0) &&
        (last?.participation_rate ?? 1) < (last?.high ?? 0),
    ).toBe(true);
  });
});

describe('weekly figures', () => {
  const week = (monday: string) =>
    r28.trend.find((g) => Object.keys(g.key).length === 0)?.weeks?.find((w) => w.week === monday);

  it('every window figure, per week, over the week alone (Seoul days)', () => {
    const w = week('2026-03-16');
    expect(w?.eligible).toBe(12);
    const f = w?.figures;
    // Activity rows 03-16..03-22 with any count > 0 (none on the weekend): 03-16 E001 E002 E005 E006
    // E007 (5); 03-17 E001 E003 E005 E007 E009 (5); 03-18 E001 E002 E005 E006 E007 E010 (6); 03-19
    // E002 E005 E006 E007 (4); 03-20 E001 E005 E006 E007 E008 E009 E010 (7). Distinct: 9 of 12 (not
    // E004, E011, E012); DAU 27 person-days / 7 days; WAU is the week's one block: 9.
    expect(value(f, 'active_rate')).toBeCloseTo(9 / 12, 10);
    expect(value(f, 'dau')).toBeCloseTo(27 / 7, 10);
    expect(value(f, 'wau')).toBe(9);
    // MAU: the 28 days ending Sunday 03-22 (02-23..03-22) hold all 12, E004 on 02-27 included.
    expect(value(f, 'mau')).toBe(12);
    expect(value(f, 'dau_mau')).toBeCloseTo(27 / 7 / 12, 10);
    expect(value(f, 'wau_mau')).toBeCloseTo(9 / 12, 10);
    // Contributed: leaders E001 (1 reaction), E005, E006 but not E010 (reads only) -> 3 of 4;
    // others: E009 (1 post) -> 1 of 8.
    expect(value(f, 'leader_participation_rate')).toBeCloseTo(3 / 4, 10);
    expect(value(f, 'others_participation_rate')).toBeCloseTo(1 / 8, 10);
    // Interactions on Seoul days 03-16..03-22: E007>E006 (03-17 06:10), E006>E005 (03-20 23:10),
    // E005>E006, E002>E009, E009>E002 (03-21) = 5. Pairs E006-E007 one way, E005-E006 and E002-E009
    // both ways -> reciprocity 2 / 3. Non-leaders touching a leader: E007 -> 1 of 8.
    expect(value(f, 'interactions')).toBe(5);
    expect(value(f, 'reciprocity')).toBeCloseTo(2 / 3, 10);
    expect(value(f, 'others_interacted_with_leader')).toBeCloseTo(1 / 8, 10);
    // Questions created that week: T0012 (03-16 19:00, answered by E007 after 11h10m) and T0013
    // (03-20 19:00, by E006 after 4h10m): both answered, both within 24 h.
    expect(value(f, 'questions')).toBe(2);
    expect(value(f, 'answered_share')).toBe(1);
    expect(f?.dau).toMatchObject({ grain: 'daily', source: 'activity_daily' });
    expect(f?.reciprocity).toMatchObject({ grain: 'event', source: 'interactions' });
  });

  it("a week's MAU looks back 28 days from its Sunday; its questions are its own", () => {
    const f = week('2026-03-23')?.figures;
    // 03-02..03-29 holds everyone but E004 (last active 02-27): 11.
    expect(value(f, 'mau')).toBe(11);
    // Questions created 03-23..03-29 (Seoul): T0015 (03-24 00:00, never answered) and T0016 (03-24
    // 01:00, answered by E010 after 17h10m) -> 1 of 2; the week's only interaction is E010>E005 -> 0 of 1.
    expect(value(f, 'questions')).toBe(2);
    expect(value(f, 'answered_share')).toBeCloseTo(1 / 2, 10);
    expect(value(f, 'median_hours_to_reply')).toBeCloseTo(17 + 10 / 60, 6);
    expect(value(f, 'reciprocity')).toBe(0);
  });

  it('per group too, and the active rate has its own line and forecast', () => {
    const rd = r28.trend.find((g) => g.key.department === 'R&D')?.weeks?.find((w) => w.week === '2026-03-16');
    // R&D (E003 E004 E006 E009 E012) active 03-16..03-22: E003, E006, E009 -> 3 of 5.
    expect(value(rd?.figures, 'active_rate')).toBeCloseTo(3 / 5, 10);
    const t = r28.trend.find((g) => Object.keys(g.key).length === 0);
    expect(t?.active_rate_forecast).toHaveLength(4);
    expect(t?.active_rate_fit?.slope_per_week).toEqual(expect.any(Number));
  });
});

describe('email/meeting change', () => {
  it('difference in differences between adopters and non-adopters with a Welch 95% CI', () => {
    const e = r28.emailMeetings.find((g) => Object.keys(g.key).length === 0);
    // Rollout = first activity day 2026-02-16. Before: weeks 01-19..02-09 (4); after: 02-16..03-30 (7).
    // Adopters (contributed 02-16..04-10): E001 E002 E005 E006 E008 E009 E010; others: E003 E004 E007
    // E011 E012. Change in mean emails sent per person (after - before):
    //   adopters -12.0357, 0.3571, -8.75, -11.4286, -11.1071, 4, -0.7143 -> mean -5.66837
    //   others 2.1429, -0.1429, 0.6071, -0.1071, -1.6429 -> mean 0.17143
    //   DiD = -5.83980. Variances 44.5211 (n 7) and 1.8861 (n 5): se = sqrt(6.36016 + 0.37722)
    //   = 2.59565; Welch df 6.70 -> t(6) = 2.447; CI -5.8398 -/+ 6.3516.
    expect(e?.rollout).toBe('2026-02-16');
    expect(e?.emails_sent?.value).toBeCloseTo(-5.8398, 4);
    expect(e?.emails_sent?.low).toBeCloseTo(-12.1914, 3);
    expect(e?.emails_sent?.high).toBeCloseTo(0.5118, 3);
    // Meetings attended: adopters mean -0.97449, others 0.5 -> -1.47449.
    expect(e?.meetings_attended?.value).toBeCloseTo(-1.47449, 4);
    expect(e?.emails_sent).toMatchObject({ grain: 'weekly', source: 'comm_volume_weekly+activity_daily' });
  });
});
