/**
 * Sign-in, sessions, CSRF and roles for the HTTP app (issue 6, part 4; API.md "Session").
 * `session` runs on every request: it sets res.locals.user for a valid Bearer local token (the CLI:
 * user 'cli', admin, exempt from CSRF) or a live cookie session, and refuses a state-changing
 * request from a cookie session without its CSRF token. `allow(...roles)` guards routes.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import {
  ABSOLUTE_MS,
  actorOf,
  endSession,
  findSession,
  type NewSession,
  type Session,
  signIn,
  signInDemo,
} from '../pipeline/auth/sessions.js';
import { addUser, checkName, checkRole, listUsers, removeUser, updateUser } from '../pipeline/auth/users.js';
import { isDemo } from '../pipeline/demo/flag.js';
import { UserError } from '../pipeline/errors.js';
import type { Services } from '../pipeline/verbs.js';
import { type Allow, currentUser, type SessionUser } from './roles.js';

export const SESSION_COOKIE = 'earshot_session';
/** The pre-session cookie: sign-in forms prove with it that the page came from us (login CSRF). */
export const CSRF_COOKIE = 'earshot_csrf';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** POSTs that sign in check the pre-session token themselves (a session token is accepted there too). */
const SIGN_IN = new Set(['/api/session', '/api/demo/role']);
/** Failed sign-ins allowed per client address and per name in the window (then 429). */
const SIGN_IN_FAILURES = 10;
const SIGN_IN_WINDOW_MS = 15 * 60_000;

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function bearer(req: Request): string {
  const header = req.get('authorization') ?? '';
  return header.startsWith('Bearer ') ? header.slice(7) : '';
}

/** The local token only (CLI verbs over the loopback API); a browser session never passes. */
export function requireLocalToken(getToken: () => string) {
  return function localTokenAuth(req: Request, _res: Response, next: NextFunction): void {
    const given = bearer(req);
    const token = getToken();
    if (!given || !token || !sameToken(given, token)) {
      next(new UserError('missing or wrong local token', 401));
      return;
    }
    next();
  };
}

function cookies(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    // Our values are base64url: anything else is not ours and is ignored.
    const value = part.slice(eq + 1).trim();
    if (/^[A-Za-z0-9_-]{1,100}$/.test(value) && !Object.hasOwn(out, name)) out[name] = value;
  }
  return out;
}

function cookieOptions(req: Request) {
  return { httpOnly: true, sameSite: 'strict' as const, path: '/', secure: req.secure };
}

export const allow: Allow = (...roles) =>
  function allowRoles(_req: Request, res: Response, next: NextFunction): void {
    const user = res.locals.user as SessionUser | undefined;
    if (!user) next(new UserError('sign in first', 401));
    else if (user.role !== 'admin' && !roles.includes(user.role))
      next(new UserError(`the ${user.role} role may not use this`, 403));
    else next();
  };

export interface Auth {
  session: RequestHandler;
  routes: express.Router;
}

