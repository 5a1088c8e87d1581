/**
 * `earshot compliance x` (issue 7, part 5): X's batch compliance for stored posts. X's terms require
 * removing posts deleted, suspended, protected or deactivated upstream; the batch compliance job says
 * which of our ids those are: create a job (POST /2/compliance/jobs, type tweets), upload the ids to
 * its upload_url, poll GET /2/compliance/jobs/:id until complete, download the results (one JSON
 * object a line), then purge those mentions the way erasure does and refresh the rollups.
 */
import { z } from 'zod';
import type { CollectorContext } from '../../collectors/contract.js';
import { callX } from '../../collectors/x.js';
import { appendAudit } from '../audit/log.js';
import { SourceError, UserError } from '../errors.js';
import { refreshRollups } from '../scoring/rollups.js';
import type { Secret } from '../secrets.js';
import type { Store } from '../store.js';
import type { Services } from '../verbs.js';
import { type PurgeCounts, purgeMentions, stagePurge } from './purge.js';
import { sourceContext } from './upstream.js';

/** X takes at most this many ids per job. */
const MAX_IDS = 500_000;
const JOBS = 'compliance/jobs';
const WHAT = 'batch compliance';

const jobSchema = z.object({
  data: z.object({
    id: z.string().min(1),
    status: z.enum(['created', 'in_progress', 'complete', 'failed', 'expired']),
    upload_url: z.url(),
    download_url: z.url(),
  }),
});
type Job = z.infer<typeof jobSchema>['data'];

/** One result line: the post and what to do (delete; scrub_geo only drops location data). */
const resultSchema = z.object({
  id: z.string().regex(/^\d{1,20}$/),
  action: z.string().min(1),
  reason: z.string().optional(),
});

export interface XComplianceResult {
  jobs: string[];
  /** Stored X posts sent for checking. */
  checked: number;
  /** Posts X said to delete, by its reason (deleted, suspended, protected, deactivated). */
  reasons: Record<string, number>;
  /** Posts whose stored raw payload was dropped for a scrub_geo. */
  scrubbedGeo: number;
  purged: PurgeCounts;
}

export interface XComplianceOptions {
  actor: string;
  /** Between status checks; X finishes a job in minutes to hours. */
  pollMs?: number;
  /** Give up (the job goes on at X, nothing changes here) after this long. */
  maxWaitMs?: number;
}

function parseJob(body: string, url: string): Job {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new SourceError(`X answered ${WHAT} with something that is not JSON`, 200, url);
  }
  const parsed = jobSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SourceError(
      `X answered ${WHAT} without a usable job (${issue?.path.join('.')}: ${issue?.message})`,
      200,
      url,
    );
  }
  return parsed.data.data;
}

/** Upload and download go to the signed URLs X hands out (cloud storage): no X token goes there. */
async function transfer(
  ctx: CollectorContext,
  url: string,
  init: RequestInit,
  what: string,
): Promise<string> {
  const res = await ctx.fetch(url, { ...init, signal: ctx.signal });
  const text = await res.text();
  if (!res.ok)
    throw new SourceError(`${what} failed with HTTP ${res.status}`, res.status, url.split('?')[0] ?? url);
  return text;
}

