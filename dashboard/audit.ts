import express from 'express';
import { complianceVerbs } from '../pipeline/compliance/verbs.js';
import { UserError } from '../pipeline/errors.js';
import type { Services } from '../pipeline/verbs.js';
import type { Allow } from './roles.js';

/** GET /api/audit (?action, limit, before): the audit log, newest first, for admins only. */
export function auditRoutes(services: Services, allow: Allow): express.Router {
  const router = express.Router();
  const list = complianceVerbs['audit-list'];
  router.get('/api/audit', allow('admin'), async (req, res) => {
    const parsed = list.args.safeParse(req.query);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new UserError(`${issue?.path.join('.') || 'request'}: ${issue?.message ?? 'is not valid'}`, 400);
    }
    res.json({ entries: await list.run(services, parsed.data) });
  });
  return router;
}
