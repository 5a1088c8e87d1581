/**
 * The comms view: filters (topic, comparison set, period) over the mention charts, trending terms,
 * opinion leaders and new voices, alerts with their "why", and the mention stream with one-click
 * sentiment correction. Server-sent events bring new mentions and alerts without reloading.
 */
import { get, type Session, send } from './api.js';
import { ChartPanel, SENTIMENT_COLORS } from './charts.js';
import { el, fill, safeLink, showError, submitted, table } from './dom.js';
import { formatNumber, formatTime, type Key, t } from './i18n.js';

const SENTIMENTS = ['positive', 'neutral', 'negative'] as const;
const RANGES = ['24h', '7d', '30d', '90d', '1y', 'custom'] as const;
type Range = (typeof RANGES)[number];
const RANGE_MS: Record<Exclude<Range, 'custom'>, number> = {
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
  '90d': 90 * 86_400_000,
  '1y': 365 * 86_400_000,
};

interface Topic {
  id: string;
  name: string;
  set?: string | null;
}

interface Point {
  label: string;
  key?: string;
  mentions: number;
}

interface Mention {
  source: string;
  nativeId: string;
  url: string | null;
  title: string | null;
  text: string;
  author: string | null;
  createdAt: string;
  isRepost: boolean;
  lang: string;
  sentiment: string;
  modelSentiment: string;
  correction: { label: string; by: string; at: string } | null;
  copies?: number;
  reposts?: number;
}

interface Alert {
  id: number;
  kind: string;
  status: string;
  topicId: string | null;
  createdAt: string;
  title: string;
  summary: string;
  why: {
    topTerms: { term: string; mentions: number; baseline: number }[];
    topSources: { source: string; mentions: number; share: number }[];
    examples: {
      source: string;
      url: string | null;
      author: string | null;
      text: string;
      createdAt: string;
    }[];
  };
}

interface Leader {
  source: string;
  handle: string | null;
  name: string | null;
  mentions: number;
  engagement: number;
  reach: number;
  firstDay: string;
}

interface Filters {
  topic: string;
  set: string;
  from: string;
  to: string;
  grain: 'hour' | 'day';
}

const sentimentLabel = (s: string) =>
  (SENTIMENTS as readonly string[]).includes(s) ? t(`sentiment.${s}` as Key) : s;

/** Series per key over the bucket labels, in first-seen label order. */
function pivot(points: Point[], keys: readonly string[]): { labels: string[]; data: Map<string, number[]> } {
  const labels = [...new Set(points.map((p) => p.label))];
  const index = new Map(labels.map((l, i) => [l, i]));
  const data = new Map(keys.map((k) => [k, labels.map(() => 0)]));
  for (const p of points) {
    const row = data.get(p.key ?? '');
    const i = index.get(p.label);
    if (row && i !== undefined) row[i] = p.mentions;
  }
  return { labels, data };
}

function select(id: string, label: string, options: [string, string][], value = ''): HTMLSelectElement {
  const s = el(
    'select',
    { id, 'aria-label': label },
    ...options.map(([v, text]) => el('option', { value: v }, text)),
  );
  s.value = value;
  return s;
}

