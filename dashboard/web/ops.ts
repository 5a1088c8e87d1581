/**
 * The operations/admin view: per-source freshness, the quarantine with raw payloads (as text),
 * the topics editor with live query validation, webhooks (set/missing, test), users and roles, and the
 * audit log.
 */
import { get, type Role, type Session, send } from './api.js';
import { debounce, el, fill, showError, table } from './dom.js';
import { formatNumber, formatTime, type Key, t } from './i18n.js';

interface SourceStatus {
  source: string;
  enabled: boolean;
  mentions: number;
  lastSuccessAt: string | null;
  consecutiveFailures: number;
  waitingUntil: string | null;
  lastError: string | null;
}
interface Quarantined {
  id: number | string;
  source: string;
  reason: string;
  at: string;
  size: number;
}
interface Topic {
  id: string;
  name: string;
  query: string;
  set?: string | null;
}
interface Webhook {
  name: string;
  kind: string;
  secret: 'set' | 'missing';
}
interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  detail: Record<string, unknown> | null;
}
interface User {
  name: string;
  role: Role;
  createdAt: string;
  lastSignInAt: string | null;
}

const ROLES: Role[] = ['comms', 'leadership', 'analyst', 'admin'];
/** The action families the audit log records (pipeline/audit/log.ts callers); the filter is a prefix. */
const AUDIT_PREFIXES = [
  'auth.',
  'backup.',
  'compliance.',
  'config.',
  'erase.',
  'export.',
  'retention.',
  'sql.',
  'topic.',
  'user.',
  'webhook.',
];
const AUDIT_PAGE = 50;
const when = (iso: string | null) => (iso ? formatTime(iso) : t('ops.never'));

function panel(id: string, title: string): HTMLElement {
  return el('section', { class: 'panel wide', id }, el('h2', {}, title));
}

/** Runs `load` into `where`, showing its error there instead of failing the whole view. */
async function into(where: HTMLElement, title: string, load: () => Promise<Node[]>): Promise<void> {
  try {
    fill(where, el('h2', {}, title), ...(await load()));
  } catch (err) {
    const box = el('div');
    showError(box, err);
    fill(where, el('h2', {}, title), box);
  }
}

function roleSelect(value: Role, label: string): HTMLSelectElement {
  const s = el(
    'select',
    { 'aria-label': label },
    ...ROLES.map((r) => el('option', { value: r }, t(`role.${r}` as Key))),
  );
  s.value = value;
  return s;
}

