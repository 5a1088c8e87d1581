import { z } from 'zod';
import { UserError } from '../errors.js';
import type { Services } from '../verbs.js';
import { eraseAuthor, eraseEmployee } from './erase.js';

/** Who asked, as the audit log records it ('cli:<os user>' from the command line). */
const actor = z.string().min(1).default('cli');

const eraseArgs = z.strictObject({ author: z.string().optional(), employee: z.string().optional(), actor });

/** Data lifecycle verbs for the CLI and the server (spread into remoteVerbs). */
export const complianceVerbs = {
  erase: {
    args: eraseArgs,
    run: async (svc: Services, args: z.infer<typeof eraseArgs>) => {
      if ((args.author === undefined) === (args.employee === undefined))
        throw new UserError('erase: give exactly one of --author <source>:<handle> or --employee <id|email>');
      const deps = { store: svc.store, timezone: svc.config.timezone, now: svc.now, actor: args.actor };
      return args.author !== undefined
        ? eraseAuthor(deps, args.author)
        : eraseEmployee(deps, args.employee ?? '');
    },
  },
} as const;
