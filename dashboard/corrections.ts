import express, { type RequestHandler } from 'express';
import { UserError } from '../pipeline/errors.js';
import { correctionArgs, correctSentiment } from '../pipeline/sentiment/corrections.js';
import type { Services } from '../pipeline/verbs.js';
import type { SessionUser } from './roles.js';

/**
 * POST /api/mentions/:source/:id/sentiment {label, note?}: a user's correction of a mention's
 * label, behind `auth`. A browser session's user is who corrected it; `by` in the body counts only
 * for the CLI's local token (no session), so nobody signed in corrects as someone else.
 */
export function correctionRoutes(services: Services, auth: RequestHandler): express.Router {
  const router = express.Router();
  router.post('/api/mentions/:source/:id/sentiment', auth, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const parsed = correctionArgs.safeParse({
      source: req.params.source,
      id: req.params.id,
      label: body.label,
      by: res.locals.session ? (res.locals.user as SessionUser).name : body.by,
      ...(body.note === undefined ? {} : { note: body.note }),
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join('.') || 'request';
      const message = issue?.message ?? 'is not valid';
      throw new UserError(message.startsWith(`${field}:`) ? message : `${field}: ${message}`, 400);
    }
    res.json(await correctSentiment(services.store, services.config.timezone, parsed.data, services.now()));
  });
  return router;
}
