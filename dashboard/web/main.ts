/**
 * The one entry of every page: the page names its view in <body data-view>; this asks the server who
 * is signed in, draws the header (nav limited to the role's views, language, demo banner, sign-out)
 * and then the view. Sign-in is needed for every view but the login page.
 */

import { renderAnalyst } from './analyst.js';
import { ApiError, type Role, type Session, send, session, switchDemoRole, VIEWS } from './api.js';
import { renderComms } from './comms.js';
import { el, fill, showError } from './dom.js';
import { currentLang, type Key, type Lang, setLang, t } from './i18n.js';
import { renderLeadership } from './leadership.js';
import { renderLogin } from './login.js';
import { renderOps } from './ops.js';

const RENDER: Record<string, (main: HTMLElement, s: Session) => Promise<void>> = {
  comms: renderComms,
  leadership: renderLeadership,
  analyst: renderAnalyst,
  ops: renderOps,
};

const ROLES: Role[] = ['comms', 'leadership', 'analyst', 'admin'];

function demoBanner(s: Session): HTMLElement | null {
  if (!s.demo) return null;
  const picker = el(
    'select',
    { id: 'demo-role', onchange: () => void switchDemoRole(picker.value as Role) },
    ...ROLES.map((r) => el('option', { value: r, selected: s.user?.role === r }, t(`role.${r}` as Key))),
  );
  return el(
    'div',
    { class: 'demo-banner', role: 'note' },
    el('span', {}, t('demo.banner')),
    s.user ? el('label', {}, `${t('demo.role')} `, picker) : null,
  );
}

function languageSwitch(): HTMLElement {
  const picker = el(
    'select',
    {
      id: 'lang',
      onchange: () => {
        setLang(picker.value as Lang);
        location.reload();
      },
    },
    el('option', { value: 'en', selected: currentLang() === 'en' }, 'English'),
    el('option', { value: 'ko', selected: currentLang() === 'ko' }, '한국어'),
  );
  return el('label', { class: 'lang' }, `${t('lang.label')} `, picker);
}

function header(s: Session, view: string): HTMLElement {
  const user = s.user;
  const nav = user
    ? el(
        'nav',
        { 'aria-label': t('nav.label') },
        ...VIEWS[user.role].map((v) =>
          el('a', { href: `/${v}`, 'aria-current': v === view ? 'page' : null }, t(`nav.${v}` as Key)),
        ),
      )
    : null;
  const signOut = user
    ? el(
        'button',
        {
          id: 'sign-out',
          type: 'button',
          onclick: async () => {
            await send('DELETE', '/api/session');
            location.assign('/login');
          },
        },
        t('session.signOut'),
      )
    : null;
  return el(
    'header',
    { class: 'top' },
    demoBanner(s),
    el(
      'div',
      { class: 'bar' },
      el('span', { class: 'brand' }, t('app.title')),
      nav,
      el(
        'div',
        { class: 'who' },
        user
          ? el('span', {}, t('session.signedInAs', { name: user.name, role: t(`role.${user.role}` as Key) }))
          : null,
        languageSwitch(),
        signOut,
      ),
    ),
  );
}

async function start(): Promise<void> {
  document.documentElement.lang = currentLang();
  document.title = t('app.title');
  const view = document.body.dataset.view ?? '';
  const main = document.getElementById('main') as HTMLElement;
  const s = await session();
  if (view === 'home') {
    location.replace(s.user ? `/${VIEWS[s.user.role][0]}` : '/login');
    return;
  }
  if (view === 'login') {
    document.body.prepend(header(s, view));
    await renderLogin(main, s);
    main.dataset.ready = 'true';
    return;
  }
  if (!s.user) {
    location.replace(`/login?next=${encodeURIComponent(location.pathname)}`);
    return;
  }
  document.body.prepend(header(s, view));
  const render = RENDER[view];
  if (!render || !VIEWS[s.user.role].includes(view)) {
    fill(
      main,
      el('p', { class: 'error forbidden', role: 'alert' }, t('common.forbidden', { role: s.user.role })),
    );
  } else {
    try {
      await render(main, s);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return location.replace('/login');
      showError(main, err);
    }
  }
  // Drawn (or failed visibly): what the browser tests and screenshots wait for.
  main.dataset.ready = 'true';
}

void start();
