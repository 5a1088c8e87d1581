import type { DuckDBConnection } from '@duckdb/node-api';
import type { SourceConfig } from '../pipeline/config.js';
import { RateLimitedError } from '../pipeline/errors.js';
import { type BatchResult, type BatchWrite, refreshAuthors, storeBatch } from '../pipeline/ingest.js';
import type { Logger } from '../pipeline/logger.js';
import { redact } from '../pipeline/secrets.js';
import { type Store, timestamptz } from '../pipeline/store.js';
import type {
  AnyCollector,
  Batch,
  CollectorContext,
  ExportFile,
  MentionRecord,
  QuarantineItem,
  QuotaBudget,
  Targets,
} from './contract.js';
import { importKinds } from './imports/registry.js';
import { type ParsedImport, parseImport, writeImport } from './imports/write.js';
import { collectorOf } from './registry.js';

/** The side effects a run uses; `serve`, the CLI and tests each pass their own. */
export interface RunnerDeps {
  store: Store;
  logger: Logger;
  fetch: typeof fetch;
  now: () => Date;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal: AbortSignal;
  maxRateLimitWaitMs: number;
  onProgress?: (event: ProgressEvent) => void;
  /** Rows held before a transaction is written when pages arrive faster than that (backfills). */
  coalesceRows?: number;
  /** Longest rows wait in memory before they are written, however few. */
  coalesceMs?: number;
}

export type RunStatus = 'ok' | 'error' | 'rate_limited' | 'aborted' | 'skipped';
/**
 * The collection_runs statuses that count as a failure (`earshot status`, failure alerts): an error,
 * or a run a crash left unfinished. Rate-limited and aborted runs are not failures of the source.
 */
export const FAILED_RUN_STATUSES: readonly string[] = ['error', 'interrupted'];

export interface ProgressEvent {
  source: string;
  partition: string;
  rows: number;
  newRows: number;
  total?: number;
  status: 'running' | RunStatus;
  message?: string;
}

export interface PartitionResult {
  source: string;
  partition: string;
  status: RunStatus;
  rows: number;
  newRows: number;
  quarantined: number;
  error: string | null;
  resumeAfter: string | null;
}

/** Real sleep that an abort cuts short. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Counts quota calls in memory; they reach the database with the batch they were spent on. */
class BudgetTracker implements QuotaBudget {
  /** provider -> day -> calls already stored */
  readonly stored = new Map<string, Map<string, number>>();
  /** calls spent since the last write */
  pending = new Map<string, Map<string, number>>();
  constructor(private readonly store: Store) {}

  /** Loads the calls already spent on recent quota days (days are provider-local, so a margin). */
  async load(now: Date): Promise<void> {
    const rows = await this.store.query(
      "SELECT provider, strftime(day, '%Y-%m-%d') AS day, calls FROM api_budget WHERE day >= $1::DATE - 2",
      [now.toISOString().slice(0, 10)],
    );
    for (const r of rows) bump(this.stored, String(r.provider), String(r.day), Number(r.calls));
  }

  take(provider: string, day: string, limit: number): boolean {
    const used = (this.stored.get(provider)?.get(day) ?? 0) + (this.pending.get(provider)?.get(day) ?? 0);
    if (used >= limit) return false;
    bump(this.pending, provider, day, 1);
    return true;
  }

  /** Hands the pending calls to a write and counts them as stored. */
  drain(): Map<string, Map<string, number>> {
    const out = this.pending;
    this.pending = new Map();
    for (const [p, days] of out) for (const [d, n] of days) bump(this.stored, p, d, n);
    return out;
  }
}

function bump(map: Map<string, Map<string, number>>, provider: string, day: string, n: number): void {
  const days = map.get(provider) ?? new Map<string, number>();
  map.set(provider, days);
  days.set(day, (days.get(day) ?? 0) + n);
}

/** Marks runs left 'running' by a process that died; call once when the database is opened. */
export async function markInterruptedRuns(store: Store, now: Date): Promise<void> {
  await store.write((conn) =>
    conn.run(
      `UPDATE collection_runs SET status = 'interrupted', finished_at = $1,
         error = coalesce(error, 'the process stopped before the run finished; the next run resumes from its bookmark')
       WHERE status = 'running'`,
      [timestamptz(now)],
    ),
  );
}

/** The keywords of every topic in the database: what search sources collect. */
export async function loadTargets(store: Store): Promise<Targets> {
  const rows = await store.query('SELECT DISTINCT unnest(keywords) AS k FROM topics ORDER BY k');
  return { keywords: rows.map((r) => String(r.k)) };
}

/** A batch's export files, parsed per kind before any transaction: a bad file writes nothing. */
async function parseExports(files: readonly ExportFile[], now: Date): Promise<ParsedImport[]> {
  // In import order, so identities (Salesforce users) land before the activity they match.
  const kinds = [...new Set(files.map((f) => f.kind))].sort(
    (a, b) => importKinds.indexOf(a) - importKinds.indexOf(b),
  );
  const parsed: ParsedImport[] = [];
  for (const kind of kinds) {
    const ofKind = files
      .filter((f) => f.kind === kind)
      .map((f) => ({
        name: f.name,
        content: f.content,
        ...(f.reportDay !== undefined ? { reportDay: f.reportDay } : {}),
      }));
    parsed.push(await parseImport({ kind, files: ofKind, now }));
  }
  return parsed;
}

