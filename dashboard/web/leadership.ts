/**
 * The leadership view: the adoption report's sections (GET /api/adoption/:section), aggregates only.
 * A withheld figure or group says so and why; the page prints to A4 (app.css @media print).
 */
import { get, type Session } from './api.js';
import { ChartPanel, PALETTE } from './charts.js';
import { el, fill, table } from './dom.js';
import { currentLang, figureLabel, formatNumber, t } from './i18n.js';

type Key = Record<string, string>;
interface Figure {
  value?: number | null;
  withheld?: string;
  low?: number | null;
  high?: number | null;
}
interface Group {
  key: Key;
  withheld: string | null;
  figures?: Record<string, Figure>;
}
interface Head {
  minGroupSize: number;
  window: { start: string; end: string; days: number };
}

const RATES = ['active_rate', 'participation_rate'];

function groupName(key: Key): string {
  const parts = Object.values(key);
  return parts.length ? parts.join(' · ') : t('leadership.company');
}

function withheldText(reason: string, n: number): string {
  return reason === 'complementary'
    ? t('leadership.withheldComplementary', { n })
    : t('leadership.withheld', { n });
}

/** Shares and rates (0..1) are shown as percentages, counts and hours as plain numbers. */
const isShare = (name: string) =>
  /rate|share|^persona_|reciprocity|dau_mau|wau_mau/.test(name) && !/^ei_/.test(name);

function format(name: string, v: number): string {
  return isShare(name) ? `${formatNumber(v * 100, 1)}%` : formatNumber(v, 2);
}

function figureCell(name: string, f: Figure | undefined, n: number): HTMLElement | string {
  if (!f) return '–';
  if (f.withheld) return el('span', { class: 'withheld' }, withheldText(f.withheld, n));
  return f.value === null || f.value === undefined ? '–' : format(name, f.value);
}

/** One row per group, one column per figure; a withheld group's row says so once. */
function groupsTable(caption: string, groups: Group[], n: number): HTMLElement {
  const names = [...new Set(groups.flatMap((g) => Object.keys(g.figures ?? {})))];
  if (groups.length === 0) return el('p', {}, t('common.none'));
  // Every group withheld: one column saying so.
  if (names.length === 0)
    return table(
      caption,
      [t('leadership.group'), ''],
      groups.map((g) => [
        groupName(g.key),
        el('span', { class: 'withheld' }, withheldText(g.withheld ?? 'small', n)),
      ]),
    );
  return el(
    'div',
    { class: 'scroll' },
    table(
      caption,
      [t('leadership.group'), ...names.map(figureLabel)],
      groups.map((g) =>
        g.withheld
          ? [
              groupName(g.key),
              el('span', { class: 'withheld' }, withheldText(g.withheld, n)),
              ...names.slice(1).map(() => ''),
            ]
          : [groupName(g.key), ...names.map((name) => figureCell(name, g.figures?.[name], n))],
      ),
    ),
  );
}

function section(id: string, title: string, ...body: (Node | null)[]): HTMLElement {
  return el('section', { class: 'panel wide', id }, el('h2', {}, title), ...body);
}

/** Silos: interactions between each pair of groups as a table whose cells shade with the count. */
function heatMap(between: { a: Key; b: Key; interactions: Figure }[], n: number): HTMLElement {
  const names = [...new Set(between.flatMap((x) => [groupName(x.a), groupName(x.b)]))].sort();
  if (names.length === 0) return el('p', {}, t('common.none'));
  const cells = new Map<string, Figure>();
  for (const x of between) {
    cells.set(`${groupName(x.a)}|${groupName(x.b)}`, x.interactions);
    cells.set(`${groupName(x.b)}|${groupName(x.a)}`, x.interactions);
  }
  const max = Math.max(1, ...between.map((x) => x.interactions.value ?? 0));
  const rows = names.map((row) =>
    el(
      'tr',
      {},
      el('th', { scope: 'row' }, row),
      ...names.map((col) => {
        const f = cells.get(`${row}|${col}`);
        const td = el('td', { class: 'heat' }, figureCell('interactions', f, n));
        if (f && !f.withheld && f.value) {
          // Lightness carries the value, so the map reads without colour vision too; text stays legible.
          const strength = f.value / max;
          td.style.backgroundColor = `rgba(0, 114, 178, ${(0.08 + 0.8 * strength).toFixed(2)})`;
          if (strength > 0.55) td.style.color = '#fff';
        }
        return td;
      }),
    ),
  );
  return el(
    'div',
    { class: 'scroll' },
    el(
      'table',
      { class: 'heatmap' },
      el('caption', {}, t('leadership.ties')),
      el('thead', {}, el('tr', {}, el('th', {}, ''), ...names.map((c) => el('th', { scope: 'col' }, c)))),
      el('tbody', {}, ...rows),
    ),
  );
}

