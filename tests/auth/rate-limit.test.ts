import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../pipeline/auth/users.js';
import type { Store } from '../../pipeline/store.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { openTestStore } from '../helpers/store.js';
import { Browser } from './browser.js';

const NOW = new Date('2026-11-22T00:00:00Z');
let store: Store;
let cleanup: () => void;
let app: TestApp;

beforeAll(async () => {
  ({ store, cleanup } = await openTestStore());
  await addUser(store, { name: 'mina', role: 'comms', password: 'mina-real-password' }, 'cli:test', NOW);
  await addUser(store, { name: 'omar', role: 'comms', password: 'omar-real-password' }, 'cli:test', NOW);
  // Its own app: the limits are per app, and the other auth tests sign in from 127.0.0.1 too.
  app = await startTestApp({ store, now: () => NOW });
});
afterAll(() => {
  app.close();
  cleanup();
});

describe('sign-in rate limit', () => {
  it('does not count successful sign-ins', async () => {
    const b = new Browser(app.base, '127.0.0.3');
    for (let i = 0; i < 11; i++) expect((await b.signIn('omar', 'omar-real-password')).status).toBe(200);
  });

  it('answers 429 with Retry-After after 10 failures, per client address and per name', async () => {
    const attacker = new Browser(app.base, '127.0.0.1');
    await attacker.get('/api/session');
    for (let i = 0; i < 10; i++) {
      const r = await attacker.send('POST', '/api/session', {
        body: { name: 'mina', password: `guess-${i}` },
      });
      expect(r.status).toBe(401);
    }
    const limited = await attacker.send('POST', '/api/session', {
      body: { name: 'mina', password: 'mina-real-password' },
    });
    expect(limited.status).toBe(429);
    expect((limited.body as { error: string }).error).toContain('too many failed sign-ins');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(attacker.cookies.has('earshot_session')).toBe(false);
    // The same address is limited for every name.
    expect((await attacker.signIn('omar', 'omar-real-password')).status).toBe(429);

    // Another address: the attacked name stays limited, other names sign in.
    const other = new Browser(app.base, '127.0.0.2');
    expect((await other.signIn('mina', 'mina-real-password')).status).toBe(429);
    expect((await other.signIn('omar', 'omar-real-password')).status).toBe(200);

    // Limited attempts never reached the password check: only the 10 failures are audited.
    const failed = await store.query(
      "SELECT count(*) AS n FROM audit_log WHERE action = 'auth.sign_in_failed'",
    );
    expect(Number(failed[0]?.n)).toBe(10);
  });
});