export function createAuth(services: Services, getLocalToken: () => string): Auth {
  const { store } = services;
  // Pre-session CSRF tokens are an HMAC of the cookie under a key that lives as long as the process:
  // a cookie planted by someone else (a sibling subdomain) cannot come with a matching token.
  const csrfKey = randomBytes(32);
  const preSessionToken = (id: string) => createHmac('sha256', csrfKey).update(id).digest('base64url');

  async function session(req: Request, res: Response, next: NextFunction): Promise<void> {
    const localToken = getLocalToken();
    const given = bearer(req);
    if (given && localToken && sameToken(given, localToken)) {
      res.locals.user = { name: 'cli', role: 'admin' } satisfies SessionUser;
      return next();
    }
    const cookie = cookies(req)[SESSION_COOKIE];
    const found = cookie ? await findSession(store, cookie, services.now()) : null;
    if (found) {
      res.locals.user = found.user;
      res.locals.session = found;
      if (
        UNSAFE.has(req.method) &&
        !(req.method === 'POST' && SIGN_IN.has(req.path)) &&
        !sameToken(req.get('x-csrf-token') ?? '', found.csrf)
      )
        throw new UserError('missing or wrong CSRF token', 403);
    }
    next();
  }

  /** The browser's pre-session id, set when missing; its token is what sign-in forms send. */
  function preSession(req: Request, res: Response): string {
    let id = cookies(req)[CSRF_COOKIE];
    if (!id) {
      id = randomBytes(32).toString('base64url');
      res.cookie(CSRF_COOKIE, id, cookieOptions(req));
    }
    return preSessionToken(id);
  }

  function checkSignInCsrf(req: Request, res: Response): void {
    const given = req.get('x-csrf-token') ?? '';
    const id = cookies(req)[CSRF_COOKIE];
    const current = res.locals.session as Session | undefined;
    if ((id && sameToken(given, preSessionToken(id))) || (current && sameToken(given, current.csrf))) return;
    throw new UserError('missing or wrong CSRF token', 403);
  }

  function startSession(req: Request, res: Response, opened: NewSession): void {
    res.cookie(SESSION_COOKIE, opened.token, { ...cookieOptions(req), maxAge: ABSOLUTE_MS });
    res.json({ user: opened.user, csrf: opened.csrf });
  }

  // Failures only (skipSuccessfulRequests): a user who signs in fine is never slowed down.
  const limiter = (keyGenerator: (req: Request) => string) =>
    rateLimit({
      windowMs: SIGN_IN_WINDOW_MS,
      limit: SIGN_IN_FAILURES,
      skipSuccessfulRequests: true,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      keyGenerator,
      handler: (_req, _res, next) =>
        next(new UserError('too many failed sign-ins; wait and try again (see Retry-After)', 429)),
    });
  const perAddress = limiter((req) => ipKeyGenerator(req.ip ?? ''));
  const perName = limiter((req) => {
    const name = (req.body as { name?: unknown } | undefined)?.name;
    return `name:${typeof name === 'string' ? name.trim().toLowerCase().slice(0, 100) : ''}`;
  });

  const router = express.Router();

  router.get('/api/session', async (req, res) => {
    const current = res.locals.session as Session | undefined;
    const csrf = preSession(req, res);
    if (!current && cookies(req)[SESSION_COOKIE]) res.clearCookie(SESSION_COOKIE, cookieOptions(req));
    res.json({ user: current?.user ?? null, csrf: current?.csrf ?? csrf, demo: await isDemo(store) });
  });

  router.post('/api/session', perAddress, perName, async (req, res) => {
    checkSignInCsrf(req, res);
    const body = (req.body ?? {}) as { name?: unknown; password?: unknown };
    if (typeof body.name !== 'string' || body.name === '') throw new UserError('name: give your user name');
    if (typeof body.password !== 'string' || body.password === '')
      throw new UserError('password: give your password');
    const current = res.locals.session as Session | undefined;
    const credentials = { name: body.name, password: body.password };
    const opened = await signIn(store, credentials, services.now(), current?.tokenHash ?? null);
    if (!opened) throw new UserError('wrong name or password', 401);
    startSession(req, res, opened);
  });

  router.delete('/api/session', async (req, res) => {
    const current = res.locals.session as Session | undefined;
    if (current) await endSession(store, current, services.now());
    res.clearCookie(SESSION_COOKIE, cookieOptions(req));
    res.status(204).end();
  });

  router.post('/api/demo/role', async (req, res) => {
    if (!(await isDemo(store)))
      throw new UserError('the role switcher exists only in a demo database; sign in instead', 403);
    checkSignInCsrf(req, res);
    const role = checkRole((req.body as { role?: unknown } | undefined)?.role);
    const current = res.locals.session as Session | undefined;
    startSession(req, res, await signInDemo(store, role, services.now(), current?.tokenHash ?? null));
  });

  const admin = allow('admin');
  router.get('/api/users', admin, async (_req, res) => {
    res.json(await listUsers(store));
  });
  router.post('/api/users', admin, async (req, res) => {
    const body = (req.body ?? {}) as { name?: unknown; role?: unknown; password?: unknown };
    const user = await addUser(
      store,
      { name: body.name, role: body.role, password: body.password },
      actorOf(currentUser(res)),
      services.now(),
    );
    res.status(201).json(user);
  });
  router.patch('/api/users/:name', admin, async (req, res) => {
    const body = (req.body ?? {}) as { role?: unknown; password?: unknown };
    const changes = {
      ...(body.role === undefined ? {} : { role: body.role }),
      ...(body.password === undefined ? {} : { password: body.password }),
    };
    res.json(
      await updateUser(store, checkName(req.params.name), changes, actorOf(currentUser(res)), services.now()),
    );
  });
  router.delete('/api/users/:name', admin, async (req, res) => {
    await removeUser(store, checkName(req.params.name), actorOf(currentUser(res)), services.now());
    res.status(204).end();
  });

  return { session, routes: router };
}
