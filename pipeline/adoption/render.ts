import { csvCell } from '../csv.js';
import type { GroupKey } from '../privacy/suppress.js';
import type { Figure } from './figures.js';
import { type AdoptionReport, BENCHMARK, type Lang, sentences } from './report.js';

export type ReportFormat = 'json' | 'csv' | 'html';

const groupName = (key: GroupKey) =>
  Object.keys(key).length === 0
    ? '(company)'
    : Object.entries(key)
        .map(([d, v]) => `${d}=${v}`)
        .join(';');

const CSV_COLUMNS = [
  'section',
  'group',
  'week',
  'metric',
  'value',
  'low',
  'high',
  'grain',
  'source',
  'withheld',
  'text',
];

/** Long format: one row per figure; withheld figures have an empty value and their reason. */
export function reportCsv(report: AdoptionReport, lang: Lang): string {
  const rows: unknown[][] = [];
  const add = (
    section: string,
    group: string,
    week: string,
    metric: string,
    f: Partial<Figure> & { low?: unknown; high?: unknown },
  ) =>
    rows.push([
      section,
      group,
      week,
      metric,
      f.withheld ? '' : f.value,
      f.withheld ? '' : f.low,
      f.withheld ? '' : f.high,
      f.grain,
      f.source,
      f.withheld ?? '',
      '',
    ]);
  for (const s of sentences(report, lang))
    rows.push(['summary', '(company)', '', s.topic, '', '', '', '', '', '', s.text]);
  for (const g of [report.company, ...report.groups]) {
    if (g.withheld) rows.push(['metrics', groupName(g.key), '', '*', '', '', '', '', '', g.withheld, '']);
    else
      for (const [name, f] of Object.entries(g.figures ?? {})) add('metrics', groupName(g.key), '', name, f);
  }
  for (const t of report.between)
    add('ties-between', `${groupName(t.a)} | ${groupName(t.b)}`, '', 'interactions', t.interactions);
  for (const t of report.trend) {
    if (t.withheld) {
      rows.push(['trend', groupName(t.key), '', '*', '', '', '', '', '', t.withheld, '']);
      continue;
    }
    for (const w of t.weeks ?? []) {
      if (w.withheld) rows.push(['trend', groupName(t.key), w.week, '*', '', '', '', '', '', w.withheld, '']);
      else
        for (const [name, f] of Object.entries(w.figures ?? {}))
          add('trend', groupName(t.key), w.week, name, f);
    }
    const daily = { grain: 'daily', source: 'activity_daily' } as const;
    const lines = [
      [
        'participation_rate',
        'slope_per_week',
        t.fit,
        (t.forecast ?? []).map((p) => ({ ...p, value: p.participation_rate })),
      ],
      [
        'active_rate',
        'active_rate_slope_per_week',
        t.active_rate_fit,
        (t.active_rate_forecast ?? []).map((p) => ({ ...p, value: p.active_rate })),
      ],
    ] as const;
    for (const [metric, slope, fit, forecast] of lines) {
      if (fit) add('trend', groupName(t.key), '', slope, { value: fit.slope_per_week, ...daily });
      for (const p of forecast)
        add('forecast', groupName(t.key), p.week, metric, {
          value: p.value,
          low: p.low,
          high: p.high,
          ...daily,
        });
    }
  }
  for (const e of report.emailMeetings) {
    if (e.withheld) {
      rows.push(['email-meetings', groupName(e.key), '', '*', '', '', '', '', '', e.withheld, '']);
      continue;
    }
    for (const name of ['emails_sent', 'meetings_attended'] as const) {
      const d = e[name];
      if (d) add('email-meetings', groupName(e.key), '', `${name}_did`, d);
    }
  }
  for (const p of report.period)
    for (const g of p.groups) {
      if (g.withheld)
        rows.push([
          'period',
          groupName(g.key),
          '',
          `${p.platform}:*`,
          '',
          '',
          '',
          'period',
          '',
          g.withheld,
          '',
        ]);
      else {
        if (g.active_rate) add('period', groupName(g.key), '', `${p.platform}:active_rate`, g.active_rate);
        if (g.participation_rate)
          add('period', groupName(g.key), '', `${p.platform}:participation_rate`, g.participation_rate);
      }
    }
  return `${[CSV_COLUMNS, ...rows].map((r) => r.map(csvCell).join(',')).join('\n')}\n`;
}

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