/** Runs one job over `ids` and returns its result lines, parsed; a bad line fails the whole job. */
async function runJob(
  ctx: CollectorContext,
  token: Secret,
  ids: string[],
  opts: Required<Omit<XComplianceOptions, 'actor'>>,
): Promise<{ id: string; results: z.infer<typeof resultSchema>[] }> {
  const created = await callX(ctx, token, {
    path: JOBS,
    body: { type: 'tweets', name: `earshot-${ctx.now().toISOString().slice(0, 10)}` },
    what: WHAT,
  });
  let job = parseJob(created.body, created.url);
  await transfer(
    ctx,
    job.upload_url,
    { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: `${ids.join('\n')}\n` },
    'uploading the post ids',
  );
  const deadline = ctx.now().getTime() + opts.maxWaitMs;
  while (job.status !== 'complete') {
    if (job.status === 'failed' || job.status === 'expired')
      throw new SourceError(
        `the X compliance job ${job.id} ${job.status}`,
        200,
        `${ctx.baseUrl}/2/${JOBS}/${job.id}`,
      );
    if (ctx.now().getTime() >= deadline)
      throw new UserError(
        `the X compliance job ${job.id} was not complete after ${Math.round(opts.maxWaitMs / 60_000)} minutes; run \`earshot compliance x\` again later (nothing was changed)`,
        504,
      );
    await ctx.sleep(opts.pollMs, ctx.signal);
    const polled = await callX(ctx, token, { path: `${JOBS}/${job.id}`, what: WHAT });
    job = parseJob(polled.body, polled.url);
  }
  const text = await transfer(ctx, job.download_url, { method: 'GET' }, 'downloading the results');
  const results = text
    .split('\n')
    .map((line, i) => ({ line: line.trim(), n: i + 1 }))
    .filter((l) => l.line !== '')
    .map(({ line, n }) => {
      let parsed: z.ZodSafeParseResult<z.infer<typeof resultSchema>>;
      try {
        parsed = resultSchema.safeParse(JSON.parse(line));
      } catch {
        parsed = resultSchema.safeParse(undefined);
      }
      if (!parsed.success)
        throw new SourceError(
          `the X compliance results, line ${n}, is not a result object`,
          200,
          'download_url',
        );
      return parsed.data;
    });
  return { id: job.id, results };
}

async function storedXIds(store: Store): Promise<string[]> {
  const rows = await store.query("SELECT native_id FROM mentions WHERE source = 'x' ORDER BY native_id");
  return rows.map((r) => String(r.native_id));
}

/** Checks every stored X post with X's batch compliance and purges what X says must go. */
export async function xCompliance(svc: Services, options: XComplianceOptions): Promise<XComplianceResult> {
  const source = svc.config.sources.find((s) => s.id === 'x');
  if (!source)
    throw new UserError(
      'compliance x: X is not configured; add `sources: x: {bearerToken: {secret: X_BEARER}}`',
    );
  const token = (source.settings as { bearerToken: Secret }).bearerToken;
  const opts = { pollMs: options.pollMs ?? 30_000, maxWaitMs: options.maxWaitMs ?? 60 * 60_000 };
  const ctx = sourceContext(svc, source, 'compliance');
  const ids = await storedXIds(svc.store);
  const jobs: string[] = [];
  const results: z.infer<typeof resultSchema>[] = [];
  // Every job finishes before anything is purged: a failure part-way changes nothing.
  for (let i = 0; i < ids.length; i += MAX_IDS) {
    const job = await runJob(ctx, token, ids.slice(i, i + MAX_IDS), opts);
    jobs.push(job.id);
    results.push(...job.results);
  }
  const stored = new Set(ids);
  const mine = results.filter((r) => stored.has(r.id));
  const scrub = mine.filter((r) => r.action === 'scrub_geo').map((r) => r.id);
  const remove = mine.filter((r) => r.action !== 'scrub_geo');
  const reasons: Record<string, number> = {};
  for (const r of remove) reasons[r.reason ?? r.action] = (reasons[r.reason ?? r.action] ?? 0) + 1;
  const purged = await svc.store.write(async (conn) => {
    if (scrub.length > 0)
      await conn.run(
        "UPDATE mentions SET raw = NULL WHERE source = 'x' AND list_contains($1::VARCHAR[], native_id)",
        [JSON.stringify(scrub)],
      );
    await stagePurge(
      conn,
      remove.map((r) => ['x', r.id] as const),
    );
    const counts = await purgeMentions(conn, svc.config.timezone);
    await appendAudit(
      conn,
      {
        actor: options.actor,
        action: 'compliance.x',
        detail: { jobs, checked: ids.length, reasons, scrubbedGeo: scrub.length, ...counts },
      },
      svc.now(),
    );
    return counts;
  });
  await refreshRollups(svc.store, svc.config.timezone);
  return { jobs, checked: ids.length, reasons, scrubbedGeo: scrub.length, purged };
}
