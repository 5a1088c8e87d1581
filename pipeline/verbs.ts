import { z } from 'zod';
import { type ImportOutcome, importFiles } from '../collectors/imports/write.js';
import { collectorOf } from '../collectors/registry.js';
import {
  collectSource,
  FAILED_RUN_STATUSES,
  type PartitionResult,
  type ProgressEvent,
  type RunnerDeps,
} from '../collectors/runner.js';
import { type AdoptionReportArgs, adoptionReport } from './adoption/report.js';
import { adoptionDataVersion, warmWeekFigures } from './adoption/week-cache.js';
import { runAlerts } from './alerts/detect.js';
import { alertVerbs } from './alerts/verbs.js';
import { userVerbs } from './auth/verbs.js';
import { backupVerbs } from './backup/verbs.js';
import { purgeUpstreamDeletions } from './compliance/upstream.js';
import { complianceVerbs } from './compliance/verbs.js';
import type { Config, SourceConfig } from './config.js';
import { refuseDemo } from './demo/flag.js';
import { errorMessage, UserError } from './errors.js';
import type { Logger } from './logger.js';
import { type ScoreResult, scoreNew } from './scoring/score.js';
import { sentimentVerbs } from './sentiment/verbs.js';
import { sourceSchedules } from './settings.js';
import { type QueryResult, runReadOnlyQuery } from './sql-guard.js';
import { perWrite, type Store } from './store.js';
import { deleteTopic, listTopics, saveTopic } from './topics/edit.js';
import { tagNewMentions } from './topics/tag.js';

/** Runs of one source never overlap, whoever starts them (scheduler, CLI, API). */
export class SourceLocks {
  readonly #tails = new Map<string, Promise<unknown>>();
  readonly #running = new Set<string>();

  isRunning(source: string): boolean {
    return this.#running.has(source);
  }

  run<T>(source: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(source) ?? Promise.resolve();
    const next = previous.then(async () => {
      this.#running.add(source);
      try {
        return await fn();
      } finally {
        this.#running.delete(source);
      }
    });
    this.#tails.set(
      source,
      next.catch(() => undefined),
    );
    return next;
  }

  /** Resolves when every run started so far has ended. */
  async idle(): Promise<void> {
    await Promise.all(this.#tails.values());
  }
}

/** What every verb may use; the server and a CLI that opened the database build the same thing. */
export interface Services {
  config: Config;
  store: Store;
  logger: Logger;
  fetch: typeof fetch;
  now: () => Date;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Aborts on shutdown. */
  signal: AbortSignal;
  locks: SourceLocks;
}

export function runnerDeps(svc: Services, onProgress?: (e: ProgressEvent) => void): RunnerDeps {
  return {
    store: svc.store,
    logger: svc.logger,
    fetch: svc.fetch,
    now: svc.now,
    sleep: svc.sleep,
    signal: svc.signal,
    maxRateLimitWaitMs: svc.config.maxRateLimitWaitMs,
    ...(onProgress ? { onProgress } : {}),
  };
}

function pickSources(config: Config, source: string | undefined): SourceConfig[] {
  if (config.sources.length === 0) {
    throw new UserError(
      'no sources are configured: add a `sources:` section to the config file (see README, "Configure")',
    );
  }
  if (source === undefined) return [...config.sources];
  const found = config.sources.find((s) => s.id === source);
  if (!found) {
    throw new UserError(
      `source "${source}" is not configured; configured: ${config.sources.map((s) => s.id).join(', ')}`,
      404,
    );
  }
  return [found];
}

