import { z } from 'zod';
import type { Services } from '../verbs.js';
import { ackAlert, alertFiltersSchema, listAlerts, muteArgsSchema, muteTopic } from './records.js';

/** Who acknowledged, until sign-in exists (a later issue): the local token's holder. */
export const LOCAL_USER = 'local';

/** Alert verbs for the CLI and the server (spread into remoteVerbs). */
export const alertVerbs = {
  alerts: {
    args: alertFiltersSchema,
    run: (svc: Services, args: z.infer<typeof alertFiltersSchema>) => listAlerts(svc.store, args),
  },
  'alert-ack': {
    args: z.strictObject({ id: z.number().int().positive() }),
    run: (svc: Services, args: { id: number }) => ackAlert(svc.store, args.id, svc.now(), LOCAL_USER),
  },
  'topic-mute': {
    args: muteArgsSchema,
    run: (svc: Services, args: z.infer<typeof muteArgsSchema>) =>
      muteTopic(svc.store, args.topic, args.until, svc.now()),
  },
} as const;
