import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../dashboard/app.js';
import { listAudit, verifyAudit } from '../../pipeline/audit/log.js';
import { addUser } from '../../pipeline/auth/users.js';
import { loadConfig } from '../../pipeline/config.js';
import { markDemo } from '../../pipeline/demo/flag.js';
import type { Store } from '../../pipeline/store.js';
import { openCanonical } from '../adoption/helpers.js';
import { startTestApp, TEST_TOKEN, type TestApp } from '../helpers/app.js';
import { FakeClock } from '../helpers/clock.js';
import { Browser } from './browser.js';

const PASSWORDS = {
  ada: 'ada-admin-passphrase-1',
  cora: 'cora-comms-passphrase-2',
  leo: 'leo-leadership-pass-3',
  ana: 'ana-analyst-passphrase-4',
} as const;
const ROLE = { ada: 'admin', cora: 'comms', leo: 'leadership', ana: 'analyst' } as const;
const HOUR = 3_600_000;

let store: Store;
let cleanup: () => void;
let app: TestApp;
const clock = new FakeClock(Date.parse('2026-11-22T00:00:00Z'));
/** Every session token the server handed out, to prove none is stored or logged. */
const tokens: string[] = [];

async function signedIn(name: keyof typeof PASSWORDS): Promise<Browser> {
  const b = new Browser(app.base);
  const r = await b.signIn(name, PASSWORDS[name]);
  expect(r.status).toBe(200);
  tokens.push(b.cookies.get('earshot_session') ?? '');
  return b;
}

const cookieLine = (b: Browser, name: string) =>
  b.setCookies.filter((c) => c.startsWith(`${name}=`)).at(-1) ?? '';

beforeAll(async () => {
  // The canonical adoption fixture, so adoption routes answer 200 where a role may read them.
  ({ store, cleanup } = await openCanonical());
  for (const name of Object.keys(PASSWORDS) as (keyof typeof PASSWORDS)[])
    await addUser(store, { name, role: ROLE[name], password: PASSWORDS[name] }, 'cli:test', clock.now());
  app = await startTestApp({ store, now: clock.now });
});
afterAll(() => {
  app.close();
  cleanup();
});

