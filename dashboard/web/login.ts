/** Sign-in: name and password (POST /api/session), or in a demo database a role to look around as. */
import { type Role, type Session, send, switchDemoRole, useCsrf, VIEWS } from './api.js';
import { el, fill, showError } from './dom.js';
import { type Key, t } from './i18n.js';

/** Where to go after signing in: ?next when it is one of our own paths, else the role's home. */
function destination(role: Role): string {
  const next = new URLSearchParams(location.search).get('next');
  return next && /^\/[a-z]+$/.test(next) ? next : `/${VIEWS[role][0]}`;
}

export async function renderLogin(main: HTMLElement, s: Session): Promise<void> {
  if (s.user) {
    location.replace(destination(s.user.role));
    return;
  }
  if (s.demo) {
    fill(
      main,
      el('h1', {}, t('login.title')),
      el('p', {}, t('login.demo')),
      el(
        'div',
        { class: 'roles' },
        ...(['comms', 'leadership', 'analyst', 'admin'] as const).map((r) =>
          el(
            'button',
            { type: 'button', 'data-role': r, onclick: () => void switchDemoRole(r) },
            t(`role.${r}` as Key),
          ),
        ),
      ),
    );
    return;
  }
  const name = el('input', { id: 'login-name', name: 'name', autocomplete: 'username', required: true });
  const password = el('input', {
    id: 'login-password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const status = el('div', { class: 'status' });
  const form = el(
    'form',
    { class: 'login' },
    el('label', {}, t('login.name'), name),
    el('label', {}, t('login.password'), password),
    el('button', { type: 'submit' }, t('login.submit')),
    status,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const answer = await send<{ user: { role: Role }; csrf: string }>('POST', '/api/session', {
        name: name.value,
        password: password.value,
      });
      useCsrf(answer.csrf);
      location.assign(destination(answer.user.role));
    } catch (err) {
      showError(status, err);
    }
  });
  fill(main, el('h1', {}, t('login.title')), form);
}
