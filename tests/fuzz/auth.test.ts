import { request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF_COOKIE, SESSION_COOKIE } from '../../dashboard/auth.js';
import { addUser } from '../../pipeline/auth/users.js';
import type { Store } from '../../pipeline/store.js';
import { startTestApp, TEST_TOKEN } from '../helpers/app.js';
import { FakeClock } from '../helpers/clock.js';
import { openTestStore } from '../helpers/store.js';
import { weirdString, weirdValue } from './arbitraries.js';
import { options, runs, settleAsync, timeoutFor } from './runs.js';

// Sign-in bodies, session and CSRF cookies and headers come from anyone who can reach the port:
// whatever they hold, the app answers a 4xx with a clear JSON error (or, where nothing was asked of
// it, the signed-out answer), never a 500, and never opens a session.
const clock = new FakeClock(Date.parse('2026-11-22T00:00:00Z'));
const PASSWORD = 'cora-comms-passphrase-2';
let store: Store;
let cleanup: () => void;

beforeAll(async () => {
  ({ store, cleanup } = await openTestStore());
  await addUser(store, { name: 'cora', role: 'comms', password: PASSWORD }, 'cli:test', clock.now());
});
afterAll(() => cleanup());

interface Answer {
  status: number;
  setCookie: string[];
  contentType: string;
  text: string;
}

function send(base: string, method: string, path: string, headers: Record<string, string>, body?: string) {
  return new Promise<Answer>((resolve, reject) => {
    // Framed by its length (a GET body without one would be read as the next request).
    const framed =
      body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
    const req = request(new URL(path, base), { method, headers: framed }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          setCookie: res.headers['set-cookie'] ?? [],
          contentType: String(res.headers['content-type'] ?? ''),
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Header values HTTP can carry (Node refuses to send control characters). */
const headerText = fc
  .oneof(weirdString, fc.string({ maxLength: 200 }))
  .map((s) => s.replace(/[^\t\x20-\x7e\x80-\xff]/g, '').slice(0, 4000));
const tokenLike = fc.oneof(
  headerText,
  fc.base64String({ maxLength: 60 }),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,100}$/),
);
const cookiePair = fc.oneof(
  fc.tuple(
    fc.constantFrom(SESSION_COOKIE, CSRF_COOKIE, `${SESSION_COOKIE} `, 'other', '__proto__'),
    tokenLike,
  ),
  fc.tuple(headerText, headerText),
);
const cookieHeader = fc.oneof(
  fc.array(cookiePair, { maxLength: 4 }).map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('; ')),
  headerText,
);

/** Sign-in bodies: near-miss shapes, wrong types, junk, and text that is not what it claims. */
const body = fc.oneof(
  fc
    .record(
      {
        name: fc.oneof(fc.constantFrom('cora', 'CORA', ' cora', 'cora\u0000'), weirdValue),
        password: weirdValue,
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o)),
  weirdValue.map((v) => JSON.stringify(v) ?? ''),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 300 }),
  fc.constantFrom('{', '{"name":', '[', '"', '{"name":"cora","password":', '\u0000', `${'['.repeat(5000)}`),
);

const requestCase = fc.record({
  route: fc.constantFrom(
    'POST /api/session',
    'POST /api/session',
    'GET /api/session',
    'DELETE /api/session',
    'POST /api/demo/role',
    'GET /api/users',
    'POST /api/users',
    'GET /api/mentions/volume',
  ),
  cookie: fc.option(cookieHeader, { nil: undefined }),
  csrf: fc.option(tokenLike, { nil: undefined }),
  authorization: fc.option(
    fc.oneof(
      headerText,
      tokenLike.map((t) => `Bearer ${t}`),
      fc.constant(`Bearer ${TEST_TOKEN.slice(0, -1)}`),
    ),
    { nil: undefined },
  ),
  contentType: fc.option(
    fc.oneof(
      fc.constantFrom(
        'application/json',
        'application/json; charset=utf-16',
        'application/json; charset=latin-9',
        'application/x-www-form-urlencoded',
        'text/plain',
        'multipart/form-data; boundary=x',
      ),
      headerText,
    ),
    { nil: undefined },
  ),
  contentEncoding: fc.option(fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-nonsense'), {
    nil: undefined,
  }),
  body: fc.option(body, { nil: undefined }),
  /** Ask for a real pre-session first and send its cookie and token: the body parser is then reached. */
  preSession: fc.boolean(),
});