describe('GET/POST/DELETE /api/session', () => {
  it('answers who is signed in (nobody yet) with a CSRF token bound to an HttpOnly, SameSite=Strict cookie', async () => {
    const b = new Browser(app.base);
    const r = await b.get('/api/session');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ user: null, csrf: expect.any(String), demo: false });
    const line = cookieLine(b, 'earshot_csrf');
    expect(line).toMatch(/; HttpOnly/);
    expect(line).toMatch(/; SameSite=Strict/);
    expect(line).toMatch(/; Path=\//);
    expect(line).not.toMatch(/Secure/);
    // The token is not the cookie value: a cookie planted by someone else comes with no valid token.
    expect(b.csrf).not.toBe(b.cookies.get('earshot_csrf'));
  });

  it('signs in only with the pre-session CSRF token (login CSRF)', async () => {
    const b = new Browser(app.base);
    const none = await b.send('POST', '/api/session', { body: { name: 'cora', password: PASSWORDS.cora } });
    expect(none.status).toBe(403);
    expect(none.body).toEqual({ error: 'missing or wrong CSRF token' });
    await b.get('/api/session');
    const raw = await b.send('POST', '/api/session', {
      body: { name: 'cora', password: PASSWORDS.cora },
      csrf: b.cookies.get('earshot_csrf') ?? '',
    });
    expect(raw.status).toBe(403);
    const other = new Browser(app.base);
    await other.get('/api/session');
    const foreign = await b.send('POST', '/api/session', {
      body: { name: 'cora', password: PASSWORDS.cora },
      csrf: other.csrf,
    });
    expect(foreign.status).toBe(403);
    expect(b.cookies.has('earshot_session')).toBe(false);
    const ok = await b.send('POST', '/api/session', { body: { name: 'cora', password: PASSWORDS.cora } });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ user: { name: 'cora', role: 'comms' }, csrf: expect.any(String) });
  });

  it('sets the session cookie HttpOnly, SameSite=Strict, Path=/, for 7 days, and stores only its hash', async () => {
    const b = await signedIn('cora');
    const line = cookieLine(b, 'earshot_session');
    expect(line).toMatch(/; HttpOnly/);
    expect(line).toMatch(/; SameSite=Strict/);
    expect(line).toMatch(/; Path=\//);
    expect(line).toMatch(/; Max-Age=604800/);
    expect(line).not.toMatch(/Secure/);
    const token = b.cookies.get('earshot_session') ?? '';
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const rows = await store.query('SELECT token_hash, user_name FROM sessions WHERE user_name = $1', [
      'cora',
    ]);
    expect(rows.map((r) => r.token_hash)).toContain(createHash('sha256').update(token).digest('hex'));
    const me = await b.get('/api/session');
    expect(me.body).toEqual({ user: { name: 'cora', role: 'comms' }, csrf: b.csrf, demo: false });
  });

  it('marks both cookies Secure when the request came over https (through a trusted proxy)', async () => {
    const secureApp = createApp({
      services: app.services,
      logger: app.services.logger,
      getLocalToken: () => TEST_TOKEN,
    });
    secureApp.set('trust proxy', 'loopback');
    const server = secureApp.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const b = new Browser(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      const https = { 'x-forwarded-proto': 'https' };
      await b.get('/api/session', https);
      const r = await b.send('POST', '/api/session', {
        body: { name: 'cora', password: PASSWORDS.cora },
        headers: https,
      });
      expect(r.status).toBe(200);
      tokens.push(b.cookies.get('earshot_session') ?? '');
      expect(cookieLine(b, 'earshot_csrf')).toMatch(/; Secure/);
      expect(cookieLine(b, 'earshot_session')).toMatch(/; Secure/);
    } finally {
      server.close();
    }
  });

  it('answers one message for a wrong password and an unknown name', async () => {
    const b = new Browser(app.base);
    await b.get('/api/session');
    const wrong = await b.send('POST', '/api/session', {
      body: { name: 'cora', password: 'not-her-password' },
    });
    const unknown = await b.send('POST', '/api/session', {
      body: { name: 'nobody', password: 'whatever-it-is' },
    });
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect(wrong.body).toEqual({ error: 'wrong name or password' });
    expect(unknown.body).toEqual(wrong.body);
    const missing = await b.send('POST', '/api/session', { body: { name: 'cora' } });
    expect(missing).toMatchObject({ status: 400, body: { error: 'password: give your password' } });
  });

  it('signs out only with the CSRF token; the old cookie is then worthless', async () => {
    const b = await signedIn('cora');
    const token = b.cookies.get('earshot_session') ?? '';
    expect((await b.send('DELETE', '/api/session', { csrf: null })).status).toBe(403);
    expect((await b.get('/api/mentions/volume')).status).toBe(200);
    expect((await b.send('DELETE', '/api/session')).status).toBe(204);
    expect(b.cookies.has('earshot_session')).toBe(false);
    expect((await b.get('/api/mentions/volume')).status).toBe(401);
    const replay = await b.get('/api/mentions/volume', { cookie: `earshot_session=${token}` });
    expect(replay.status).toBe(401);
  });
});

describe('roles', () => {
  const routes = {
    status: '/api/status',
    alerts: '/api/alerts',
    volume: '/api/mentions/volume',
    adoption: '/api/adoption/summary',
    adoptionAnalyst: '/api/adoption/summary?audience=analyst',
    users: '/api/users',
  };
  const expected: Record<keyof typeof PASSWORDS, Record<keyof typeof routes, number>> = {
    cora: { status: 403, alerts: 200, volume: 200, adoption: 403, adoptionAnalyst: 403, users: 403 },
    leo: { status: 403, alerts: 403, volume: 403, adoption: 200, adoptionAnalyst: 403, users: 403 },
    ana: { status: 403, alerts: 403, volume: 200, adoption: 200, adoptionAnalyst: 200, users: 403 },
    ada: { status: 200, alerts: 200, volume: 200, adoption: 200, adoptionAnalyst: 200, users: 200 },
  };

  it('lets each role use its routes only (admin passes all); nobody signed in gets 401', async () => {
    const anonymous = new Browser(app.base);
    for (const path of Object.values(routes)) expect((await anonymous.get(path)).status, path).toBe(401);
    for (const name of Object.keys(expected) as (keyof typeof PASSWORDS)[]) {
      const b = await signedIn(name);
      const got = Object.fromEntries(
        await Promise.all(Object.entries(routes).map(async ([k, path]) => [k, (await b.get(path)).status])),
      );
      expect(got, name).toEqual(expected[name]);
    }
  });

  it('serves leadership the leadership audience and the analyst the analyst one only when asked', async () => {
    const leo = await signedIn('leo');
    expect(((await leo.get('/api/adoption/summary')).body as { audience: string }).audience).toBe(
      'leadership',
    );
    const refused = await leo.get('/api/adoption/summary?audience=analyst');
    expect(refused.body).toEqual({
      error: 'audience: the leadership role is served the leadership audience only',
    });
    const ana = await signedIn('ana');
    expect(((await ana.get('/api/adoption/summary')).body as { audience: string }).audience).toBe(
      'leadership',
    );
    const full = await ana.get('/api/adoption/summary?audience=analyst');
    expect((full.body as { audience: string }).audience).toBe('analyst');
  });

  it('lets analysts and admins import, nobody else; keeps CLI verbs to the local token', async () => {
    const cora = await signedIn('cora');
    expect((await cora.send('POST', '/api/import', { body: { kind: 'auto', files: [] } })).status).toBe(403);
    const ana = await signedIn('ana');
    const bad = await ana.send('POST', '/api/import', { body: { kind: 'auto', files: [] } });
    expect(bad.status).toBe(400);
    const ada = await signedIn('ada');
    const verb = await ada.send('POST', '/api/verbs/sql', { body: { query: 'SELECT 1' } });
    expect(verb).toMatchObject({ status: 401, body: { error: 'missing or wrong local token' } });
  });

  it('applies a role change to open sessions at once', async () => {
    const admin = await signedIn('ada');
    const leo = await signedIn('leo');
    expect((await leo.get('/api/mentions/volume')).status).toBe(403);
    expect((await admin.send('PATCH', '/api/users/leo', { body: { role: 'comms' } })).status).toBe(200);
    expect((await leo.get('/api/mentions/volume')).status).toBe(200);
    expect((await leo.get('/api/session')).body).toMatchObject({ user: { name: 'leo', role: 'comms' } });
    expect((await admin.send('PATCH', '/api/users/leo', { body: { role: 'leadership' } })).status).toBe(200);
  });
});

