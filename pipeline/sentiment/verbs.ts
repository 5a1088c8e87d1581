import { z } from 'zod';
import type { Services } from '../verbs.js';
import { type CorrectionArgs, correctionArgs, correctSentiment } from './corrections.js';
import { evalCorrections, learnFromCorrections } from './learn.js';

/** Sentiment verbs that need the database, for the CLI and the server (spread into remoteVerbs). */
export const sentimentVerbs = {
  'sentiment-correct': {
    args: correctionArgs,
    run: (svc: Services, args: CorrectionArgs) =>
      correctSentiment(svc.store, svc.config.timezone, args, svc.now()),
  },
  'sentiment-learn': {
    args: z.strictObject({}),
    run: (svc: Services) =>
      learnFromCorrections({
        store: svc.store,
        timezone: svc.config.timezone,
        logger: svc.logger,
        now: svc.now,
      }),
  },
  'sentiment-eval': {
    args: z.strictObject({}),
    run: (svc: Services) => evalCorrections(svc.store),
  },
} as const;