describe('fuzz: sign-in bodies, session and CSRF cookies and headers', () => {
  // Found by the property below: the body parser's errors were answered 500 "internal error".
  it("answers a malformed, oversized or undecodable body with its own 4xx and the parser's message", async () => {
    const app = await startTestApp({ store, now: clock.now });
    try {
      const post = (headers: Record<string, string>, body: string) =>
        send(app.base, 'POST', '/api/session', { 'content-type': 'application/json', ...headers }, body);
      const cases: [Answer, number][] = [
        [await post({}, '{'), 400],
        [await post({ 'content-type': 'application/json; charset=latin-9' }, '{}'), 415],
        [await post({ 'content-encoding': 'x-nonsense' }, '{}'), 415],
        [await post({ 'content-encoding': 'gzip' }, '{}'), 400],
        [await post({}, `"${'a'.repeat(1_100_000)}"`), 413],
      ];
      for (const [a, status] of cases) {
        expect(a.status, a.text).toBe(status);
        expect(JSON.parse(a.text).error).toMatch(/\w+/);
        expect(a.text).not.toContain('internal error');
      }
      expect(app.lines.filter((l) => l.includes('request failed'))).toEqual([]);
    } finally {
      app.close();
    }
  });

  const n = runs(300);
  it(
    `answers 4xx with a JSON error (or signed-out), never 500, never a session (${n} cases)`,
    async () => {
      await fc.assert(
        fc.asyncProperty(requestCase, async (c) => {
          // A fresh app per case: its failed sign-in limiter (10 per address) must not hide the parser.
          const app = await startTestApp({ store, now: clock.now });
          try {
            const [method, path] = c.route.split(' ') as [string, string];
            const headers: Record<string, string> = {};
            if (c.preSession) {
              const pre = await send(app.base, 'GET', '/api/session', {});
              const cookie = pre.setCookie.map((l) => l.split(';')[0]).join('; ');
              headers.cookie = [cookie, c.cookie].filter(Boolean).join('; ');
              headers['x-csrf-token'] = (JSON.parse(pre.text) as { csrf: string }).csrf;
            } else if (c.cookie !== undefined) headers.cookie = c.cookie;
            if (c.csrf !== undefined && !c.preSession) headers['x-csrf-token'] = c.csrf;
            if (c.authorization !== undefined) headers.authorization = c.authorization;
            if (c.contentType !== undefined) headers['content-type'] = c.contentType;
            if (c.contentEncoding !== undefined) headers['content-encoding'] = c.contentEncoding;
            const outcome = await settleAsync(c.route, () => send(app.base, method, path, headers, c.body));
            if (!outcome.ok) throw outcome.error;
            const a = outcome.value;
            const what = `${a.status} ${a.text.slice(0, 300)}`;
            expect(a.status, what).toBeLessThan(500);
            // Nothing opened a session: no session cookie with a value, nobody signed in.
            for (const line of a.setCookie)
              expect(line, what).not.toMatch(new RegExp(`^${SESSION_COOKIE}=[^;]`));
            if (a.status >= 400) {
              expect(a.contentType, what).toMatch(/application\/json/);
              const err = (JSON.parse(a.text) as { error?: unknown }).error;
              expect(typeof err === 'string' && err.length > 0, what).toBe(true);
            } else {
              expect([200, 204], what).toContain(a.status);
              if (c.route === 'GET /api/session') expect(JSON.parse(a.text).user, what).toBeNull();
              else expect(c.route, what).toBe('DELETE /api/session');
            }
            expect(await store.query('SELECT count(*) AS n FROM sessions'), what).toEqual([{ n: 0 }]);
          } finally {
            app.close();
          }
        }),
        options(n, 500),
      );
    },
    timeoutFor(n, 500),
  );
});