describe('CSRF on state-changing requests', () => {
  it('refuses a cookie session without its token, or with another session token; the local token is exempt', async () => {
    const ada = await signedIn('ada');
    const other = await signedIn('ada');
    const body = { name: 'csrf-test', role: 'comms', password: 'csrf-test-password' };
    expect((await ada.send('POST', '/api/users', { body, csrf: null })).status).toBe(403);
    expect((await ada.send('POST', '/api/users', { body, csrf: other.csrf })).body).toEqual({
      error: 'missing or wrong CSRF token',
    });
    expect(await store.query("SELECT name FROM users WHERE name = 'csrf-test'")).toEqual([]);
    expect((await ada.send('POST', '/api/users', { body })).status).toBe(201);
    const cli = new Browser(app.base);
    const viaToken = await cli.send('DELETE', '/api/users/csrf-test', {
      headers: { authorization: `Bearer ${TEST_TOKEN}` },
    });
    expect(viaToken.status).toBe(204);
  });
});

describe('users API (admin)', () => {
  it('adds, lists, changes and removes users, naming bad fields', async () => {
    const ada = await signedIn('ada');
    const bad = await ada.send('POST', '/api/users', {
      body: { name: 'Bad Name', role: 'comms', password: 'long enough password' },
    });
    expect(bad.status).toBe(400);
    expect((bad.body as { error: string }).error).toMatch(/^name: "Bad Name" is not a user name/);
    const role = await ada.send('POST', '/api/users', {
      body: { name: 'mina', role: 'boss', password: 'long enough password' },
    });
    expect(role.body).toEqual({ error: 'role: use one of comms, leadership, analyst, admin' });
    const short = await ada.send('POST', '/api/users', {
      body: { name: 'mina', role: 'comms', password: 'short' },
    });
    expect(short.body).toEqual({ error: 'password: use at least 12 characters' });
    const reserved = await ada.send('POST', '/api/users', {
      body: { name: 'cli', role: 'admin', password: 'long enough password' },
    });
    expect((reserved.body as { error: string }).error).toMatch(/^name: "cli" is reserved/);

    const added = await ada.send('POST', '/api/users', {
      body: { name: 'mina', role: 'comms', password: 'mina-first-password' },
    });
    expect(added).toMatchObject({
      status: 201,
      body: { name: 'mina', role: 'comms', createdAt: clock.now().toISOString(), lastSignInAt: null },
    });
    const again = await ada.send('POST', '/api/users', {
      body: { name: 'mina', role: 'comms', password: 'mina-first-password' },
    });
    expect(again.status).toBe(409);
    const list = (await ada.get('/api/users')).body as { name: string; role: string }[];
    expect(list.map((u) => [u.name, u.role])).toEqual([
      ['ada', 'admin'],
      ['ana', 'analyst'],
      ['cora', 'comms'],
      ['leo', 'leadership'],
      ['mina', 'comms'],
    ]);
    expect(JSON.stringify(list)).not.toMatch(/password|scrypt/);

    const mina = new Browser(app.base);
    expect((await mina.signIn('mina', 'mina-first-password')).status).toBe(200);
    tokens.push(mina.cookies.get('earshot_session') ?? '');
    // A new password signs her out everywhere; the old password no longer works.
    const changed = await ada.send('PATCH', '/api/users/mina', {
      body: { password: 'mina-second-password' },
    });
    expect(changed.status).toBe(200);
    expect((await mina.get('/api/mentions/volume')).status).toBe(401);
    expect((await mina.signIn('mina', 'mina-first-password')).status).toBe(401);
    expect((await mina.signIn('mina', 'mina-second-password')).status).toBe(200);
    tokens.push(mina.cookies.get('earshot_session') ?? '');
    expect((await ada.send('PATCH', '/api/users/mina', { body: {} })).status).toBe(400);
    expect((await ada.send('PATCH', '/api/users/ghost', { body: { role: 'comms' } })).status).toBe(404);

    expect((await ada.send('DELETE', '/api/users/mina')).status).toBe(204);
    expect((await mina.get('/api/mentions/volume')).status).toBe(401);
    expect(await store.query("SELECT * FROM sessions WHERE user_name = 'mina'")).toEqual([]);
  });

  it('refuses to demote or remove the last admin', async () => {
    const ada = await signedIn('ada');
    const demote = await ada.send('PATCH', '/api/users/ada', { body: { role: 'analyst' } });
    expect(demote.status).toBe(409);
    expect((demote.body as { error: string }).error).toContain('ada is the last admin');
    expect((await ada.send('DELETE', '/api/users/ada')).status).toBe(409);
    expect(await store.query("SELECT role FROM users WHERE name = 'ada'")).toEqual([{ role: 'admin' }]);
  });
});