const LABELS = {
  en: {
    title: 'Adoption report',
    window: 'Window',
    eligible: 'eligible employees',
    tz: 'days in',
    summary: 'Summary',
    headline: 'Headline',
    participation: 'Participation',
    active: 'Active',
    benchmark: 'SWOOP average',
    target: 'target',
    leaders: 'Leaders',
    others: 'Everyone else',
    groups: 'By group',
    group: 'Group',
    crossDept: 'Cross-dept.',
    answered: 'Answered',
    trend: 'Weekly rates',
    week: 'Week',
    forecast: 'forecast',
    withheld: 'withheld',
    notes: `Figures about fewer people than the minimum group size are withheld, and so are figures from which such a group could be worked out. Daily-grain figures come from per-user daily activity; period totals are shown separately and never added to them.`,
    period: 'From period totals',
    analyst: 'Analyst report: nothing is withheld for privacy; not for leadership.',
  },
  ko: {
    title: '사내 네트워크 활용 보고서',
    window: '기간',
    eligible: '명의 대상 직원',
    tz: '날짜 기준 시간대',
    summary: '요약',
    headline: '핵심 지표',
    participation: '참여율',
    active: '이용률',
    benchmark: 'SWOOP 평균',
    target: '목표',
    leaders: '리더',
    others: '그 밖의 직원',
    groups: '집단별',
    group: '집단',
    crossDept: '부서 간 교류',
    answered: '질문 응답',
    trend: '주간 참여율·이용률',
    week: '주',
    forecast: '전망',
    withheld: '비공개',
    notes: `최소 집단 인원보다 적은 사람에 관한 수치와, 그런 집단을 계산해 낼 수 있는 수치는 공개하지 않습니다. 일 단위 수치는 사용자별 일간 활동에서 계산하며, 기간 합계 수치는 따로 보여 주고 서로 더하지 않습니다.`,
    period: '기간 합계 기준',
    analyst: '분석가용 보고서: 비공개 처리를 하지 않았으므로 리더십용이 아닙니다.',
  },
} as const;

function cell(f: Figure | undefined, lang: Lang, format: (v: number) => string): string {
  if (!f) return '';
  if (f.withheld) return `<span class="withheld">${LABELS[lang].withheld}</span>`;
  return f.value === null ? '–' : escapeHtml(format(f.value));
}

const pct = (v: number) => `${Math.round(v * 100)}%`;

