import cron, { type ScheduledTask } from 'node-cron';
import { defaultRetention, runRetention } from './compliance/retention.js';
import { refuseDemo } from './demo/flag.js';
import { errorMessage } from './errors.js';
import { sourceSchedules } from './settings.js';
import { collect, type Services } from './verbs.js';

/**
 * One cron job per enabled source, from the schedules in the database. node-cron skips a tick while
 * the previous run of the same job is still going (noOverlap), and SourceLocks keeps a CLI-started
 * run of the same source from overlapping too. A random delay spreads jobs that share a minute.
 */
export class Scheduler {
  readonly #tasks: ScheduledTask[] = [];
  /** Runs under way (collections with their scoring, retention): shutdown waits for them. */
  readonly #running = new Set<Promise<void>>();

  constructor(
    private readonly svc: Services,
    private readonly jitterMs = 30_000,
  ) {}

  async start(): Promise<string[]> {
    const started: string[] = [];
    const schedules = await sourceSchedules(this.svc.store, this.svc.config);
    if (schedules.some((s) => s.enabled)) await refuseDemo(this.svc.store, 'the scheduler');
    for (const s of schedules) {
      if (!s.enabled) continue;
      const task = cron.schedule(s.schedule, () => this.#track(this.runSource(s.id)), {
        name: `collect:${s.id}`,
        noOverlap: true,
        maxRandomDelay: this.jitterMs,
        timezone: this.svc.config.timezone,
      });
      this.#tasks.push(task);
      started.push(s.id);
    }
    const retention = this.svc.config.retention ?? defaultRetention;
    this.#tasks.push(
      cron.schedule(retention.schedule, () => this.#track(this.runRetention()), {
        name: 'retention',
        noOverlap: true,
        timezone: this.svc.config.timezone,
      }),
    );
    return started;
  }

  private async runSource(source: string): Promise<void> {
    if (this.svc.signal.aborted) return;
    try {
      await collect(this.svc, { source });
    } catch (err) {
      this.svc.logger.error({ source, err: errorMessage(err) }, 'scheduled collection failed');
    }
  }

  /** Applies the retention policies (daily by default); a failure is logged and tomorrow's run catches up. */
  async runRetention(): Promise<void> {
    if (this.svc.signal.aborted) return;
    try {
      const r = await runRetention(
        { store: this.svc.store, now: this.svc.now, actor: 'scheduler' },
        this.svc.config.retention ?? defaultRetention,
      );
      this.svc.logger.info(
        { removed: Object.fromEntries(r.kinds.map((k) => [k.kind, k.removed])) },
        'retention applied',
      );
    } catch (err) {
      this.svc.logger.error({ err: errorMessage(err) }, 'retention failed');
    }
  }

  #track(run: Promise<void>): Promise<void> {
    this.#running.add(run);
    void run.finally(() => this.#running.delete(run));
    return run;
  }

  /** Stops taking work; runs under way see the shutdown signal and end at their next step. */
  async stop(): Promise<void> {
    await Promise.all(this.#tasks.map((t) => t.stop()));
    await Promise.all(this.#tasks.map((t) => t.destroy()));
    this.#tasks.length = 0;
  }

  /** Resolves when the runs under way have ended (they never reject: failures are logged). */
  async idle(): Promise<void> {
    await Promise.all(this.#running);
  }
}
