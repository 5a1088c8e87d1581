import type { Store } from '../store.js';
import { defaultRollout, emailMeetingChange, type GroupEmailMeetings } from './email-meetings.js';
import type { Figure, WithheldReason } from './figures.js';
import { type GroupMetrics, spanMetrics, type TieBetween, tiesBetween, WINDOW_SPAN } from './metrics.js';
import { type PeriodRates, periodRates } from './period.js';
import {
  type Audience,
  checkAudience,
  checkDay,
  checkDimensions,
  type Dimension,
  openPopulation,
  resolveWindow,
  type Window,
} from './population.js';
import { type GroupTrend, spanPlans, trendWeeks, weeklyTrend } from './trend.js';
import { spansRows } from './week-cache.js';

/** SWOOP's global average share of interactive users, and its recommended target. */
export const BENCHMARK = { swoopAverage: 0.27, target: 0.38 } as const;

export type Lang = 'en' | 'ko';

export interface AdoptionReportArgs {
  /** Window length in days (default 28). */
  days?: number | undefined;
  by?: readonly string[] | undefined;
  /** Last day of the window, YYYY-MM-DD (default: the latest day with data). */
  asOf?: string | undefined;
  /** First day the network was in use, for the email/meeting change (default: first activity day). */
  rollout?: string | undefined;
  /** Who reads it (default leadership, privacy applied); analyst withholds nothing (population.ts). */
  audience?: Audience | undefined;
}

/**
 * Aggregates only. For leadership nothing here is about fewer people than the minimum, and withheld
 * groups carry no numbers; the analyst's report may hold groups of one person.
 */
export interface AdoptionReport {
  audience: Audience;
  window: Window;
  minGroupSize: number;
  by: Dimension[];
  benchmark: typeof BENCHMARK;
  company: GroupMetrics;
  groups: GroupMetrics[];
  between: TieBetween[];
  trend: GroupTrend[];
  emailMeetings: GroupEmailMeetings[];
  period: PeriodRates[];
}

/** The whole report: company and per-group figures, privacy applied for leadership. */
export async function adoptionReport(
  store: Store,
  settings: { timezone: string; minGroupSize: number },
  args: AdoptionReportArgs,
): Promise<AdoptionReport> {
  const by = checkDimensions(args.by ?? []);
  const audience = checkAudience(args.audience ?? 'leadership');
  const window = await resolveWindow(store, {
    days: args.days ?? 28,
    asOf: args.asOf,
    timeZone: settings.timezone,
  });
  const pop = await openPopulation(store, window, settings.minGroupSize, audience);
  try {
    const rollout = args.rollout ? checkDay(args.rollout, 'rollout') : await defaultRollout(pop.db);
    // The window and the trend's weeks are spans of one computation, each with its own people and plan.
    const weeks = trendWeeks(window);
    const breakdowns = by.length ? [[], by] : [[]];
    // Complete weeks come from the week cache when it holds them; the window is always computed.
    const { people, rows } = await spansRows(
      pop,
      [{ id: WINDOW_SPAN, start: window.start, end: window.end }],
      weeks,
      breakdowns,
    );
    const planOf = spanPlans(pop, people);
    const perSpan = rows.map((r, i) => spanMetrics(r, breakdowns[i] ?? [], planOf));
    const metrics = perSpan.flatMap((m) => m.get(WINDOW_SPAN) ?? []);
    const between = await tiesBetween(pop, by);
    const trend = await weeklyTrend(pop, weeks, perSpan);
    const emailMeetings = rollout ? await emailMeetingChange(pop, by, rollout) : [];
    const period = await periodRates(pop, by);
    const [company, ...groups] = metrics;
    return {
      audience,
      window,
      minGroupSize: pop.plan.minGroupSize,
      by,
      benchmark: BENCHMARK,
      // An empty population still yields one (withheld) company row.
      company: company ?? { key: {}, withheld: 'small' },
      groups,
      between,
      trend,
      emailMeetings,
      period,
    };
  } finally {
    pop.close();
  }
}