/** Collects one source (or every enabled one, concurrently: one failing never stops the others). */
export async function collect(
  svc: Services,
  args: { source?: string | undefined; partition?: string | undefined },
  onProgress?: (e: ProgressEvent) => void,
): Promise<PartitionResult[]> {
  let sources = pickSources(svc.config, args.source);
  await refuseDemo(svc.store, 'collection');
  if (args.source === undefined) {
    const enabled = new Set(
      (await sourceSchedules(svc.store, svc.config)).filter((s) => s.enabled).map((s) => s.id),
    );
    sources = sources.filter((s) => enabled.has(s.id));
  }
  const deps = runnerDeps(svc, onProgress);
  const adoptionBefore = await adoptionDataVersion(svc.store);
  const results = await Promise.all(
    sources.map((s) =>
      svc.locks.run(s.id, () =>
        collectSource(s, deps, args.partition === undefined ? {} : { partition: args.partition }),
      ),
    ),
  );
  // Shutting down: what follows is derived, and the next run catches up from its bookmarks.
  if (svc.signal.aborted) return results.flat();
  // Posts the platform deleted since they were stored (Mastodon, Bluesky) go before tagging and scoring.
  try {
    await purgeUpstreamDeletions(svc, sources, 'system:collect');
  } catch (err) {
    svc.logger.error({ err: errorMessage(err) }, 'checking for upstream deletions failed');
  }
  // Scoring is derived too, and bookmarked per step: a failure is logged and the next run catches up.
  try {
    await score(svc, {});
  } catch (err) {
    svc.logger.error({ err: errorMessage(err) }, 'scoring new mentions failed');
  }
  // After scoring, which tags what it scores in the same transactions and the rest by the same
  // watermark (tagged first, its first batch would meet those tags and be written twice): this finds
  // nothing new then, and matches this run's mentions when scoring failed. Tags are derived and the
  // next collect catches up, so a failure here must not fail a collection that stored its mentions.
  try {
    const tagged = await tagNewMentions(svc.store);
    const errors = tagged.topics.filter((t) => t.error !== undefined);
    svc.logger.info(
      {
        scanned: tagged.scanned,
        tagged: tagged.tagged,
        topics: tagged.topics.length,
        skipped: errors.length,
      },
      'tagged new mentions',
    );
    for (const t of errors)
      svc.logger.warn({ topic: t.topicId, error: t.error }, 'topic query does not parse');
  } catch (err) {
    svc.logger.error({ err: errorMessage(err) }, 'tagging new mentions failed');
  }
  // Spikes, negative surges and failure streaks, judged on the fresh rollups and this run's results;
  // delivery is the outbox loop's job (serve), so a slow webhook never holds up a collection.
  try {
    await runAlerts(svc);
  } catch (err) {
    svc.logger.error({ err: errorMessage(err) }, 'alert detection failed');
  }
  // An internal source (Graph, Slack, Chatter) brought adoption data: as after an import, so the
  // next leadership report is warm. Never fails the collection (it logs instead).
  if ((await adoptionDataVersion(svc.store)) !== adoptionBefore)
    await warmWeekFigures(svc.store, svc.config.timezone, svc.logger);
  return results.flat();
}

export interface CheckOutcome {
  source: string;
  ok: boolean;
  reason: string | null;
}

/** One cheap request per source, proving credentials and endpoint. */
export async function check(svc: Services, args: { source?: string | undefined }): Promise<CheckOutcome[]> {
  return Promise.all(
    pickSources(svc.config, args.source).map(async (s) => {
      const result = await collectorOf(s.id).check(s.settings, {
        fetch: svc.fetch,
        now: svc.now,
        sleep: svc.sleep,
        logger: svc.logger.child({ source: s.id }),
        signal: svc.signal,
        baseUrl: s.baseUrl,
        maxRateLimitWaitMs: 0,
        budget: { take: () => true },
      });
      return { source: s.id, ok: result.ok, reason: result.ok ? null : result.reason };
    }),
  );
}

export interface SourceStatus {
  source: string;
  enabled: boolean;
  schedule: string;
  running: boolean;
  mentions: number;
  lastRunAt: string | null;
  lastSuccessAt: string | null;
  /** Rows written by the last finished run of each partition, added up. */
  lastRows: number;
  lastError: string | null;
  /** Longest streak of failed runs, counted back from the newest, over the source's partitions. */
  consecutiveFailures: number;
  /** When a rate-limited partition may run again. */
  waitingUntil: string | null;
  quarantined: number;
}

const iso = (v: unknown): string | null => (v instanceof Date ? v.toISOString() : null);
const FAILED = new Set(FAILED_RUN_STATUSES);

/** Mentions and quarantined payloads per source: a scan of every mention, so done once per write. */
const storedPerSource = perWrite(async (store) => {
  const bySource = async (table: string) =>
    new Map(
      (await store.query(`SELECT source, count(*) AS n FROM ${table} GROUP BY source`)).map((r) => [
        String(r.source),
        Number(r.n),
      ]),
    );
  return { counts: await bySource('mentions'), quarantine: await bySource('quarantine') };
});

/** Freshness and failures per configured source (and any source with stored runs). */
export async function status(svc: Services): Promise<SourceStatus[]> {
  const schedules = await sourceSchedules(svc.store, svc.config);
  const runs = await svc.store.query(
    `SELECT id, source, partition, status, started_at, finished_at, rows, error, resume_after
     FROM collection_runs WHERE status <> 'running'
     QUALIFY row_number() OVER (PARTITION BY source, partition ORDER BY id DESC) <= 200
     ORDER BY source, partition, id DESC`,
  );
  const { counts, quarantine } = await storedPerSource(svc.store);
  const ids = new Set([...schedules.map((s) => s.id), ...runs.map((r) => String(r.source))]);
  return [...ids].sort().map((id) => {
    const mine = runs.filter((r) => r.source === id);
    const byPartition = new Map<string, typeof mine>();
    for (const r of mine)
      byPartition.set(String(r.partition), [...(byPartition.get(String(r.partition)) ?? []), r]);
    let streak = 0;
    let lastRows = 0;
    let waitingUntil: Date | null = null;
    for (const partitionRuns of byPartition.values()) {
      let n = 0;
      while (n < partitionRuns.length && FAILED.has(String(partitionRuns[n]?.status))) n++;
      streak = Math.max(streak, n);
      lastRows += Number(partitionRuns[0]?.rows ?? 0);
      const resume = partitionRuns[0]?.resume_after;
      if (resume instanceof Date && resume > svc.now() && (!waitingUntil || resume > waitingUntil))
        waitingUntil = resume;
    }
    const latest = mine.reduce<Date | null>((acc, r) => {
      const t = r.started_at as Date;
      return !acc || t > acc ? t : acc;
    }, null);
    const lastOk = mine
      .filter((r) => r.status === 'ok')
      .reduce<Date | null>((acc, r) => {
        const t = r.finished_at as Date;
        return !acc || t > acc ? t : acc;
      }, null);
    const lastFailed = mine
      .filter((r) => r.error !== null && r.status !== 'ok')
      .sort(
        (a, b) =>
          (b.started_at as Date).getTime() - (a.started_at as Date).getTime() || Number(b.id) - Number(a.id),
      )[0];
    const schedule = schedules.find((s) => s.id === id);
    return {
      source: id,
      enabled: schedule?.enabled ?? false,
      schedule: schedule?.schedule ?? '',
      running: svc.locks.isRunning(id),
      mentions: counts.get(id) ?? 0,
      lastRunAt: iso(latest),
      lastSuccessAt: iso(lastOk),
      lastRows,
      lastError: lastFailed ? String(lastFailed.error) : null,
      consecutiveFailures: streak,
      waitingUntil: iso(waitingUntil),
      quarantined: quarantine.get(id) ?? 0,
    };
  });
}

