/**
 * Roles (DESIGN.md section 7). Route modules take an `Allow` from the app and guard each route with
 * the roles that may use it; an admin passes every guard. The signed-in user is `res.locals.user`.
 */
import type { RequestHandler, Response } from 'express';

export const ROLES = ['comms', 'leadership', 'analyst', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface SessionUser {
  /** Sign-in name; 'cli' for the local token, 'demo' in a demo database. */
  name: string;
  role: Role;
}

/** Middleware that lets the request through only for a signed-in user holding one of `roles` (or admin). */
export type Allow = (...roles: Role[]) => RequestHandler;

/** The signed-in user of a request that passed a guard. */
export function currentUser(res: Response): SessionUser {
  const user = res.locals.user as SessionUser | undefined;
  if (!user) throw new Error('currentUser called on a route without a guard');
  return user;
}
