import { z } from 'zod';
import { secretRef } from '../secrets.js';

export const ALERT_KINDS = ['volume_spike', 'negative_surge', 'collection_failure'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** The `alerts:` section: detection rules. Every field has a default, so the section is optional. */
export const alertRulesSchema = z.strictObject({
  /** Standard deviations above the trailing mean an hour must reach (volume and negative count). */
  k: z.number().positive().default(3),
  /** Trailing window of hours the baseline is taken over (7 days by default). */
  windowHours: z
    .number()
    .int()
    .min(6)
    .max(24 * 90)
    .default(168),
  /**
   * Hours of a topic's history (since its first mention) a baseline needs: a topic's first hours of
   * data are not judged against the empty hours before it existed.
   */
  minBaselineHours: z.number().int().min(1).default(24),
  /** Fewest original mentions in an hour for a volume spike. */
  minVolume: z.number().int().min(1).default(10),
  /** Hours after an alert during which the same topic and kind stays quiet. */
  cooldownHours: z.number().min(0).default(6),
  /** Fewest negative mentions in an hour for a negative surge. */
  negativeMinCount: z.number().int().min(1).default(5),
  /** Rise of the negative share over the window's share (0.15 = 15 points) for a negative surge. */
  negativeShareRise: z.number().gt(0).max(1).default(0.15),
  /** Consecutive failed runs of a source partition that raise one alert. */
  failedRuns: z.number().int().min(1).default(3),
  /** An hour is judged this long after it ends, so late-collected mentions are scored first. */
  settleMinutes: z
    .number()
    .int()
    .min(0)
    .max(24 * 60)
    .default(20),
  /** With no bookmark yet (first run), hours older than this are not judged: no alerts for history. */
  lookbackHours: z.number().int().min(1).default(24),
  /** How often pending webhook deliveries are looked for. */
  deliveryPollSeconds: z.number().min(1).default(15),
});
export type AlertRules = z.infer<typeof alertRulesSchema>;

/** One `webhooks:` entry, after `{secret: NAME}` was resolved into a Secret. */
export const webhookSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'use lowercase letters, digits, "-" and "_"'),
  format: z.enum(['slack', 'teams', 'json']),
  /** The incoming-webhook URL carries its own credential, so it is a secret. */
  url: secretRef,
  /** Only alerts of these topics (collection failures have no topic, so they are left out). */
  topics: z.array(z.string().min(1)).min(1).optional(),
  kinds: z.array(z.enum(ALERT_KINDS)).min(1).optional(),
});
export type Webhook = z.infer<typeof webhookSchema>;

/** Alert settings of a config, with defaults for configs built by hand (loadConfig sets them all). */
export function alertSettings(config: {
  alerts?: AlertRules;
  webhooks?: readonly Webhook[];
  publicUrl?: string;
  port: number;
}): { rules: AlertRules; webhooks: readonly Webhook[]; publicUrl: string } {
  return {
    rules: config.alerts ?? alertRulesSchema.parse({}),
    webhooks: config.webhooks ?? [],
    publicUrl: config.publicUrl ?? `http://127.0.0.1:${config.port}`,
  };
}