/** Scores new mentions, re-tags and refreshes rollups; `rescore` also re-scores older model versions. */
export function score(svc: Services, args: { rescore?: boolean | undefined }): Promise<ScoreResult> {
  return scoreNew(
    { store: svc.store, timezone: svc.config.timezone, logger: svc.logger, now: svc.now },
    { rescore: args.rescore === true },
  );
}

export async function sql(svc: Services, args: { query: string }): Promise<QueryResult> {
  return runReadOnlyQuery(svc.store, args.query, svc.config.sqlLimits);
}

/**
 * Imports adoption exports. File contents travel as base64 so the same call works in this process
 * and through the server's JSON API (where the server owns the database file). Inside this process
 * only (a local CLI import, an upload saved to a temp file) a file may be a `path` instead, read as
 * a stream: the remote schema below takes no paths.
 */
export async function importVerb(
  svc: Services,
  args: { kind: string; files: ({ name: string; content: string } | { name: string; path: string })[] },
): Promise<ImportOutcome> {
  const outcome = await importFiles(svc.store, {
    kind: args.kind,
    files: args.files.map((f) =>
      'path' in f ? f : { name: f.name, content: Buffer.from(f.content, 'base64') },
    ),
    now: svc.now(),
  });
  // After the commit, so the first report after an import is warm; never fails the import.
  if (outcome.files.some((f) => !f.duplicate))
    await warmWeekFigures(svc.store, svc.config.timezone, svc.logger);
  return outcome;
}

/** The verbs a CLI may send to a running server: name -> argument schema and implementation. */
export const remoteVerbs = {
  collect: {
    args: z.object({ source: z.string().optional(), partition: z.string().optional() }),
    run: collect,
  },
  check: { args: z.object({ source: z.string().optional() }), run: check },
  status: { args: z.object({}), run: (svc: Services) => status(svc) },
  sql: { args: z.object({ query: z.string().min(1) }), run: sql },
  score: { args: z.object({ rescore: z.boolean().optional() }), run: score },
  topics: { args: z.object({}), run: (svc: Services) => listTopics(svc.store) },
  'topic-save': {
    // Validated in full by saveTopic (the config's topic schema), so errors read the same everywhere.
    args: z.object({ topic: z.unknown() }),
    run: (svc: Services, args: { topic: unknown }) => saveTopic(svc.store, args.topic, svc.now()),
  },
  'topic-delete': {
    args: z.object({ id: z.string().min(1) }),
    run: async (svc: Services, args: { id: string }) => {
      if (!(await deleteTopic(svc.store, args.id))) throw new UserError(`no topic "${args.id}"`, 404);
      return { deleted: args.id };
    },
  },
  import: {
    args: z.object({
      kind: z.string().min(1),
      files: z.array(z.object({ name: z.string().min(1), content: z.string() })).min(1),
    }),
    run: importVerb,
  },
  ...alertVerbs,
  'adoption-report': {
    args: z.object({
      days: z.number().int().optional(),
      by: z.array(z.string()).optional(),
      asOf: z.string().optional(),
      rollout: z.string().optional(),
      // The CLI's caller holds the database (and the sql verb): analyst is theirs to ask for.
      audience: z.enum(['leadership', 'analyst']).optional(),
    }),
    run: (svc: Services, args: AdoptionReportArgs) =>
      adoptionReport(
        svc.store,
        { timezone: svc.config.timezone, minGroupSize: svc.config.minGroupSize },
        args,
      ),
  },
  ...sentimentVerbs,
  ...userVerbs,
  ...complianceVerbs,
  ...backupVerbs,
} as const;

export type VerbName = keyof typeof remoteVerbs;