describe('session lifetime (injected clock)', () => {
  it('ends a session after 12 idle hours', async () => {
    const b = await signedIn('cora');
    clock.advance(11 * HOUR);
    expect((await b.get('/api/alerts')).status).toBe(200);
    clock.advance(12 * HOUR - 1);
    expect((await b.get('/api/alerts')).status).toBe(200);
    clock.advance(12 * HOUR);
    expect((await b.get('/api/alerts')).status).toBe(401);
    expect((await b.get('/api/session')).body).toMatchObject({ user: null });
  });

  it('ends a busy session 7 days after sign-in however active it is', async () => {
    const b = await signedIn('cora');
    const start = clock.now().getTime();
    while (clock.now().getTime() + 11 * HOUR < start + 7 * 24 * HOUR) {
      clock.advance(11 * HOUR);
      expect((await b.get('/api/alerts')).status).toBe(200);
    }
    clock.set(new Date(start + 7 * 24 * HOUR));
    expect((await b.get('/api/alerts')).status).toBe(401);
  });
});

describe('demo role switch', () => {
  it('is refused outside a demo database, then signs in as "demo" with the chosen role in one', async () => {
    const b = new Browser(app.base);
    await b.get('/api/session');
    const refused = await b.send('POST', '/api/demo/role', { body: { role: 'admin' } });
    expect(refused.status).toBe(403);
    expect(b.cookies.has('earshot_session')).toBe(false);

    await store.write((conn) => markDemo(conn, 7));
    try {
      expect((await b.get('/api/session')).body).toMatchObject({ user: null, demo: true });
      expect((await b.send('POST', '/api/demo/role', { body: { role: 'comms' }, csrf: null })).status).toBe(
        403,
      );
      const comms = await b.send('POST', '/api/demo/role', { body: { role: 'comms' } });
      expect(comms.body).toEqual({ user: { name: 'demo', role: 'comms' }, csrf: expect.any(String) });
      tokens.push(b.cookies.get('earshot_session') ?? '');
      expect((await b.get('/api/mentions/volume')).status).toBe(200);
      expect((await b.get('/api/adoption/summary')).status).toBe(403);
      const first = b.cookies.get('earshot_session');
      const leadership = await b.send('POST', '/api/demo/role', { body: { role: 'leadership' } });
      expect(leadership.status).toBe(200);
      tokens.push(b.cookies.get('earshot_session') ?? '');
      expect(b.cookies.get('earshot_session')).not.toBe(first);
      expect((await b.get('/api/adoption/summary')).status).toBe(200);
      expect((await b.get('/api/mentions/volume')).status).toBe(403);
      expect((await b.send('POST', '/api/demo/role', { body: { role: 'owner' } })).body).toEqual({
        error: 'role: use one of comms, leadership, analyst, admin',
      });
      // The switch replaced the first session rather than leaving it open.
      expect((await b.get('/api/session', { cookie: `earshot_session=${first}` })).body).toMatchObject({
        user: null,
      });
    } finally {
      await store.write((conn) => conn.run("DELETE FROM database_info WHERE key LIKE 'demo%'"));
    }
  });
});

