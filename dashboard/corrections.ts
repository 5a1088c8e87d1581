import express, { type RequestHandler } from 'express';
import { UserError } from '../pipeline/errors.js';
import { correctionArgs, correctSentiment } from '../pipeline/sentiment/corrections.js';
import type { Services } from '../pipeline/verbs.js';
import type { SessionUser } from './roles.js';

/**
 * POST /api/mentions/:source/:id/sentiment {label, note?}: a user's correction of a mention's
 * label, behind `auth`. The signed-in user is who corrected it; `by` in the body counts only for a
 * caller without a user (the local token before sign-in existed), so nobody corrects as someone else.
 */
export function correctionRoutes(services: Services, auth: RequestHandler): express.Router {
  const router = express.Router();
  router.post('/api/mentions/:source/:id/sentiment', auth, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const parsed = correctionArgs.safeParse({
      source: req.params.source,
      id: req.params.id,
      label: body.label,
      by: (res.locals.user as SessionUser | undefined)?.name ?? body.by,
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