/** Writes parsed exports in the batch's transaction; rows counts what the imports wrote (a repeated file writes none). */
async function writeExports(conn: DuckDBConnection, imports: readonly ParsedImport[]): Promise<BatchResult> {
  let rows = 0;
  for (const imp of imports) {
    const outcome = await writeImport(conn, imp);
    for (const f of outcome.files) for (const n of Object.values(f.rows)) rows += n;
  }
  return { rows, newRows: rows };
}

const TIMEOUT = Symbol('timeout');

/**
 * Collects every partition of one source, one after another (they share the source's rate limits).
 * Each batch is written with its bookmark in one transaction; authors are refreshed at the end.
 * Never throws for a source failure: it is recorded in collection_runs and returned.
 */
export async function collectSource(
  source: SourceConfig,
  deps: RunnerDeps,
  only?: { partition?: string },
  collector: AnyCollector = collectorOf(source.id),
): Promise<PartitionResult[]> {
  const targets = await loadTargets(deps.store);
  const partitions = collector
    .partitions(source.settings, targets)
    .filter((p) => only?.partition === undefined || p.key === only.partition);
  const budget = new BudgetTracker(deps.store);
  await budget.load(deps.now());
  const results: PartitionResult[] = [];
  for (const partition of partitions) {
    if (deps.signal.aborted) break;
    results.push(await collectPartition(source, collector, partition, deps, budget));
  }
  if (results.some((r) => r.rows > 0)) {
    await deps.store.write((conn) => refreshAuthors(conn, source.id));
  }
  return results;
}

