import { z } from 'zod';
import { listAudit, verifyAudit } from '../audit/log.js';
import { UserError } from '../errors.js';
import type { Services } from '../verbs.js';
import { eraseAuthor, eraseEmployee } from './erase.js';
import { defaultRetention, runRetention } from './retention.js';
import { xCompliance } from './x.js';

/** Who asked, as the audit log records it ('cli:<os user>' from the command line). */
const actor = z.string().min(1).default('cli');

export const auditListArgs = z.strictObject({
  /** An action or a prefix of one: 'erase.' lists both erasures. */
  action: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1, 'limit: at least 1').max(1000, 'limit: at most 1000').optional(),
  /** Entries older than this id (paging back). */
  before: z.coerce.number().int().min(1).optional(),
});
const retentionArgs = z.strictObject({ dryRun: z.boolean().optional(), actor });
const eraseArgs = z.strictObject({ author: z.string().optional(), employee: z.string().optional(), actor });

/** Data lifecycle and audit verbs for the CLI and the server (spread into remoteVerbs). */
export const complianceVerbs = {
  erase: {
    args: eraseArgs,
    run: async (svc: Services, args: z.infer<typeof eraseArgs>) => {
      if ((args.author === undefined) === (args.employee === undefined))
        throw new UserError('erase: give exactly one of --author <source>:<handle> or --employee <id|email>');
      const deps = {
        store: svc.store,
        timezone: svc.config.timezone,
        now: svc.now,
        actor: args.actor,
        logger: svc.logger,
      };
      return args.author !== undefined
        ? eraseAuthor(deps, args.author)
        : eraseEmployee(deps, args.employee ?? '');
    },
  },
  'retention-run': {
    args: retentionArgs,
    run: (svc: Services, args: z.infer<typeof retentionArgs>) =>
      runRetention(
        { store: svc.store, now: svc.now, actor: args.actor },
        svc.config.retention ?? defaultRetention,
        { dryRun: args.dryRun === true },
      ),
  },
  'compliance-x': {
    args: z.strictObject({ actor }),
    run: (svc: Services, args: { actor: string }) => xCompliance(svc, { actor: args.actor }),
  },
  'audit-list': {
    args: auditListArgs,
    run: (svc: Services, args: z.infer<typeof auditListArgs>) =>
      listAudit(svc.store, {
        ...(args.action === undefined ? {} : { action: args.action }),
        ...(args.limit === undefined ? {} : { limit: args.limit }),
        ...(args.before === undefined ? {} : { beforeId: args.before }),
      }),
  },
  'audit-verify': { args: z.strictObject({}), run: (svc: Services) => verifyAudit(svc.store) },
} as const;