describe('security headers and binding', () => {
  it('sends a strict CSP and the helmet headers on every answer', async () => {
    const r = await new Browser(app.base).get('/api/health');
    expect(r.headers['content-security-policy']).toBe(
      "default-src 'self';script-src 'self';style-src 'self';img-src 'self' data:;connect-src 'self';object-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'self'",
    );
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['referrer-policy']).toBe('no-referrer');
    expect(r.headers['x-powered-by']).toBeUndefined();
  });

  it('lets no browser or proxy keep an API answer', async () => {
    const b = new Browser(app.base);
    for (const path of ['/api/health', '/api/session', '/api/no-such-route']) {
      const r = await b.get(path);
      expect(r.headers['cache-control'], path).toBe('no-store');
      expect(r.headers.etag, path).toBeUndefined();
    }
  });

  it('binds to 127.0.0.1 unless EARSHOT_HOST says otherwise', () => {
    expect(loadConfig({ EARSHOT_DB: ':memory:', EARSHOT_CONFIG: '' }).host).toBe('127.0.0.1');
    expect(loadConfig({ EARSHOT_DB: ':memory:', EARSHOT_CONFIG: '', EARSHOT_HOST: '0.0.0.0' }).host).toBe(
      '0.0.0.0',
    );
  });
});

describe('audit and secrecy', () => {
  it('audits sign-ins, failures, sign-outs and user changes, with an intact chain', async () => {
    const entries = await listAudit(store, { limit: 1000 });
    const actions = new Set(entries.map((e) => e.action));
    for (const a of [
      'user.add',
      'user.role',
      'user.password',
      'user.remove',
      'auth.sign_in',
      'auth.sign_in_failed',
      'auth.sign_out',
    ])
      expect(actions, a).toContain(a);
    expect(entries.find((e) => e.action === 'user.add' && e.target === 'cora')).toMatchObject({
      actor: 'cli:test',
      detail: { role: 'comms' },
    });
    expect(entries.find((e) => e.action === 'user.add' && e.target === 'mina')).toMatchObject({
      actor: 'ada',
    });
    expect(entries.filter((e) => e.action === 'user.role' && e.target === 'leo')).toContainEqual(
      expect.objectContaining({ actor: 'ada', detail: { from: 'leadership', to: 'comms' } }),
    );
    expect(entries.find((e) => e.action === 'auth.sign_in' && e.actor === 'demo:comms')).toBeDefined();
    // An unknown name is not recorded: people type their password into the name field.
    expect(entries.filter((e) => e.action === 'auth.sign_in_failed')).toContainEqual(
      expect.objectContaining({ actor: 'anonymous', target: null, detail: { reason: 'unknown name' } }),
    );
    expect(JSON.stringify(entries)).not.toContain('nobody');
    expect(await verifyAudit(store)).toEqual({ entries: entries.length, brokenAt: null });
  });

  it('never writes a password or a session token to the database, the audit log or the logs', async () => {
    const secrets = [
      ...Object.values(PASSWORDS),
      'mina-first-password',
      'mina-second-password',
      'csrf-test-password',
      ...tokens,
    ];
    expect(tokens.length).toBeGreaterThan(10);
    expect(tokens.every((t) => t.length === 43)).toBe(true);
    const columns = await store.query(
      `SELECT table_name, column_name FROM information_schema.columns
       WHERE data_type IN ('VARCHAR', 'JSON') AND table_schema = 'main'`,
    );
    expect(columns.length).toBeGreaterThan(20);
    expect(columns).toContainEqual({ table_name: 'users', column_name: 'password_hash' });
    for (const { table_name, column_name } of columns) {
      for (const secret of secrets) {
        const hits = await store.query(
          `SELECT count(*) AS n FROM "${String(table_name)}" WHERE contains("${String(column_name)}"::VARCHAR, $1)`,
          [secret],
        );
        expect(Number(hits[0]?.n), `${String(table_name)}.${String(column_name)}`).toBe(0);
      }
    }
    const logs = app.lines.join('\n');
    for (const secret of secrets) expect(logs).not.toContain(secret);
  });
});
