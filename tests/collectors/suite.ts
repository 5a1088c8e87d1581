import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectorOf } from '../../collectors/registry.js';
import { collectSource, type PartitionResult, type RunnerDeps } from '../../collectors/runner.js';
import type { SourceConfig } from '../../pipeline/config.js';
import type { Row, Store } from '../../pipeline/store.js';
import { timestamptz } from '../../pipeline/store.js';
import { FakeClock } from '../helpers/clock.js';
import { type Handler, type Loopback, type Reply, type Request, startLoopback } from '../helpers/loopback.js';
import { insertTopic, mentionIds, sourceConfig, testDeps } from '../helpers/runner.js';
import { openTestStore } from '../helpers/store.js';

/** A loopback stand-in for one source's API, built fresh for every test. */
export interface FakeApi {
  handler: Handler;
  /** Requests that fetch mentions (faults are injected into these only, not into auth calls). */
  isData(req: Request): boolean;
}

export interface SourceSpec {
  source: string;
  /** The source's config section as a user writes it, with secrets already resolved. */
  settings: Record<string, unknown>;
  /** Topic keywords in the database (what search sources collect). */
  keywords: string[];
  /** The fake clock's start. */
  start: Date;
  api: () => FakeApi;
  /** Every native id a complete collection stores. */
  expectedIds: string[];
  /** Field-by-field checks of the stored rows after the first run. */
  checkRows(rows: Row[]): void;
  /** A bookmark so far in the future that a run must collect nothing. */
  farFutureBookmark(partition: string, now: Date): unknown;
  /** The source's own 429 answer. */
  rateLimited(now: Date): Reply;
}

type Fault = 'ok' | '429' | '500' | 'garbled';

/** Wraps an API so its data requests get `faults` in order, then behave. */
function faulty(api: FakeApi, spec: SourceSpec, clock: FakeClock, faults: Fault[]): Handler {
  return async (req) => {
    if (!api.isData(req)) return api.handler(req);
    const fault = faults.shift() ?? 'ok';
    if (fault === '429') return spec.rateLimited(clock.now());
    if (fault === '500')
      return { status: 500, headers: { 'content-type': 'text/plain' }, body: 'upstream broke' };
    const good = await api.handler(req);
    if (fault === 'garbled') {
      const body = typeof good.body === 'string' ? Buffer.from(good.body) : (good.body ?? Buffer.alloc(0));
      return { ...good, body: body.subarray(0, Math.max(1, Math.floor(body.length / 2))) };
    }
    return good;
  };
}