const pct = (v: number) => `${Math.round(v * 100)}%`;
const hours = (v: number) => (v < 10 ? v.toFixed(1) : String(Math.round(v)));
const signed = (v: number) => (v > 0 ? `+${v.toFixed(1)}` : v.toFixed(1));
const val = (f: Figure | undefined): number | null => (f && !f.withheld ? f.value : null);

/** One plain sentence per topic, next to the numbers, in English or Korean. */
export interface Sentence {
  topic:
    | 'audience'
    | 'participation'
    | 'activity'
    | 'leaders'
    | 'silos'
    | 'responsiveness'
    | 'trend'
    | 'email-meetings';
  text: string;
}

/** Why a figure is not shown, as the end of a sentence ("X is ..."). */
function withheldWhy(reason: WithheldReason, min: number, ko: boolean): string {
  if (reason === 'complementary')
    return ko
      ? `다른 공개 수치와 함께 보면 ${min}명 미만 집단이 드러날 수 있어 개인정보 보호를 위해 공개하지 않습니다.`
      : `withheld for privacy: with the published figures it would reveal a group of fewer than ${min} people.`;
  return ko
    ? `인원이 ${min}명 미만인 집단이 있어 공개하지 않습니다.`
    : `withheld: a group has fewer than ${min} people.`;
}

