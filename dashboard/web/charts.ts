/**
 * Charts (chart.js, served by the app as /assets/chart.umd.js) each with a data table beside it:
 * the table is the accessible alternative and holds the same numbers the chart draws.
 */
import type { ChartConfiguration, Chart as ChartJs } from 'chart.js';
import { el, fill, table } from './dom.js';
import { formatNumber, t } from './i18n.js';

declare const Chart: typeof ChartJs;

/** Okabe–Ito: distinguishable with the common colour-vision deficiencies. */
export const PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#CC79A7',
  '#56B4E9',
  '#D55E00',
  '#F0E442',
  '#000000',
];

/** Sentiment differs in lightness as well as hue (dark blue, light grey, orange), and is always labelled. */
export const SENTIMENT_COLORS: Record<string, string> = {
  positive: '#0072B2',
  neutral: '#BBBBBB',
  negative: '#E69F00',
};

export interface Series {
  label: string;
  data: (number | null)[];
  color?: string;
  /** Text the table shows instead of a missing value (e.g. why it is withheld). */
  notes?: (string | null)[];
}

export interface ChartSpec {
  type: 'bar' | 'line';
  labels: string[];
  series: Series[];
  stacked?: boolean;
  /** Values are shares (0..1): axis and table show percentages. */
  percent?: boolean;
  /** Heading of the label column in the table. */
  labelHeading: string;
}

const cell = (v: number | null, percent: boolean) =>
  v === null ? '–' : percent ? `${formatNumber(v * 100, 1)}%` : formatNumber(v, 2);

/** A titled chart with its data table (in a <details>), updated in place as filters change. */
export class ChartPanel {
  readonly element: HTMLElement;
  private readonly canvas = el('canvas', { role: 'img' });
  private readonly tableHolder = el('div');
  private chart: ChartJs | null = null;

  constructor(
    private readonly title: string,
    id: string,
  ) {
    this.canvas.setAttribute('aria-label', title);
    this.element = el(
      'section',
      { class: 'panel', id },
      el('h2', {}, title),
      el('div', { class: 'chart-box' }, this.canvas),
      el('details', { class: 'data-table' }, el('summary', {}, t('common.data')), this.tableHolder),
    );
  }

  update(spec: ChartSpec): void {
    const percent = spec.percent ?? false;
    fill(
      this.tableHolder,
      table(
        this.title,
        [spec.labelHeading, ...spec.series.map((s) => s.label)],
        spec.labels.map((label, i) => [
          label,
          ...spec.series.map((s) => s.notes?.[i] ?? cell(s.data[i] ?? null, percent)),
        ]),
      ),
    );
    const config: ChartConfiguration = {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.series.map((s, i) => {
          const color = s.color ?? PALETTE[i % PALETTE.length] ?? '#000000';
          return {
            label: s.label,
            data: s.data,
            backgroundColor: color,
            borderColor: color,
            borderWidth: spec.type === 'line' ? 2 : 0,
            pointRadius: spec.type === 'line' ? 2 : 0,
            spanGaps: true,
          };
        }),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { position: 'bottom' } },
        scales: {
          x: { stacked: spec.stacked ?? false, ticks: { maxRotation: 0, autoSkip: true } },
          y: {
            stacked: spec.stacked ?? false,
            beginAtZero: true,
            ...(percent
              ? { ticks: { callback: (v: string | number) => `${Math.round(Number(v) * 100)}%` } }
              : {}),
          },
        },
      },
    };
    if (this.chart) {
      this.chart.data = config.data;
      this.chart.update();
    } else this.chart = new Chart(this.canvas, config);
  }
}
