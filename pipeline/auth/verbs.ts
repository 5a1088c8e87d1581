import { z } from 'zod';
import type { Services } from '../verbs.js';
import { addUser, listUsers, removeUser, updateUser } from './users.js';

// Fields are checked by users.ts, so a bad name or role reads the same from the CLI and the dashboard.
// `by` is the operating-system user running the CLI, recorded in the audit log as cli:<by>.
const by = z.string().min(1);
const actor = (args: { by: string }) => `cli:${args.by}`;

/**
 * User verbs for `earshot user ...` (spread into remoteVerbs). The password travels in the body of
 * the loopback call, never on a command line.
 */
export const userVerbs = {
  'user-add': {
    args: z.strictObject({ name: z.string(), role: z.string(), password: z.string(), by }),
    run: (svc: Services, args: { name: string; role: string; password: string; by: string }) =>
      addUser(svc.store, args, actor(args), svc.now()),
  },
  'user-list': { args: z.strictObject({}), run: (svc: Services) => listUsers(svc.store) },
  'user-role': {
    args: z.strictObject({ name: z.string(), role: z.string(), by }),
    run: (svc: Services, args: { name: string; role: string; by: string }) =>
      updateUser(svc.store, args.name, { role: args.role }, actor(args), svc.now()),
  },
  'user-passwd': {
    args: z.strictObject({ name: z.string(), password: z.string(), by }),
    run: (svc: Services, args: { name: string; password: string; by: string }) =>
      updateUser(svc.store, args.name, { password: args.password }, actor(args), svc.now()),
  },
  'user-remove': {
    args: z.strictObject({ name: z.string(), by }),
    run: async (svc: Services, args: { name: string; by: string }) => {
      await removeUser(svc.store, args.name, actor(args), svc.now());
      return { removed: args.name };
    },
  },
} as const;