export function sentences(report: AdoptionReport, lang: Lang): Sentence[] {
  const ko = lang === 'ko';
  const f = report.company.figures ?? {};
  const min = report.minGroupSize;
  const avg = pct(BENCHMARK.swoopAverage);
  const target = pct(BENCHMARK.target);
  const withheld = (reason: WithheldReason = 'small') => withheldWhy(reason, min, ko);
  const out: Sentence[] = [];
  const say = (topic: Sentence['topic'], text: string) => out.push({ topic, text });

  if (report.audience === 'analyst')
    say(
      'audience',
      ko
        ? '분석가용 보고서: 개인정보 보호를 위한 비공개 처리를 하지 않았으므로 리더십에게 전달하지 마십시오.'
        : 'Analyst report: no figure is withheld for privacy, so do not pass it on to leadership.',
    );
  if (report.company.withheld) {
    say(
      'participation',
      report.company.withheld === 'complementary'
        ? ko
          ? `전사 수치는 공개된 집단별 수치와 함께 보면 ${min}명 미만 집단이 드러날 수 있어 개인정보 보호를 위해 공개하지 않습니다.`
          : `Company-wide figures are withheld for privacy: with the published group figures they would reveal a group of fewer than ${min} people.`
        : ko
          ? `전체 인원이 ${min}명 미만이라 수치를 공개하지 않습니다.`
          : `The whole population has fewer than ${min} people, so no figure is shown.`,
    );
    return out;
  }
  const part = val(f.participation_rate);
  if (part !== null) {
    const p = pct(part);
    if (part >= BENCHMARK.target)
      say(
        'participation',
        ko
          ? `참여율은 ${p}로 SWOOP 평균(${avg})과 권장 목표(${target})를 모두 넘습니다.`
          : `Participation is ${p}, above both the SWOOP average (${avg}) and the recommended target (${target}).`,
      );
    else if (part >= BENCHMARK.swoopAverage)
      say(
        'participation',
        ko
          ? `참여율은 ${p}로 SWOOP 평균(${avg})보다 높지만 권장 목표(${target})에는 못 미칩니다.`
          : `Participation is ${p}, above the SWOOP average (${avg}) but below the recommended target (${target}).`,
      );
    else
      say(
        'participation',
        ko
          ? `참여율은 ${p}로 SWOOP 평균(${avg})과 권장 목표(${target})에 모두 못 미칩니다.`
          : `Participation is ${p}, below both the SWOOP average (${avg}) and the recommended target (${target}).`,
      );
  }
  const active = val(f.active_rate);
  if (active !== null)
    say(
      'activity',
      ko
        ? `지난 ${report.window.days}일 동안 대상 직원의 ${pct(active)}가 네트워크를 한 번 이상 이용했고, 일간/월간 활성 비율(DAU/MAU)은 ${pct(val(f.dau_mau) ?? 0)}입니다.`
        : `${pct(active)} of eligible employees used the network at least once in the last ${report.window.days} days; daily users are ${pct(val(f.dau_mau) ?? 0)} of monthly users (DAU/MAU).`,
    );

  const leaders = val(f.leader_participation_rate);
  const others = val(f.others_participation_rate);
  const reached = val(f.others_interacted_with_leader);
  const leadersWithheld = f.leader_participation_rate?.withheld ?? f.others_participation_rate?.withheld;
  if (leadersWithheld)
    say(
      'leaders',
      ko
        ? `리더와 그 밖의 직원 비교는 ${withheld(leadersWithheld)}`
        : `Leaders vs everyone else is ${withheld(leadersWithheld)}`,
    );
  else if (leaders === null || others === null)
    say(
      'leaders',
      ko
        ? '리더 또는 그 밖의 직원이 없어 비교할 수 없습니다.'
        : 'There are no leaders, or no one else, to compare.',
    );
  else
    say(
      'leaders',
      ko
        ? `리더의 참여율은 ${pct(leaders)}, 그 밖의 직원은 ${pct(others)}입니다.${reached === null ? '' : ` 직원의 ${pct(reached)}가 리더와 직접 소통했습니다.`}`
        : `Leaders participate at ${pct(leaders)} against ${pct(others)} for everyone else.${reached === null ? '' : ` ${pct(reached)} of staff interacted with a leader.`}`,
    );

  const cross = val(f.cross_department_share);
  const ei = val(f.ei_department);
  const crossLoc = val(f.cross_location_share);
  if (cross !== null && ei !== null) {
    const open = ei > 0;
    say(
      'silos',
      ko
        ? `상호작용의 ${pct(cross)}가 부서를 넘나듭니다(E-I 지수 ${ei.toFixed(2)}: ${open ? '부서 밖 교류가 더 많음' : '부서 안에 머무는 경향, 사일로 주의'}).${crossLoc === null ? '' : ` 지역 간 교류는 ${pct(crossLoc)}입니다.`}`
        : `${pct(cross)} of interactions cross departments (E-I index ${ei.toFixed(2)}: ${open ? 'more outward than inward' : 'inward-looking, a sign of silos'}).${crossLoc === null ? '' : ` ${pct(crossLoc)} cross locations.`}`,
    );
  } else
    say(
      'silos',
      ko
        ? '이 기간에는 부서 간 교류를 잴 상호작용이 없습니다.'
        : 'No interactions in this window to measure silos.',
    );

  const responsivenessWithheld = f.answered_share?.withheld;
  if (responsivenessWithheld)
    say(
      'responsiveness',
      ko
        ? `질문 응답성은 ${withheld(responsivenessWithheld)}`
        : `Responsiveness is ${withheld(responsivenessWithheld)}`,
    );
  else {
    const q = val(f.questions) ?? 0;
    const answered = val(f.answered_share);
    const within = val(f.answered_24h_share);
    const median = val(f.median_hours_to_reply);
    const p90 = val(f.p90_hours_to_reply);
    if (q === 0 || answered === null)
      say('responsiveness', ko ? '이 기간에는 질문이 없습니다.' : 'No questions were asked in this window.');
    else
      say(
        'responsiveness',
        ko
          ? `질문 ${q}건 중 ${pct(answered)}가 다른 사람의 답을 받았고, ${pct(within ?? 0)}는 24시간 안에 답을 받았습니다.${median === null ? '' : ` 첫 답까지의 중앙값은 ${hours(median)}시간(90번째 백분위 ${hours(p90 ?? median)}시간)입니다.`}`
          : `Of ${q} questions, ${pct(answered)} were answered by someone else and ${pct(within ?? 0)} within 24 hours.${median === null ? '' : ` The median first reply came after ${hours(median)} h (90th percentile ${hours(p90 ?? median)} h).`}`,
      );
  }

  const trend = report.trend.find((t) => Object.keys(t.key).length === 0);
  const last = trend?.forecast?.at(-1);
  if (trend?.fit && last) {
    const points = trend.fit.slope_per_week * 100;
    const dir = Math.abs(points) < 0.1 ? 'flat' : points > 0 ? 'up' : 'down';
    const range = `${pct(Math.max(0, last.low))}~${pct(Math.min(1, last.high))}`;
    say(
      'trend',
      ko
        ? `주간 참여율은 ${dir === 'flat' ? '거의 변화가 없으며' : `주당 ${Math.abs(points).toFixed(1)}%p씩 ${dir === 'up' ? '오르고 있으며' : '내리고 있으며'}`}, 4주 뒤에는 ${pct(last.participation_rate)}(예상 범위 ${range})로 전망됩니다.`
        : `Weekly participation is ${dir === 'flat' ? 'holding steady' : `${dir === 'up' ? 'rising' : 'falling'} by ${Math.abs(points).toFixed(1)} points a week`}; in 4 weeks it is forecast at ${pct(last.participation_rate)} (likely between ${range.replace('~', ' and ')}).`,
    );
  } else
    say(
      'trend',
      ko
        ? '추세를 그릴 만큼 주간 자료가 쌓이지 않았습니다.'
        : 'Not enough complete weeks yet to fit a trend.',
    );

  const em = report.emailMeetings.find((e) => Object.keys(e.key).length === 0);
  const measured: { en: string; ko: string; stem: string }[] = [];
  const hidden: { en: string; ko: string; reason: WithheldReason }[] = [];
  for (const [name, label, labelKo] of [
    ['emails_sent', 'emails sent', '보낸 이메일은'],
    ['meetings_attended', 'meetings attended', '참석한 회의는'],
  ] as const) {
    const d = em?.[name];
    if (d?.withheld) {
      hidden.push({ en: label, ko: labelKo, reason: d.withheld });
      continue;
    }
    // Nothing to measure (no one on one side has weeks before and after): no sentence.
    if (!d || d.value === null || d.value === undefined) continue;
    const clear = (d.low ?? 0) > 0 || (d.high ?? 0) < 0;
    const rel = d.relative === null || d.relative === undefined ? '' : `${signed(d.relative * 100)}%; `;
    const low = (d.low ?? 0).toFixed(1);
    const high = (d.high ?? 0).toFixed(1);
    const relKo =
      d.relative === null || d.relative === undefined ? '' : `(${Math.abs(d.relative * 100).toFixed(1)}%)`;
    measured.push({
      en: `changed their weekly ${label} by ${signed(d.value)} (${rel}95% CI ${low} to ${high}: ${clear ? 'a clear difference' : 'not clearly different from no change'})`,
      ko: `${labelKo} 주당 ${Math.abs(d.value).toFixed(1)}건${relKo}`,
      stem: `${d.value < 0 ? '줄었' : d.value > 0 ? '늘었' : '같았'}|(95% 신뢰구간 ${low}~${high}, ${clear ? '통계적으로 뚜렷한 차이' : '통계적으로 뚜렷한 차이는 아님'})`,
    });
  }
  if (em && measured.length) {
    const koText = measured
      .map((m, i) => {
        const [verb, ci] = m.stem.split('|');
        return `${m.ko} ${verb}${i === measured.length - 1 ? '습니다' : '고'}${ci}`;
      })
      .join(', ');
    say(
      'email-meetings',
      lang === 'ko'
        ? `도입(${em.rollout}) 이후 네트워크를 쓴 직원을 쓰지 않은 직원과 비교하면, ${koText}.`
        : `Since rollout (${em.rollout}), compared with employees who did not use the network, those who did ${measured.map((m) => m.en).join('; and ')}.`,
    );
  }
  if (em && hidden.length)
    say(
      'email-meetings',
      lang === 'ko'
        ? `${hidden.map((h) => h.ko.replace(/[은는]$/, '')).join('·')} 변화는 ${withheld(hidden[0]?.reason)}`
        : `The change in ${hidden.map((h) => h.en).join(' and ')} is ${withheld(hidden[0]?.reason)}`,
    );
  if (!em || (!measured.length && !hidden.length))
    say(
      'email-meetings',
      ko
        ? '이메일·회의 변화를 계산할 주간 자료가 없습니다.'
        : 'No weekly email/meeting data to measure a change.',
    );
  return out;
}
