import { RetryableError, request } from '../../collectors/http.js';
import type { Config } from '../config.js';
import { errorMessage, RateLimitedError, SourceError } from '../errors.js';
import type { Logger } from '../logger.js';
import { redact } from '../secrets.js';
import { type Store, timestamptz } from '../store.js';
import { alertSettings, type Webhook } from './config.js';
import { webhookPayload } from './format.js';
import { type Alert, getAlert } from './records.js';

export interface DeliveryDeps {
  store: Store;
  config: Config;
  logger: Logger;
  fetch: typeof fetch;
  now: () => Date;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal: AbortSignal;
}

/** Retries wait 30 s, 1 min, 2 min, ... up to an hour, jittered; they go on until delivered. */
const BASE_BACKOFF_MS = 30_000;
const MAX_BACKOFF_MS = 3_600_000;
/** One try per pass: the outbox row, not an in-memory loop, carries the retries across restarts. */
const ONE_TRY = { retries: 0, baseDelayMs: 0, maxDelayMs: 0, rateLimitWaits: 0 };

export function retryDelay(attempts: number): number {
  const backoff = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.max(0, attempts - 1));
  return backoff / 2 + Math.random() * (backoff / 2);
}

/** When the webhook said to come back (Retry-After on a 429 or 5xx), if it did. */
function askedRetryAt(err: unknown): Date | null {
  if (err instanceof RateLimitedError) return err.resumeAt;
  if (err instanceof SourceError && err.cause instanceof RetryableError) return err.cause.retryAt;
  return null;
}

/** One try at sending `alert` to `hook` in the hook's format; throws what the webhook answered. */
export async function sendAlert(
  deps: Omit<DeliveryDeps, 'store' | 'config'>,
  hook: Webhook,
  alert: Alert,
): Promise<{ status: number }> {
  const res = await request(
    {
      fetch: deps.fetch,
      now: deps.now,
      sleep: deps.sleep,
      logger: deps.logger,
      signal: deps.signal,
      baseUrl: '',
      maxRateLimitWaitMs: 0,
      budget: { take: () => true },
    },
    hook.url.reveal(),
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(webhookPayload(hook.format, alert)),
      timeoutMs: 15_000,
      maxBytes: 64 * 1024,
      policy: ONE_TRY,
    },
  );
  return { status: res.status };
}

/** Passes in this process run one after another, so the loop and a direct call never send a row twice. */
let tail: Promise<unknown> = Promise.resolve();

/**
 * Sends every pending delivery that is due, one try each, and records the outcome: delivered, or
 * attempts + 1 with the (redacted) error and the next try after a backoff, later if Retry-After
 * asks. Deliveries to a webhook no longer configured wait, pending, until it is configured again.
 */
export function deliverDue(deps: DeliveryDeps, limit = 50): Promise<{ delivered: number; failed: number }> {
  const pass = tail.then(() => deliverPass(deps, limit));
  tail = pass.catch(() => undefined);
  return pass;
}

async function deliverPass(
  deps: DeliveryDeps,
  limit: number,
): Promise<{ delivered: number; failed: number }> {
  const { webhooks } = alertSettings(deps.config);
  const outcome = { delivered: 0, failed: 0 };
  if (webhooks.length === 0) return outcome;
  const due = await deps.store.query(
    `SELECT alert_id, webhook, attempts FROM alert_deliveries
     WHERE status = 'pending' AND next_attempt_at <= $1 AND list_contains($2::VARCHAR[], webhook)
     ORDER BY next_attempt_at, alert_id, webhook LIMIT $3`,
    [timestamptz(deps.now()), JSON.stringify(webhooks.map((w) => w.name)), limit],
  );
  for (const row of due) {
    if (deps.signal.aborted) break;
    const hook = webhooks.find((w) => w.name === row.webhook);
    const alert = await getAlert(deps.store, Number(row.alert_id));
    if (!hook || !alert) continue;
    const key = [Number(row.alert_id), hook.name];
    const attempts = Number(row.attempts) + 1;
    try {
      await sendAlert(deps, hook, alert);
      const now = timestamptz(deps.now());
      await deps.store.write((c) =>
        c.run(
          `UPDATE alert_deliveries SET status = 'delivered', attempts = $3, last_attempt_at = $4, delivered_at = $4
           WHERE alert_id = $1 AND webhook = $2`,
          [...key, attempts, now],
        ),
      );
      outcome.delivered++;
      deps.logger.info({ alert: alert.id, webhook: hook.name, attempts }, 'alert delivered');
    } catch (err) {
      // A shutdown mid-send is not the webhook's failure: the row stays as it was, due now.
      if (deps.signal.aborted) break;
      const now = deps.now();
      const asked = askedRetryAt(err);
      const next = new Date(Math.max(now.getTime() + retryDelay(attempts), asked?.getTime() ?? 0));
      const error = redact(errorMessage(err));
      await deps.store.write((c) =>
        c.run(
          `UPDATE alert_deliveries SET attempts = $3, last_attempt_at = $4, next_attempt_at = $5, last_error = $6
           WHERE alert_id = $1 AND webhook = $2`,
          [...key, attempts, timestamptz(now), timestamptz(next), error],
        ),
      );
      outcome.failed++;
      deps.logger.warn(
        { alert: alert.id, webhook: hook.name, attempts, error, retryAt: next.toISOString() },
        'alert delivery failed; will retry',
      );
    }
  }
  return outcome;
}

/**
 * Delivers pending alerts until `deps.signal` aborts, looking every deliveryPollSeconds. Rows are
 * the state, so a restart picks up whatever was pending. `stopped` resolves when the loop has ended.
 */
export function startDeliveryLoop(deps: DeliveryDeps): { stopped: Promise<void> } {
  const pollMs = alertSettings(deps.config).rules.deliveryPollSeconds * 1000;
  const stopped = (async () => {
    while (!deps.signal.aborted) {
      try {
        await deliverDue(deps);
      } catch (err) {
        if (!deps.signal.aborted) deps.logger.error({ err: errorMessage(err) }, 'alert delivery pass failed');
      }
      try {
        await deps.sleep(pollMs, deps.signal);
      } catch {
        break;
      }
    }
  })();
  return { stopped };
}