export function describeSource(spec: SourceSpec): void {
  describe(`collector ${spec.source}`, () => {
    let store: Store;
    let cleanup: () => void;
    let server: Loopback;
    let clock: FakeClock;
    let faults: Fault[];
    let source: SourceConfig;
    let logLines: string[];

    beforeEach(async () => {
      ({ store, cleanup } = await openTestStore());
      clock = new FakeClock(spec.start.getTime());
      faults = [];
      const api = spec.api();
      server = await startLoopback(faulty(api, spec, clock, faults));
      source = sourceConfig(
        spec.source,
        server.url,
        collectorOf(spec.source).configSchema.parse(spec.settings),
      );
      await insertTopic(store, spec.keywords);
    });
    afterEach(async () => {
      await server.close();
      cleanup();
    });

    const deps = (
      signal = new AbortController().signal,
      onProgress?: RunnerDeps['onProgress'],
    ): RunnerDeps => {
      const { deps, lines } = testDeps(store, clock, { signal, ...(onProgress ? { onProgress } : {}) });
      logLines = lines;
      return deps;
    };
    const run = () => collectSource(source, deps());
    const ids = () => mentionIds(store, spec.source);
    const expected = [...spec.expectedIds].sort();
    /** Runs until nothing is rate limited any more, moving the clock past each reset. */
    const runToEnd = async (): Promise<PartitionResult[][]> => {
      const all: PartitionResult[][] = [];
      for (let i = 0; i < 4; i++) {
        const results = await run();
        all.push(results);
        const waits = results.filter((r) => r.resumeAfter).map((r) => Date.parse(r.resumeAfter as string));
        if (waits.length === 0) return all;
        clock.set(new Date(Math.max(...waits) + 1000));
      }
      return all;
    };

    it('stores every item with the right fields on the first run', async () => {
      const results = await run();
      expect(results.length).toBeGreaterThan(0);
      for (const r of results) expect(r, JSON.stringify(r)).toMatchObject({ status: 'ok', error: null });
      expect(await ids()).toEqual(expected);
      const rows = await store.query('SELECT * FROM mentions WHERE source = $1 ORDER BY native_id', [
        spec.source,
      ]);
      spec.checkRows(rows);
      const runs = await store.query('SELECT sum(rows) AS rows, sum(new_rows) AS n FROM collection_runs');
      expect(Number(runs[0]?.n)).toBe(expected.length);
      const authors = await store.query('SELECT count(*) AS n FROM authors WHERE source = $1', [spec.source]);
      const withAuthor = rows.filter((r) => r.author_id !== null).length;
      expect(Number(authors[0]?.n) > 0).toBe(withAuthor > 0);
    });

    it('adds no rows on a second run', async () => {
      await run();
      const second = await run();
      expect(second.reduce((n, r) => n + r.newRows, 0)).toBe(0);
      expect(await ids()).toEqual(expected);
    });

    it('collects nothing after a far-future bookmark', async () => {
      const partitions = collectorOf(spec.source).partitions(source.settings, { keywords: spec.keywords });
      await store.write(async (conn) => {
        for (const p of partitions) {
          await conn.run('INSERT INTO bookmarks VALUES ($1, $2, $3, $4)', [
            spec.source,
            p.key,
            JSON.stringify(spec.farFutureBookmark(p.key, clock.now())),
            timestamptz(clock.now()),
          ]);
        }
      });
      const results = await run();
      for (const r of results) expect(r.status).toBe('ok');
      expect(await ids()).toEqual([]);
    });

    it('survives a 429 and ends with every row', async () => {
      faults.push('429');
      const runs = await runToEnd();
      expect(await ids()).toEqual(expected);
      expect(runs.flat().some((r) => r.status === 'rate_limited') || clock.sleeps.length > 0).toBe(true);
      for (const r of runs.at(-1) ?? []) expect(r.status).toBe('ok');
    });

    it('retries two 500s with backoff and ends with every row', async () => {
      faults.push('500', '500');
      const results = await run();
      for (const r of results) expect(r.status).toBe('ok');
      expect(clock.sleeps.length).toBeGreaterThanOrEqual(2);
      expect(await ids()).toEqual(expected);
    });

    it('resumes after a crash between batches with no loss and no duplicate', async () => {
      const controller = new AbortController();
      const first = await collectSource(
        source,
        deps(controller.signal, (e) => {
          if (e.status === 'running' && e.rows > 0) controller.abort(new Error('simulated crash'));
        }),
      );
      expect(first.some((r) => r.status === 'aborted')).toBe(true);
      const partial = await ids();
      expect(partial.length).toBeGreaterThan(0);
      expect(partial.length).toBeLessThan(expected.length);
      await run();
      expect(await ids()).toEqual(expected);
    });

    it('resumes after a run that failed between batches (a thrown error)', async () => {
      faults.push('ok', '500', '500', '500', '500', '500', '500');
      const first = await run();
      expect(first.some((r) => r.status === 'error')).toBe(true);
      const partial = await ids();
      expect(partial.length).toBeGreaterThan(0);
      await run();
      expect(await ids()).toEqual(expected);
    });

    it('quarantines a garbled payload, finishes the run, and collects it next time', async () => {
      faults.push('garbled');
      const results = await run();
      expect(results.length).toBeGreaterThan(0);
      const q = await store.query('SELECT source, error, raw FROM quarantine');
      expect(q.length).toBeGreaterThanOrEqual(1);
      expect(q[0]?.source).toBe(spec.source);
      expect(String(q[0]?.raw).length).toBeGreaterThan(0);
      const runs = await store.query("SELECT count(*) AS n FROM collection_runs WHERE status = 'running'");
      expect(Number(runs[0]?.n)).toBe(0);
      await run();
      expect(await ids()).toEqual(expected);
      expect(logLines.length).toBeGreaterThan(0);
    });
  });
}
