import express, { type RequestHandler } from 'express';
import { alertVerbs } from '../pipeline/alerts/verbs.js';
import type { Services } from '../pipeline/verbs.js';
import { parseRequest } from './request.js';

/**
 * GET /api/alerts (?topic, kind, status, since, limit), POST /api/alerts/:id/ack and
 * POST /api/topics/:id/mute {until: ISO time | null}: the alert verbs over HTTP, behind `auth`.
 */
export function alertRoutes(services: Services, auth: RequestHandler): express.Router {
  const router = express.Router();
  const { alerts, 'alert-ack': ack, 'topic-mute': mute } = alertVerbs;
  router.get('/api/alerts', auth, async (req, res) => {
    res.json({ alerts: await alerts.run(services, parseRequest(alerts.args, req.query)) });
  });
  router.post('/api/alerts/:id/ack', auth, async (req, res) => {
    res.json({ alert: await ack.run(services, parseRequest(ack.args, { id: Number(req.params.id) })) });
  });
  router.post('/api/topics/:id/mute', auth, async (req, res) => {
    const body = (req.body ?? {}) as { until?: unknown };
    res.json(await mute.run(services, parseRequest(mute.args, { topic: req.params.id, until: body.until })));
  });
  return router;
}