export async function renderLeadership(main: HTMLElement, _s: Session): Promise<void> {
  const lang = currentLang();
  const load = <T>(name: string, by?: string) =>
    get<T & Head>(`/api/adoption/${name}`, { lang, window: '28d', by: by ?? null });
  const [summary, groups, ties, responsiveness, personas, trend, email] = await Promise.all([
    load<{
      benchmark: { swoopAverage: number; target: number };
      company: Group;
      sentences: { text: string }[];
    }>('summary'),
    load<{ groups: Group[] }>('groups', 'department'),
    load<{ groups: Group[]; between: { a: Key; b: Key; interactions: Figure }[] }>(
      'ties',
      'department,location',
    ),
    load<{ groups: Group[] }>('responsiveness', 'department'),
    load<{ groups: Group[] }>('personas', 'department'),
    load<{
      trend: {
        key: Key;
        withheld: string | null;
        weeks?: { week: string; withheld: string | null; figures?: Record<string, Figure> }[];
        forecast?: { week: string; participation_rate: number; low: number; high: number }[];
        active_rate_forecast?: { week: string; active_rate: number; low: number; high: number }[];
      }[];
    }>('trend'),
    load<{
      emailMeetings: {
        key: Key;
        withheld: string | null;
        rollout: string;
        emails_sent?: Figure;
        meetings_attended?: Figure;
      }[];
    }>('email-meetings'),
  ]);
  const n = summary.minGroupSize;
  const w = summary.window;

  const rates = new ChartPanel(t('leadership.rates'), 'chart-rates');
  const trendChart = new ChartPanel(t('leadership.trend'), 'chart-trend');
  const print = el(
    'button',
    { type: 'button', class: 'print', onclick: () => window.print() },
    t('leadership.print'),
  );

  fill(
    main,
    el('h1', {}, t('leadership.title')),
    el('p', { class: 'meta' }, `${t('leadership.window')}: ${w.start} – ${w.end} (${w.days}d)`, ' ', print),
    el(
      'div',
      { class: 'grid' },
      section(
        'summary',
        t('leadership.summary'),
        el('ul', {}, ...summary.sentences.map((s) => el('li', {}, s.text))),
      ),
      rates.element,
      trendChart.element,
      section('groups', t('leadership.groups'), groupsTable(t('leadership.groups'), groups.groups, n)),
      section(
        'ties',
        t('leadership.ties'),
        heatMap(ties.between, n),
        groupsTable(t('leadership.tiesFigures'), ties.groups, n),
      ),
      section(
        'responsiveness',
        t('leadership.responsiveness'),
        groupsTable(t('leadership.responsiveness'), responsiveness.groups, n),
      ),
      section(
        'personas',
        t('leadership.personas'),
        groupsTable(t('leadership.personas'), personas.groups, n),
      ),
      section(
        'email-meetings',
        t('leadership.emailMeetings'),
        email.emailMeetings.length
          ? table(
              t('leadership.emailMeetings'),
              [
                t('leadership.group'),
                t('leadership.rollout', { day: '' }).trim(),
                `${figureLabel('emails_sent')}: ${t('leadership.change')}`,
                `${figureLabel('meetings_attended')}: ${t('leadership.change')}`,
              ],
              email.emailMeetings.map((e) => {
                const did = (f: Figure | undefined) =>
                  e.withheld
                    ? el('span', { class: 'withheld' }, withheldText(e.withheld, n))
                    : !f
                      ? '–'
                      : f.withheld
                        ? el('span', { class: 'withheld' }, withheldText(f.withheld, n))
                        : f.value === null || f.value === undefined
                          ? '–'
                          : `${formatNumber(f.value, 2)} (${formatNumber(f.low ?? Number.NaN, 2)} – ${formatNumber(f.high ?? Number.NaN, 2)})`;
                return [groupName(e.key), e.rollout, did(e.emails_sent), did(e.meetings_attended)];
              }),
            )
          : el('p', {}, t('common.none')),
      ),
    ),
  );

  const company = summary.company.figures ?? {};
  rates.update({
    type: 'bar',
    percent: true,
    labelHeading: t('leadership.group'),
    labels: [...RATES.map(figureLabel)],
    series: [
      {
        label: t('leadership.company'),
        data: RATES.map((r) => (company[r]?.withheld ? null : (company[r]?.value ?? null))),
        notes: RATES.map((r) => {
          const reason = summary.company.withheld ?? company[r]?.withheld;
          return reason ? withheldText(reason, n) : null;
        }),
        color: PALETTE[0] ?? '',
      },
      {
        label: t('leadership.benchmark'),
        data: RATES.map((r) => (r === 'participation_rate' ? summary.benchmark.swoopAverage : null)),
        color: PALETTE[1] ?? '',
      },
      {
        label: t('leadership.target'),
        data: RATES.map((r) => (r === 'participation_rate' ? summary.benchmark.target : null)),
        color: PALETTE[2] ?? '',
      },
    ],
  });

  const companyTrend = trend.trend.find((x) => Object.keys(x.key).length === 0);
  if (companyTrend?.withheld)
    trendChart.element.appendChild(el('p', { class: 'withheld' }, withheldText(companyTrend.withheld, n)));
  const whole = companyTrend?.withheld ? undefined : companyTrend;
  const weeks = whole?.weeks ?? [];
  // The reader picks which figure's weekly series is drawn (and tabled); the rates come with a forecast.
  const metrics = [...new Set(weeks.flatMap((x) => Object.keys(x.figures ?? {})))];
  const pick = el(
    'select',
    { id: 'trend-metric', 'aria-label': t('leadership.trendMetric') },
    ...metrics.map((m) => el('option', { value: m, selected: m === 'participation_rate' }, figureLabel(m))),
  );
  const draw = () => {
    const metric = pick.value;
    const forecast =
      metric === 'participation_rate'
        ? (whole?.forecast ?? []).map((x) => ({ ...x, value: x.participation_rate }))
        : metric === 'active_rate'
          ? (whole?.active_rate_forecast ?? []).map((x) => ({ ...x, value: x.active_rate }))
          : [];
    const reason = (x: (typeof weeks)[number]) => x.withheld ?? x.figures?.[metric]?.withheld ?? null;
    const gap = forecast.map(() => null);
    trendChart.update({
      type: 'line',
      percent: isShare(metric),
      labelHeading: t('leadership.week'),
      labels: [...weeks.map((x) => x.week), ...forecast.map((x) => x.week)],
      series: [
        {
          label: figureLabel(metric),
          data: [...weeks.map((x) => (reason(x) ? null : (x.figures?.[metric]?.value ?? null))), ...gap],
          notes: [...weeks.map((x) => (reason(x) ? withheldText(reason(x) ?? '', n) : null)), ...gap],
        },
        ...(forecast.length
          ? [
              {
                label: t('leadership.forecast'),
                data: [...weeks.map(() => null), ...forecast.map((x) => x.value)],
              },
              { label: t('leadership.low'), data: [...weeks.map(() => null), ...forecast.map((x) => x.low)] },
              {
                label: t('leadership.high'),
                data: [...weeks.map(() => null), ...forecast.map((x) => x.high)],
              },
            ]
          : []),
      ],
    });
  };
  pick.addEventListener('change', draw);
  if (metrics.length) trendChart.element.insertBefore(pick, trendChart.element.children[1] ?? null);
  draw();
}