export async function renderOps(main: HTMLElement, _s: Session): Promise<void> {
  const sources = panel('sources', t('ops.sources'));
  const quarantine = panel('quarantine', t('ops.quarantine'));
  const topics = panel('topics', t('ops.topics'));
  const webhooks = panel('webhooks', t('ops.webhooks'));
  const users = panel('users', t('ops.users'));
  const audit = panel('audit', t('ops.audit'));
  fill(
    main,
    el('h1', {}, t('ops.title')),
    el('div', { class: 'grid' }, sources, quarantine, topics, webhooks, users, audit),
  );

  const loadSources = () =>
    into(sources, t('ops.sources'), async () => {
      const answer = await get<{ sources: SourceStatus[] }>('/api/status');
      return [
        el(
          'div',
          { class: 'scroll' },
          table(
            t('ops.sources'),
            [
              t('ops.source'),
              t('ops.enabled'),
              t('ops.mentions'),
              t('ops.lastSuccess'),
              t('ops.failures'),
              t('ops.waiting'),
              t('ops.lastError'),
            ],
            answer.sources.map((s) => [
              s.source,
              s.enabled ? t('ops.on') : t('ops.off'),
              formatNumber(s.mentions),
              when(s.lastSuccessAt),
              el(
                'span',
                { class: s.consecutiveFailures > 0 ? 'bad' : '' },
                formatNumber(s.consecutiveFailures),
              ),
              s.waitingUntil ? formatTime(s.waitingUntil) : '',
              s.lastError ?? '',
            ]),
          ),
        ),
      ];
    });

  const payload = el('pre', { class: 'payload', id: 'payload', hidden: true });
  const loadQuarantine = () =>
    into(quarantine, t('ops.quarantine'), async () => {
      const list = await get<Quarantined[]>('/api/quarantine', { limit: 50 });
      const view = async (q: Quarantined) => {
        try {
          const item = await get<{ payload: string }>(`/api/quarantine/${encodeURIComponent(String(q.id))}`);
          payload.hidden = false;
          payload.setAttribute('aria-label', t('ops.payload', { id: String(q.id) }));
          payload.textContent = item.payload;
        } catch (err) {
          showError(payload, err);
        }
      };
      return [
        list.length === 0
          ? el('p', {}, t('common.none'))
          : el(
              'div',
              { class: 'scroll' },
              table(
                t('ops.quarantine'),
                [t('ops.source'), t('ops.reason'), t('ops.at'), t('ops.size'), ''],
                list.map((q) => [
                  q.source,
                  q.reason,
                  formatTime(q.at),
                  formatNumber(q.size),
                  el('button', { type: 'button', class: 'view', onclick: () => void view(q) }, t('ops.view')),
                ]),
              ),
            ),
        payload,
      ];
    });

  // Topics editor: the query is checked by the server as it is typed.
  const id = el('input', { id: 't-id', required: true, 'aria-label': t('ops.topicId') });
  const name = el('input', { id: 't-name', required: true, 'aria-label': t('common.name') });
  const query = el('textarea', { id: 't-query', rows: 2, required: true, 'aria-label': t('ops.query') });
  const set = el('input', { id: 't-set', 'aria-label': t('ops.set') });
  const validity = el('p', { id: 't-validity', role: 'status', 'aria-live': 'polite' });
  const validate = debounce(async () => {
    if (!query.value.trim()) return fill(validity);
    try {
      const answer = await send<{ ok: boolean; error?: string; position?: number }>(
        'POST',
        '/api/topics/validate',
        { query: query.value },
      );
      validity.className = answer.ok ? 'ok' : 'error';
      fill(
        validity,
        answer.ok
          ? t('ops.valid')
          : t('ops.invalid', { position: answer.position ?? 0, error: answer.error ?? '' }),
      );
    } catch (err) {
      showError(validity, err);
    }
  }, 300);
  query.addEventListener('input', validate);
  const editor = el(
    'form',
    {
      class: 'topic-editor',
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          await send('PUT', `/api/topics/${encodeURIComponent(id.value)}`, {
            name: name.value,
            query: query.value,
            set: set.value || null,
          });
          await loadTopics();
        } catch (err) {
          showError(validity, err);
        }
      },
    },
    el('label', {}, t('ops.topicId'), id),
    el('label', {}, t('common.name'), name),
    el('label', {}, t('ops.query'), query),
    el('label', {}, t('ops.set'), set),
    el('button', { type: 'submit' }, t('common.save')),
    validity,
  );
  const loadTopics = () =>
    into(topics, t('ops.topics'), async () => {
      const list = await get<Topic[]>('/api/topics');
      const edit = (tp: Topic) => {
        id.value = tp.id;
        name.value = tp.name;
        query.value = tp.query;
        set.value = tp.set ?? '';
        validate();
      };
      return [
        el(
          'div',
          { class: 'scroll' },
          table(
            t('ops.topics'),
            [t('ops.topicId'), t('common.name'), t('ops.query'), t('ops.set'), ''],
            list.map((tp) => [
              tp.id,
              tp.name,
              el('code', {}, tp.query),
              tp.set ?? '',
              el(
                'span',
                { class: 'actions' },
                el('button', { type: 'button', onclick: () => edit(tp) }, t('ops.edit')),
                el(
                  'button',
                  {
                    type: 'button',
                    class: 'delete',
                    onclick: async () => {
                      await send('DELETE', `/api/topics/${encodeURIComponent(tp.id)}`).catch((err) =>
                        showError(validity, err),
                      );
                      await loadTopics();
                    },
                  },
                  t('common.delete'),
                ),
              ),
            ]),
          ),
        ),
        editor,
      ];
    });

  const loadWebhooks = () =>
    into(webhooks, t('ops.webhooks'), async () => {
      const list = await get<Webhook[]>('/api/webhooks');
      return [
        list.length === 0
          ? el('p', {}, t('common.none'))
          : table(
              t('ops.webhooks'),
              [t('common.name'), t('ops.kind'), t('ops.secret'), ''],
              list.map((w) => {
                const result = el('span', { class: 'result', role: 'status' });
                const test = el('button', { type: 'button', class: 'test' }, t('ops.test'));
                test.addEventListener('click', async () => {
                  try {
                    const answer = await send<{ ok: boolean; status: number; error?: string }>(
                      'POST',
                      `/api/webhooks/${encodeURIComponent(w.name)}/test`,
                    );
                    fill(
                      result,
                      answer.ok
                        ? t('ops.testOk', { status: answer.status })
                        : t('ops.testFailed', { error: answer.error ?? String(answer.status) }),
                    );
                  } catch (err) {
                    showError(result, err);
                  }
                });
                return [
                  w.name,
                  w.kind,
                  w.secret === 'set' ? t('ops.set_') : el('span', { class: 'bad' }, t('ops.missing')),
                  el('span', {}, test, ' ', result),
                ];
              }),
            ),
      ];
    });

  const userName = el('input', {
    id: 'u-name',
    required: true,
    'aria-label': t('common.name'),
    placeholder: t('common.name'),
  });
  const userPassword = el('input', {
    id: 'u-password',
    type: 'password',
    required: true,
    autocomplete: 'new-password',
    'aria-label': t('ops.password'),
    placeholder: t('ops.password'),
  });
  const userRole = roleSelect('comms', t('ops.role'));
  const userNote = el('div');
  const loadUsers = () =>
    into(users, t('ops.users'), async () => {
      const list = await get<User[]>('/api/users');
      return [
        table(
          t('ops.users'),
          [t('common.name'), t('ops.role'), t('ops.created'), t('ops.lastSignIn'), ''],
          list.map((u) => {
            const role = roleSelect(u.role, t('ops.role'));
            role.addEventListener(
              'change',
              () =>
                void send('PATCH', `/api/users/${encodeURIComponent(u.name)}`, { role: role.value }).catch(
                  (err) => showError(userNote, err),
                ),
            );
            return [
              u.name,
              role,
              formatTime(u.createdAt),
              when(u.lastSignInAt),
              el(
                'button',
                {
                  type: 'button',
                  class: 'delete',
                  onclick: async () => {
                    await send('DELETE', `/api/users/${encodeURIComponent(u.name)}`).catch((err) =>
                      showError(userNote, err),
                    );
                    await loadUsers();
                  },
                },
                t('common.delete'),
              ),
            ];
          }),
        ),
        el(
          'form',
          {
            class: 'inline',
            onsubmit: async (e) => {
              e.preventDefault();
              try {
                await send('POST', '/api/users', {
                  name: userName.value,
                  password: userPassword.value,
                  role: userRole.value,
                });
                userName.value = '';
                userPassword.value = '';
                await loadUsers();
              } catch (err) {
                showError(userNote, err);
              }
            },
          },
          userName,
          userPassword,
          userRole,
          el('button', { type: 'submit' }, t('ops.addUser')),
        ),
        userNote,
      ];
    });

  // The audit log, newest first: "older" pages back by the last id shown, a new filter starts over.
  let entries: AuditEntry[] = [];
  const auditAction = el(
    'select',
    { id: 'audit-action', onchange: () => void loadAudit() },
    el('option', { value: '' }, t('ops.allActions')),
    ...AUDIT_PREFIXES.map((p) => el('option', { value: p }, p)),
  );
  const older = el(
    'button',
    { type: 'button', class: 'more', onclick: () => void loadAudit(true) },
    t('ops.older'),
  );
  const loadAudit = (back = false) =>
    into(audit, t('ops.audit'), async () => {
      const answer = await get<{ entries: AuditEntry[] }>('/api/audit', {
        action: auditAction.value,
        limit: AUDIT_PAGE,
        before: back ? entries.at(-1)?.id : null,
      });
      entries = back ? [...entries, ...answer.entries] : answer.entries;
      older.hidden = answer.entries.length < AUDIT_PAGE;
      return [
        el('div', { class: 'filters' }, el('label', {}, t('ops.action'), auditAction)),
        entries.length === 0
          ? el('p', {}, t('common.none'))
          : el(
              'div',
              { class: 'scroll' },
              table(
                t('ops.audit'),
                [t('ops.at'), t('ops.actor'), t('ops.action'), t('ops.target'), t('ops.detail')],
                entries.map((e) => [
                  formatTime(e.at),
                  e.actor,
                  e.action,
                  e.target ?? '',
                  e.detail ? el('code', {}, JSON.stringify(e.detail)) : '',
                ]),
              ),
            ),
        older,
      ];
    });

  await Promise.all([
    loadSources(),
    loadQuarantine(),
    loadTopics(),
    loadWebhooks(),
    loadUsers(),
    loadAudit(),
  ]);
}