export async function renderComms(main: HTMLElement, _s: Session): Promise<void> {
  const topics = await get<Topic[]>('/api/topics').catch(() => [] as Topic[]);
  const sets = [...new Set(topics.map((tp) => tp.set).filter((x): x is string => !!x))].sort();

  const topicPick = select(
    'f-topic',
    t('comms.topic'),
    [['*', t('comms.allTopics')], ...topics.map((tp): [string, string] => [tp.id, tp.name])],
    '*',
  );
  const setPick = select(
    'f-set',
    t('comms.set'),
    [['', t('comms.noSet')], ...sets.map((x): [string, string] => [x, x])],
    sets[0] ?? '',
  );
  const rangePick = select(
    'f-range',
    t('comms.range'),
    RANGES.map((r) => [r, t(`range.${r}`)]),
    '7d',
  );
  const fromPick = el('input', { id: 'f-from', type: 'date', 'aria-label': t('range.from') });
  const toPick = el('input', { id: 'f-to', type: 'date', 'aria-label': t('range.to') });
  const custom = el('span', { class: 'custom', hidden: true }, fromPick, toPick);
  rangePick.addEventListener('change', () => {
    custom.hidden = rangePick.value !== 'custom';
    if (rangePick.value !== 'custom') void refresh();
  });
  topicPick.addEventListener('change', () => void refresh());
  setPick.addEventListener('change', () => void refresh());

  const filters = (): Filters => {
    const range = rangePick.value as Range;
    let from: Date;
    let to: Date;
    if (range === 'custom' && fromPick.value && toPick.value) {
      from = new Date(`${fromPick.value}T00:00:00`);
      to = new Date(new Date(`${toPick.value}T00:00:00`).getTime() + 86_400_000);
    } else {
      to = new Date();
      from = new Date(to.getTime() - RANGE_MS[range === 'custom' ? '7d' : range]);
    }
    const hourly = to.getTime() - from.getTime() <= RANGE_MS['7d'];
    return {
      topic: topicPick.value,
      set: setPick.value,
      from: from.toISOString(),
      to: to.toISOString(),
      grain: hourly ? 'hour' : 'day',
    };
  };

  const volume = new ChartPanel(t('chart.volume'), 'chart-volume');
  const share = new ChartPanel(t('chart.shareOfVoice'), 'chart-share');
  const net = new ChartPanel(t('chart.sentiment'), 'chart-sentiment');
  const sources = new ChartPanel(t('chart.sources'), 'chart-sources');
  const trending = el('section', { class: 'panel', id: 'trending' });
  const leaders = el('section', { class: 'panel', id: 'leaders' });
  const alerts = el('section', { class: 'panel wide', id: 'alerts' });
  const stream = el('section', { class: 'panel wide', id: 'stream' });

  fill(
    main,
    el('h1', {}, t('comms.title')),
    el(
      'form',
      { class: 'filters', onsubmit: submitted(refresh) },
      el('label', {}, t('comms.topic'), topicPick),
      el('label', {}, t('comms.set'), setPick),
      el('label', {}, t('comms.range'), rangePick),
      custom,
      el('button', { type: 'submit' }, t('comms.apply')),
    ),
    el(
      'div',
      { class: 'grid' },
      alerts,
      volume.element,
      net.element,
      share.element,
      sources.element,
      trending,
      leaders,
      stream,
    ),
  );

  async function charts(f: Filters): Promise<void> {
    const base = { topic: f.topic, from: f.from, to: f.to, grain: f.grain };
    const [vol, trend, bySource] = await Promise.all([
      get<{ points: Point[] }>('/api/mentions/volume', { ...base, by: 'sentiment' }),
      get<{ points: { label: string; net: number | null }[] }>('/api/mentions/sentiment', base),
      get<{ sources: { source: string; mentions: number }[] }>('/api/mentions/sources', base),
    ]);
    const v = pivot(vol.points, SENTIMENTS);
    volume.update({
      type: 'bar',
      stacked: true,
      labelHeading: t('chart.time'),
      labels: v.labels,
      series: SENTIMENTS.map((s) => ({
        label: sentimentLabel(s),
        data: v.data.get(s) ?? [],
        color: SENTIMENT_COLORS[s] ?? '#000',
      })),
    });
    net.update({
      type: 'line',
      labelHeading: t('chart.time'),
      labels: trend.points.map((p) => p.label),
      series: [{ label: t('chart.net'), data: trend.points.map((p) => p.net) }],
    });
    sources.update({
      type: 'bar',
      labelHeading: t('chart.source'),
      labels: bySource.sources.map((x) => x.source),
      series: [{ label: t('chart.mentions'), data: bySource.sources.map((x) => x.mentions) }],
    });
    streamSources = bySource.sources.map((x) => x.source).sort();
    if (f.set) {
      const sov = await get<{ topics: { name: string; share: number | null }[] }>(
        '/api/mentions/share-of-voice',
        {
          set: f.set,
          from: f.from,
          to: f.to,
          grain: f.grain,
        },
      );
      share.element.hidden = false;
      share.update({
        type: 'bar',
        percent: true,
        labelHeading: t('comms.topic'),
        labels: sov.topics.map((x) => x.name),
        series: [{ label: t('chart.share'), data: sov.topics.map((x) => x.share) }],
      });
    } else share.element.hidden = true;
  }

  async function terms(f: Filters): Promise<void> {
    const answer = await get<{ terms: { term: string; recent: number; baseline: number; rise: number }[] }>(
      '/api/mentions/trending',
      { topic: f.topic, from: f.from, to: f.to },
    );
    fill(
      trending,
      el('h2', {}, t('trending.title')),
      answer.terms.length === 0
        ? el('p', {}, t('common.none'))
        : table(
            t('trending.title'),
            [t('trending.term'), t('trending.recent'), t('trending.baseline'), t('trending.rise')],
            answer.terms.map((x) => [
              x.term,
              formatNumber(x.recent),
              formatNumber(x.baseline),
              `×${formatNumber(x.rise, 2)}`,
            ]),
          ),
    );
  }

  async function people(f: Filters): Promise<void> {
    const answer = await get<{ leaders: Leader[]; newVoices: Leader[] }>('/api/mentions/leaders', {
      topic: f.topic,
      from: f.from,
      to: f.to,
      limit: 10,
    });
    const rows = (list: Leader[]) =>
      list.map((l) => [
        `${l.handle ? `@${l.handle}` : (l.name ?? t('stream.unknownAuthor'))} (${l.source})`,
        formatNumber(l.mentions),
        formatNumber(l.engagement),
        formatNumber(l.reach),
        l.firstDay,
      ]);
    const heads = [
      t('leaders.author'),
      t('chart.mentions'),
      t('leaders.engagement'),
      t('leaders.reach'),
      t('leaders.firstSeen'),
    ];
    fill(
      leaders,
      el('h2', {}, t('leaders.title')),
      answer.leaders.length
        ? table(t('leaders.title'), heads, rows(answer.leaders))
        : el('p', {}, t('common.none')),
      el('h3', {}, t('leaders.newVoices')),
      answer.newVoices.length
        ? table(t('leaders.newVoices'), heads, rows(answer.newVoices))
        : el('p', {}, t('common.none')),
    );
  }

  const alertList = el('ul', { class: 'alerts' });
  function alertItem(a: Alert, fresh = false): HTMLLIElement {
    const status = el(
      'span',
      { class: `status status-${a.status}` },
      a.status === 'acked' ? t('alerts.acked') : a.status,
    );
    const ack = el(
      'button',
      { type: 'button', class: 'ack', disabled: a.status !== 'open' },
      t('alerts.ack'),
    );
    ack.addEventListener('click', async () => {
      try {
        await send('POST', `/api/alerts/${a.id}/ack`);
        ack.disabled = true;
        fill(status, t('alerts.acked'));
      } catch (err) {
        showError(note, err);
      }
    });
    const mute = a.topicId ? el('button', { type: 'button', class: 'mute' }, t('alerts.mute')) : null;
    mute?.addEventListener('click', async () => {
      try {
        const until = new Date(Date.now() + 86_400_000).toISOString();
        const answer = await send<{ mutedUntil: string }>(
          'POST',
          `/api/topics/${encodeURIComponent(a.topicId ?? '')}/mute`,
          { until },
        );
        mute.disabled = true;
        fill(note, t('alerts.muted', { until: formatTime(answer.mutedUntil) }));
      } catch (err) {
        showError(note, err);
      }
    });
    const note = el('div', { class: 'note' });
    const why = a.why;
    return el(
      'li',
      { class: fresh ? 'alert fresh' : 'alert', 'data-alert': a.id },
      el(
        'div',
        { class: 'alert-head' },
        el('strong', {}, a.title),
        ' ',
        status,
        ' ',
        el('time', { datetime: a.createdAt }, formatTime(a.createdAt)),
      ),
      el('p', {}, a.summary),
      el(
        'details',
        {},
        el('summary', {}, t('alerts.why')),
        why.topTerms.length
          ? table(
              t('trending.title'),
              [t('trending.term'), t('chart.mentions'), t('trending.baseline')],
              why.topTerms.map((x) => [x.term, formatNumber(x.mentions), formatNumber(x.baseline, 1)]),
            )
          : null,
        why.topSources.length
          ? table(
              t('chart.sources'),
              [t('chart.source'), t('chart.mentions'), t('chart.share')],
              why.topSources.map((x) => [
                x.source,
                formatNumber(x.mentions),
                `${formatNumber(x.share * 100, 1)}%`,
              ]),
            )
          : null,
        el(
          'ul',
          {},
          ...why.examples.map((x) =>
            el(
              'li',
              {},
              `${x.source} · ${x.author ?? t('stream.unknownAuthor')}: `,
              x.text,
              ' ',
              safeLink(x.url, t('stream.original')),
            ),
          ),
        ),
      ),
      el('div', { class: 'actions' }, ack, mute),
      note,
    );
  }

  async function alertsPanel(f: Filters): Promise<void> {
    const answer = await get<{ alerts: Alert[] }>('/api/alerts', {
      topic: f.topic === '*' ? null : f.topic,
      limit: 20,
    });
    fill(alertList, ...answer.alerts.map((a) => alertItem(a)));
    fill(
      alerts,
      el('h2', {}, t('alerts.title')),
      answer.alerts.length ? alertList : el('p', {}, t('common.none')),
    );
  }

  // The mention stream: filters of its own, pages by cursor.
  let streamSources: string[] = [];
  const q = el('input', {
    id: 's-q',
    type: 'search',
    'aria-label': t('stream.search'),
    placeholder: t('stream.search'),
  });
  const sourcePick = select('s-source', t('stream.source'), [['', t('stream.anySource')]]);
  const langPick = select('s-lang', t('stream.lang'), [
    ['', t('stream.anyLang')],
    ['en', 'English'],
    ['ko', '한국어'],
  ]);
  const sentimentPick = select('s-sentiment', t('sentiment.any'), [
    ['', t('sentiment.any')],
    ...SENTIMENTS.map((s): [string, string] => [s, sentimentLabel(s)]),
  ]);
  const list = el('ol', { class: 'mentions' });
  const more = el('button', { type: 'button', class: 'more', hidden: true }, t('stream.more'));
  const liveCount = el('span');
  const showNew = el('button', { type: 'button', id: 'show-new' }, t('stream.showNew'));
  const live = el('div', { class: 'live', hidden: true, role: 'status' }, liveCount, ' ', showNew);
  let cursor: string | null = null;
  let pending = 0;

  function mentionItem(m: Mention): HTMLLIElement {
    const badge = el('span', { class: `badge sentiment-${m.sentiment}` }, sentimentLabel(m.sentiment));
    const correctionNote = el('span', { class: 'correction' });
    const showCorrection = (label: string, by: string | null) => {
      badge.className = `badge sentiment-${label}`;
      fill(badge, sentimentLabel(label));
      fill(
        correctionNote,
        by
          ? `${t('stream.corrected', { by })} · ${t('stream.model', { label: sentimentLabel(m.modelSentiment) })}`
          : '',
      );
    };
    showCorrection(m.sentiment, m.correction?.by ?? null);
    const buttons = SENTIMENTS.map((s) =>
      el(
        'button',
        {
          type: 'button',
          class: `correct sentiment-${s}`,
          'data-label': s,
          'aria-pressed': String(s === m.sentiment),
        },
        sentimentLabel(s),
      ),
    );
    for (const b of buttons)
      b.addEventListener('click', async () => {
        const label = b.dataset.label ?? '';
        try {
          const answer = await send<{ correctedBy: string }>(
            'POST',
            `/api/mentions/${encodeURIComponent(m.source)}/${encodeURIComponent(m.nativeId)}/sentiment`,
            { label },
          );
          for (const o of buttons) o.setAttribute('aria-pressed', String(o === b));
          showCorrection(label, answer.correctedBy);
          await charts(filters());
        } catch (err) {
          showError(correctionNote, err);
        }
      });
    const counts = [
      m.copies ? t('stream.copies', { n: m.copies }) : null,
      m.reposts ? t('stream.reposts', { n: m.reposts }) : null,
    ].filter(Boolean);
    return el(
      'li',
      { class: 'mention', 'data-source': m.source, 'data-id': m.nativeId },
      el(
        'div',
        { class: 'meta' },
        el('span', { class: 'source' }, m.source),
        ' · ',
        el('span', { class: 'author' }, m.author ? `@${m.author}` : t('stream.unknownAuthor')),
        ' · ',
        el('time', { datetime: m.createdAt }, formatTime(m.createdAt)),
        ' · ',
        el('span', { class: 'lang' }, m.lang),
        m.isRepost ? ` · ${t('stream.repost')}` : null,
        ' ',
        badge,
        ' ',
        correctionNote,
      ),
      m.title ? el('h3', { class: 'title' }, m.title) : null,
      el('p', { class: 'text' }, m.text),
      el(
        'div',
        { class: 'actions' },
        safeLink(m.url, t('stream.original')),
        counts.length ? el('span', { class: 'grouped' }, counts.join(' · ')) : null,
        el(
          'span',
          { class: 'correct-group', role: 'group', 'aria-label': t('stream.correct') },
          `${t('stream.correct')}: `,
          ...buttons,
        ),
      ),
    );
  }

  async function loadStream(f: Filters, append = false): Promise<void> {
    const answer = await get<{ results: Mention[]; next: string | null }>('/api/mentions/stream', {
      topic: f.topic,
      from: f.from,
      to: f.to,
      source: sourcePick.value,
      lang: langPick.value,
      sentiment: sentimentPick.value,
      q: q.value.trim(),
      limit: 25,
      before: append ? cursor : null,
    });
    cursor = answer.next;
    more.hidden = cursor === null;
    const items = answer.results.map(mentionItem);
    if (append) for (const i of items) list.appendChild(i);
    else fill(list, ...(items.length ? items : [el('li', { class: 'empty' }, t('common.none'))]));
  }

  more.addEventListener('click', () => void loadStream(filters(), true).catch((err) => showError(list, err)));
  showNew.addEventListener('click', () => void refresh());
  fill(
    stream,
    el('h2', {}, t('stream.title')),
    live,
    el(
      'form',
      {
        class: 'filters',
        onsubmit: submitted(() => loadStream(filters()).catch((err) => showError(list, err))),
      },
      q,
      sourcePick,
      langPick,
      sentimentPick,
      el('button', { type: 'submit' }, t('stream.filter')),
    ),
    list,
    more,
  );

  async function refresh(): Promise<void> {
    const f = filters();
    pending = 0;
    live.hidden = true;
    const parts: [HTMLElement, Promise<void>][] = [
      [volume.element, charts(f)],
      [trending, terms(f)],
      [leaders, people(f)],
      [alerts, alertsPanel(f)],
      [list, loadStream(f)],
    ];
    await Promise.all(parts.map(([where, p]) => p.catch((err) => showError(where, err))));
    const chosen = sourcePick.value;
    fill(
      sourcePick,
      el('option', { value: '' }, t('stream.anySource')),
      ...streamSources.map((s) => el('option', { value: s }, s)),
    );
    sourcePick.value = streamSources.includes(chosen) ? chosen : '';
  }

  const events = new EventSource('/api/events');
  events.addEventListener('mentions', (e) => {
    pending += Number((JSON.parse((e as MessageEvent<string>).data) as { count?: number }).count ?? 0);
    fill(liveCount, t('stream.newMentions', { n: pending }));
    live.hidden = pending === 0;
  });
  events.addEventListener('alert', (e) => {
    const { alert } = JSON.parse((e as MessageEvent<string>).data) as { alert: Alert };
    if (alerts.lastElementChild !== alertList) fill(alerts, el('h2', {}, t('alerts.title')), alertList);
    alertList.prepend(alertItem(alert, true));
  });
  addEventListener('pagehide', () => events.close());

  await refresh();
}
