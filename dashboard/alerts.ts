import express, { type RequestHandler } from 'express';
import type { z } from 'zod';
import { alertVerbs } from '../pipeline/alerts/verbs.js';
import { UserError } from '../pipeline/errors.js';
import type { Services } from '../pipeline/verbs.js';

function parse<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`${issue?.path.join('.') || 'request'}: ${issue?.message ?? 'is not valid'}`, 400);
  }
  return parsed.data;
}

/**
 * GET /api/alerts (?topic, kind, status, since, limit), POST /api/alerts/:id/ack and
 * POST /api/topics/:id/mute {until: ISO time | null}: the alert verbs over HTTP, behind `auth`.
 */
export function alertRoutes(services: Services, auth: RequestHandler): express.Router {
  const router = express.Router();
  const { alerts, 'alert-ack': ack, 'topic-mute': mute } = alertVerbs;
  router.get('/api/alerts', auth, async (req, res) => {
    res.json({ alerts: await alerts.run(services, parse(alerts.args, req.query)) });
  });
  router.post('/api/alerts/:id/ack', auth, async (req, res) => {
    res.json({ alert: await ack.run(services, parse(ack.args, { id: Number(req.params.id) })) });
  });
  router.post('/api/topics/:id/mute', auth, async (req, res) => {
    const body = (req.body ?? {}) as { until?: unknown };
    res.json(await mute.run(services, parse(mute.args, { topic: req.params.id, until: body.until })));
  });
  return router;
}