async function collectPartition(
  source: SourceConfig,
  collector: AnyCollector,
  partition: { key: string },
  deps: RunnerDeps,
  budget: BudgetTracker,
): Promise<PartitionResult> {
  const { store } = deps;
  const logger = deps.logger.child({ source: source.id, partition: partition.key });
  const result: PartitionResult = {
    source: source.id,
    partition: partition.key,
    status: 'ok',
    rows: 0,
    newRows: 0,
    quarantined: 0,
    error: null,
    resumeAfter: null,
  };
  const progress = (status: ProgressEvent['status'], extra: Partial<ProgressEvent> = {}) =>
    deps.onProgress?.({
      source: source.id,
      partition: partition.key,
      rows: result.rows,
      newRows: result.newRows,
      status,
      ...extra,
    });

  const started = deps.now();
  const waiting = await store.query(
    `SELECT resume_after FROM collection_runs WHERE source = $1 AND partition = $2 ORDER BY id DESC LIMIT 1`,
    [source.id, partition.key],
  );
  const resumeAfter = waiting[0]?.resume_after as Date | null | undefined;
  if (resumeAfter && resumeAfter.getTime() > started.getTime()) {
    result.status = 'skipped';
    result.resumeAfter = resumeAfter.toISOString();
    progress('skipped', { message: `rate limited until ${result.resumeAfter}` });
    return result;
  }

  const saved = await store.query('SELECT state FROM bookmarks WHERE source = $1 AND partition = $2', [
    source.id,
    partition.key,
  ]);
  let bookmark: unknown;
  if (saved[0]) {
    const parsed = collector.bookmarkSchema.safeParse(JSON.parse(String(saved[0].state)));
    if (parsed.success) bookmark = parsed.data;
    else
      logger.warn(
        { issues: parsed.error.issues },
        'stored bookmark not understood; collecting from the start',
      );
  }

  const runId = await store.write(async (conn) => {
    const r = await conn.runAndReadAll(
      `INSERT INTO collection_runs (source, partition, started_at, status) VALUES ($1, $2, $3, 'running') RETURNING id`,
      [source.id, partition.key, timestamptz(started)],
    );
    return Number(r.getRows()[0]?.[0]);
  });

  logger.debug({ runId, resuming: bookmark !== undefined }, 'partition started');

  const ctx: CollectorContext = {
    fetch: deps.fetch,
    now: deps.now,
    sleep: deps.sleep,
    logger,
    signal: deps.signal,
    baseUrl: source.baseUrl,
    maxRateLimitWaitMs: deps.maxRateLimitWaitMs,
    budget,
  };

  // Pages that arrive quickly are written together; the bookmark of the last one covers them all.
  // One write may be in flight while the next pages are read (DuckDB commits off the main thread);
  // writes stay in order, so bookmarks only ever move forward.
  const coalesceRows = deps.coalesceRows ?? 20_000;
  const coalesceMs = deps.coalesceMs ?? 1000;
  let records: MentionRecord[] = [];
  let files: ExportFile[] = [];
  let quarantine: QuarantineItem[] = [];
  let pendingBookmark: { value: unknown } | null = null;
  /** When the oldest page not yet handed to the writer arrived (ms); no page waits longer than coalesceMs. */
  let bufferedSince: number | null = null;
  let total: number | undefined;
  let inflight: Promise<void> = Promise.resolve();
  // A holder object: TypeScript cannot see the closures below assigning it.
  const failed: { write: { error: unknown } | null } = { write: null };

  /** Hands the buffered pages to the writer; resolves when that write (and those before) ended. */
  const flush = (): Promise<void> => {
    if (!pendingBookmark) return inflight;
    const write: BatchWrite = {
      source: source.id,
      partition: partition.key,
      runId,
      records,
      quarantine,
      bookmark: pendingBookmark.value,
      budget: budget.drain(),
      now: deps.now(),
    };
    const exports = files;
    records = [];
    files = [];
    quarantine = [];
    pendingBookmark = null;
    bufferedSince = null;
    inflight = inflight.then(async () => {
      if (failed.write) return;
      try {
        const imports = exports.length > 0 ? await parseExports(exports, write.now) : [];
        const written = await storeBatch(
          store,
          write,
          imports.length > 0 ? (conn) => writeExports(conn, imports) : undefined,
        );
        result.rows += written.rows;
        result.newRows += written.newRows;
        result.quarantined += write.quarantine.length;
        progress('running', total === undefined ? {} : { total });
      } catch (err) {
        failed.write = { error: err };
      }
    });
    return inflight;
  };
  const throwIfWriteFailed = () => {
    if (failed.write) throw failed.write.error;
  };

  const iterator = collector.read(source.settings, partition, bookmark, ctx)[Symbol.asyncIterator]();
  try {
    // The next page is fetched while this one is written; its failure is handled when awaited.
    const pull = () => {
      const p = iterator.next();
      p.catch(() => undefined);
      return p;
    };
    let next = pull();
    for (;;) {
      deps.signal.throwIfAborted();
      throwIfWriteFailed();
      let step: IteratorResult<Batch<unknown>> | typeof TIMEOUT;
      if (pendingBookmark) {
        let timer: NodeJS.Timeout | undefined;
        step = await Promise.race([
          next,
          new Promise<typeof TIMEOUT>((resolve) => {
            timer = setTimeout(
              () => resolve(TIMEOUT),
              Math.max(0, coalesceMs - (Date.now() - (bufferedSince ?? 0))),
            );
          }),
        ]);
        clearTimeout(timer);
      } else {
        step = await next;
      }
      if (step === TIMEOUT) {
        void flush();
        continue;
      }
      if (step.done) break;
      next = pull();
      const batch = step.value;
      for (const r of batch.records) records.push(r);
      if (batch.files) for (const f of batch.files) files.push(f);
      if (batch.quarantine) for (const q of batch.quarantine) quarantine.push(q);
      if (batch.total !== undefined) total = batch.total;
      pendingBookmark = { value: batch.bookmark };
      bufferedSince ??= Date.now();
      if (batch.failed) {
        result.status = 'error';
        result.error = redact(batch.failed);
      }
      const waitedEnough = Date.now() - (bufferedSince ?? Date.now()) >= coalesceMs;
      // An export file is a whole report: each is written (and its bookmark kept) as soon as it arrives.
      const hasFiles = (batch.files?.length ?? 0) > 0;
      if (records.length >= coalesceRows || batch.failed || waitedEnough || hasFiles) {
        // At most one write waits behind the one in flight: memory stays bounded.
        await inflight;
        deps.signal.throwIfAborted();
        void flush();
      }
    }
    await flush();
    throwIfWriteFailed();
  } catch (caught) {
    let err: unknown = caught;
    if (deps.signal.aborted) {
      // Shutdown: the write in flight finishes (it is one transaction); pages not yet handed to
      // the writer are dropped and fetched again from the bookmark by the next run.
      await inflight;
    } else {
      // What was read before the failure is consistent with its bookmark: keep it.
      await flush();
    }
    if (failed.write && failed.write.error !== caught) err = failed.write.error;
    if (deps.signal.aborted && !failed.write) {
      result.status = 'aborted';
      result.error = 'stopped by shutdown; the next run resumes from the bookmark';
    } else if (err instanceof RateLimitedError) {
      result.status = 'rate_limited';
      result.error = redact(err.message);
      result.resumeAfter = err.resumeAt.toISOString();
    } else {
      result.status = 'error';
      result.error = redact(err instanceof Error ? err.message : String(err));
      logger.error({ err: redact(String((err as Error)?.stack ?? err)) }, 'collection failed');
    }
    await iterator.return?.(undefined).catch(() => undefined);
  }

  await store.write((conn) =>
    conn.run(
      'UPDATE collection_runs SET finished_at = $2, status = $3, error = $4, resume_after = $5 WHERE id = $1',
      [
        runId,
        timestamptz(deps.now()),
        result.status,
        result.error,
        result.resumeAfter ? timestamptz(new Date(result.resumeAfter)) : null,
      ],
    ),
  );
  progress(result.status, result.error ? { message: result.error } : {});
  logger.info(
    { status: result.status, rows: result.rows, newRows: result.newRows, quarantined: result.quarantined },
    'partition done',
  );
  return result;
}
