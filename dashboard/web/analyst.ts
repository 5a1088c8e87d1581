/**
 * The analyst view: the read-only SQL console (the server decides what may run and says why it
 * refuses), CSV/Parquet downloads, the schema browser and saved queries.
 */
import { get, type Session, send, sendRaw } from './api.js';
import { el, fill, showError, submitted, table } from './dom.js';
import { formatNumber, t } from './i18n.js';

interface SqlAnswer {
  columns: string[];
  /** One object per row, keyed by column name. */
  rows: Record<string, unknown>[];
  truncated: boolean;
  elapsedMs: number;
}
interface SchemaEntry {
  name: string;
  kind: 'table' | 'view';
  comment: string | null;
  columns: { name: string; type: string; comment: string | null }[];
}
interface SavedQuery {
  id: number | string;
  name: string;
  sql: string;
}

/** A cell as text: objects (lists, structs) as JSON, never as markup. */
const text = (v: unknown) =>
  v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);

export async function renderAnalyst(main: HTMLElement, _s: Session): Promise<void> {
  const editor = el('textarea', {
    id: 'sql',
    rows: 8,
    spellcheck: 'false',
    'aria-label': t('analyst.query'),
  });
  editor.value = 'SELECT source, count(*) AS mentions FROM mentions GROUP BY source ORDER BY mentions DESC';
  const results = el('div', { id: 'results', 'aria-live': 'polite' });
  const run = el('button', { type: 'submit', id: 'run' }, t('analyst.run'));

  async function execute(): Promise<void> {
    fill(results, t('common.loading'));
    try {
      const answer = await send<SqlAnswer>('POST', '/api/sql', { query: editor.value });
      fill(
        results,
        el(
          'p',
          { class: 'meta' },
          t('analyst.rows', { n: formatNumber(answer.rows.length), ms: formatNumber(answer.elapsedMs) }),
        ),
        answer.truncated
          ? el(
              'p',
              { class: 'notice', role: 'status' },
              t('analyst.truncated', { n: formatNumber(answer.rows.length) }),
            )
          : null,
        el(
          'div',
          { class: 'scroll' },
          table(
            t('analyst.results'),
            answer.columns,
            answer.rows.map((r) => answer.columns.map((c) => text(r[c]))),
          ),
        ),
      );
    } catch (err) {
      showError(results, err);
    }
  }

  async function download(format: 'csv' | 'parquet'): Promise<void> {
    try {
      const res = await sendRaw('POST', `/api/sql/export?format=${format}`, { query: editor.value });
      const name =
        /filename="?([^";]+)"?/.exec(res.headers.get('content-disposition') ?? '')?.[1] ??
        `earshot.${format}`;
      const url = URL.createObjectURL(await res.blob());
      const a = el('a', { href: url, download: name });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      showError(results, err);
    }
  }

  const schema = el('section', { class: 'panel', id: 'schema' }, el('h2', {}, t('analyst.schema')));
  const saved = el('section', { class: 'panel', id: 'saved' });
  const saveName = el('input', {
    id: 'save-name',
    'aria-label': t('common.name'),
    placeholder: t('common.name'),
  });

  async function loadSaved(): Promise<void> {
    const list = await get<SavedQuery[]>('/api/queries');
    fill(
      saved,
      el('h2', {}, t('analyst.saved')),
      el(
        'form',
        {
          class: 'inline',
          onsubmit: async (e) => {
            e.preventDefault();
            try {
              await send('POST', '/api/queries', { name: saveName.value, sql: editor.value });
              saveName.value = '';
              await loadSaved();
            } catch (err) {
              showError(results, err);
            }
          },
        },
        saveName,
        el('button', { type: 'submit' }, t('analyst.saveAs')),
      ),
      list.length === 0
        ? el('p', {}, t('common.none'))
        : el(
            'ul',
            {},
            ...list.map((q) =>
              el(
                'li',
                {},
                el(
                  'button',
                  { type: 'button', class: 'link', onclick: () => (editor.value = q.sql) },
                  q.name,
                ),
                ' ',
                el(
                  'button',
                  {
                    type: 'button',
                    class: 'delete',
                    onclick: async () => {
                      await send('DELETE', `/api/queries/${encodeURIComponent(String(q.id))}`).catch((err) =>
                        showError(results, err),
                      );
                      await loadSaved();
                    },
                  },
                  t('common.delete'),
                ),
              ),
            ),
          ),
    );
  }

  fill(
    main,
    el('h1', {}, t('analyst.title')),
    el(
      'div',
      { class: 'grid analyst' },
      el(
        'section',
        { class: 'panel wide' },
        el(
          'form',
          { class: 'console', onsubmit: submitted(execute) },
          el('label', { for: 'sql' }, t('analyst.query')),
          editor,
          el(
            'div',
            { class: 'actions' },
            run,
            el(
              'button',
              { type: 'button', id: 'csv', onclick: () => void download('csv') },
              t('analyst.csv'),
            ),
            el(
              'button',
              { type: 'button', id: 'parquet', onclick: () => void download('parquet') },
              t('analyst.parquet'),
            ),
          ),
        ),
        results,
      ),
      saved,
      schema,
    ),
  );

  const [entries] = await Promise.all([
    get<SchemaEntry[]>('/api/schema'),
    loadSaved().catch((err) => showError(saved, err)),
  ]);
  for (const entry of entries)
    schema.appendChild(
      el(
        'details',
        {},
        el('summary', {}, `${entry.name} (${entry.kind})`),
        entry.comment ? el('p', {}, entry.comment) : null,
        el(
          'ul',
          {},
          ...entry.columns.map((c) =>
            el('li', {}, el('code', {}, c.name), ` ${c.type}`, c.comment ? ` — ${c.comment}` : ''),
          ),
        ),
      ),
    );
}
