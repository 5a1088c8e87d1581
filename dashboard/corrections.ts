import express, { type RequestHandler } from 'express';
import { UserError } from '../pipeline/errors.js';
import { correctionArgs, correctSentiment } from '../pipeline/sentiment/corrections.js';
import type { Services } from '../pipeline/verbs.js';
import { currentUser } from './roles.js';

/**
 * POST /api/mentions/:source/:id/sentiment {label, note?}: a user's correction of a mention's
 * label, behind `auth`, recorded under the signed-in user's name. Only the CLI (local token) may
 * name someone else with `by`, as `earshot sentiment correct --by` does.
 */
export function correctionRoutes(services: Services, auth: RequestHandler): express.Router {
  const router = express.Router();
  router.post('/api/mentions/:source/:id/sentiment', auth, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const parsed = correctionArgs.safeParse({
      source: req.params.source,
      id: req.params.id,
      label: body.label,
      by: currentUser(res).name === 'cli' ? body.by : currentUser(res).name,
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