/** One self-contained page (no scripts, no external requests) that prints on one A4 sheet. */
export function reportHtml(report: AdoptionReport, lang: Lang): string {
  const L = LABELS[lang];
  const f = report.company.figures ?? {};
  // A withheld company has no figures: its cards say so instead of staying blank.
  const head = (x: Figure | undefined, format: (v: number) => string) =>
    report.company.withheld ? `<span class="withheld">${L.withheld}</span>` : cell(x, lang, format);
  const w = report.window;
  const bar = (v: number | null) => {
    const width = v === null ? 0 : Math.max(0, Math.min(100, v * 100));
    return `<div class="bar"><span style="width:${width.toFixed(1)}%"></span><i style="left:${BENCHMARK.swoopAverage * 100}%"></i><b style="left:${BENCHMARK.target * 100}%"></b></div>`;
  };
  const part = f.participation_rate && !f.participation_rate.withheld ? f.participation_rate.value : null;
  const trend = report.trend.find((t) => Object.keys(t.key).length === 0);
  const groupRows = report.groups
    .map((g) => {
      const name = escapeHtml(Object.values(g.key).join(' · '));
      if (g.withheld) return `<tr><td>${name}</td><td colspan="5" class="withheld">${L.withheld}</td></tr>`;
      const x = g.figures ?? {};
      return `<tr><td>${name}</td><td>${cell(x.participation_rate, lang, pct)}</td><td>${cell(x.active_rate, lang, pct)}</td><td>${cell(x.leader_participation_rate, lang, pct)}</td><td>${cell(x.cross_department_share, lang, pct)}</td><td>${cell(x.answered_share, lang, pct)}</td></tr>`;
    })
    .join('');
  const weeks = (trend?.weeks ?? [])
    .slice(-8)
    .map((wk) => {
      const x = (name: string) =>
        wk.withheld ? `<span class="withheld">${L.withheld}</span>` : cell(wk.figures?.[name], lang, pct);
      return `<tr><td>${escapeHtml(wk.week)}</td><td>${x('participation_rate')}</td><td>${x('active_rate')}</td></tr>`;
    })
    .join('');
  const forecast = (trend?.forecast ?? [])
    .map(
      (p) =>
        `<tr class="fc"><td>${escapeHtml(p.week)} (${L.forecast})</td><td>${pct(p.participation_rate)} <small>${pct(Math.max(0, p.low))}–${pct(Math.min(1, p.high))}</small></td><td></td></tr>`,
    )
    .join('');
  const period = report.period
    .map((p) => {
      const c = p.groups.find((g) => Object.keys(g.key).length === 0);
      return `<li>${escapeHtml(`${p.platform} D${p.period_days} → ${p.period_end}`)}: ${L.participation} ${cell(c?.participation_rate, lang, pct)}, ${L.active} ${cell(c?.active_rate, lang, pct)}</li>`;
    })
    .join('');
  const size = report.company.withheld ? '' : ` · ${report.company.eligible} ${L.eligible}`;
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><title>${L.title}</title>
<style>
@page { size: A4; margin: 14mm; }
body { font: 10pt/1.4 system-ui, "Apple SD Gothic Neo", "Malgun Gothic", sans-serif; color: #111; max-width: 182mm; margin: 0 auto; }
h1 { font-size: 16pt; margin: 0 0 2pt; } h2 { font-size: 11pt; margin: 10pt 0 4pt; border-bottom: 1px solid #ccc; }
.meta { color: #555; } .cards { display: flex; gap: 8pt; } .card { flex: 1; border: 1px solid #ddd; padding: 6pt; }
.card strong { font-size: 18pt; display: block; }
.bar { position: relative; height: 8pt; background: #eee; margin-top: 4pt; } .bar span { position: absolute; height: 100%; background: #2a6; }
.bar i, .bar b { position: absolute; top: -2pt; height: 12pt; border-left: 2px solid #c60; } .bar b { border-color: #06c; }
table { border-collapse: collapse; width: 100%; } td, th { border-bottom: 1px solid #eee; padding: 2pt 4pt; text-align: left; }
.withheld { color: #888; font-style: italic; } .fc { color: #555; } ul { margin: 0; padding-left: 14pt; }
.groups td, .groups th { font-size: 8pt; padding: 1pt 3pt; } .cols { display: flex; gap: 12pt; } .cols > div { flex: 1; } footer { color: #666; font-size: 8pt; margin-top: 8pt; }
</style></head><body>
<h1>${L.title}</h1>
<div class="meta">${L.window}: ${escapeHtml(w.start)} – ${escapeHtml(w.end)} (${w.days}d, ${L.tz} ${escapeHtml(w.timeZone)})${size}</div>
<h2>${L.headline}</h2>
<div class="cards">
<div class="card">${L.participation}<strong>${head(f.participation_rate, pct)}</strong>${bar(part)}<small>${L.benchmark} ${pct(BENCHMARK.swoopAverage)} · ${L.target} ${pct(BENCHMARK.target)}</small></div>
<div class="card">${L.active}<strong>${head(f.active_rate, pct)}</strong><small>DAU/MAU ${head(f.dau_mau, pct)} · WAU/MAU ${head(f.wau_mau, pct)}</small></div>
<div class="card">${L.leaders} / ${L.others}<strong>${head(f.leader_participation_rate, pct)} / ${head(f.others_participation_rate, pct)}</strong><small>E-I ${head(f.ei_department, (v) => v.toFixed(2))}</small></div>
</div>
<h2>${L.summary}</h2>
<ul>${sentences(report, lang)
    .map((s) => `<li>${escapeHtml(s.text)}</li>`)
    .join('')}</ul>
<div class="cols">
<div><h2>${L.trend}</h2><table><tr><th>${L.week}</th><th>${L.participation}</th><th>${L.active}</th></tr>${weeks}${forecast}</table></div>
${report.groups.length ? `<div><h2>${L.groups}</h2><table class="groups"><tr><th>${L.group}</th><th>${L.participation}</th><th>${L.active}</th><th>${L.leaders}</th><th>${L.crossDept}</th><th>${L.answered}</th></tr>${groupRows}</table></div>` : ''}
</div>
${period ? `<h2>${L.period}</h2><ul>${period}</ul>` : ''}
<footer>${report.audience === 'analyst' ? escapeHtml(L.analyst) : `${escapeHtml(L.notes)} (min ${report.minGroupSize})`}</footer>
</body></html>
`;
}

/** The report as the CLI prints it and the API serves it. */
export function renderReport(report: AdoptionReport, format: ReportFormat, lang: Lang): string {
  if (format === 'csv') return reportCsv(report, lang);
  if (format === 'html') return reportHtml(report, lang);
  return `${JSON.stringify({ ...report, sentences: sentences(report, lang) }, null, 2)}\n`;
}

export const SECTIONS = [
  'summary',
  'groups',
  'trend',
  'ties',
  'responsiveness',
  'personas',
  'email-meetings',
] as const;
export type Section = (typeof SECTIONS)[number];

const TIES = [
  'interactions',
  'cross_department_share',
  'ei_department',
  'cross_location_share',
  'ei_location',
  'ei_group',
  'reciprocity',
];
const RESPONSIVENESS = [
  'questions',
  'answered_share',
  'answered_24h_share',
  'median_hours_to_reply',
  'p90_hours_to_reply',
];

/** One part of the report, as GET /api/adoption/<section> answers it. */
export function reportSection(report: AdoptionReport, section: Section, lang: Lang): unknown {
  const head = {
    audience: report.audience,
    window: report.window,
    minGroupSize: report.minGroupSize,
    by: report.by,
  };
  const pick = (names: (name: string) => boolean) =>
    [report.company, ...report.groups].map((g) =>
      g.withheld
        ? { key: g.key, withheld: g.withheld }
        : {
            key: g.key,
            withheld: null,
            figures: Object.fromEntries(Object.entries(g.figures ?? {}).filter(([n]) => names(n))),
          },
    );
  switch (section) {
    case 'summary':
      return {
        ...head,
        benchmark: report.benchmark,
        company: report.company,
        sentences: sentences(report, lang),
        period: report.period.map((p) => ({
          ...p,
          groups: p.groups.filter((g) => Object.keys(g.key).length === 0),
        })),
      };
    case 'groups':
      return { ...head, groups: [report.company, ...report.groups] };
    case 'trend':
      return { ...head, trend: report.trend };
    case 'ties':
      return { ...head, groups: pick((n) => TIES.includes(n)), between: report.between };
    case 'responsiveness':
      return { ...head, groups: pick((n) => RESPONSIVENESS.includes(n)) };
    case 'personas':
      return { ...head, groups: pick((n) => n.startsWith('persona_')) };
    case 'email-meetings':
      return { ...head, emailMeetings: report.emailMeetings };
  }
}
