import { copyFileSync, renameSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectorOf } from '../../collectors/registry.js';
import { xCompliance } from '../../pipeline/compliance/x.js';
import { SourceError, UserError } from '../../pipeline/errors.js';
import { scoreNew } from '../../pipeline/scoring/score.js';
import { Secret } from '../../pipeline/secrets.js';
import { Store } from '../../pipeline/store.js';
import { type Services, SourceLocks } from '../../pipeline/verbs.js';
import { FakeClock } from '../helpers/clock.js';
import { json, type Loopback, type Request, startLoopback } from '../helpers/loopback.js';
import { mentionRecord } from '../helpers/mention.js';
import { databaseText, sourceConfig } from '../helpers/runner.js';
import { memoryLogger, openTestStore } from '../helpers/store.js';
import { addTopic, collect, scoringDeps } from '../scoring/helpers.js';
import { weirdString, weirdValue } from './arbitraries.js';
import { options, runs, settleAsync, timeoutFor } from './runs.js';

// X's batch compliance results come from cloud storage X points us to: one JSON object a line, or
// whatever a broken or hostile download holds. Every download ends with the posts it names as
// deleted gone (and nothing else), or a clear error and the database exactly as it was.
const IDS = ['1860000000000000001', '1860000000000000002', '1860000000000000003'];
const JOB = '1372966999991541762';
let store: Store;
let cleanup: () => void;
let server: Loopback;
let download = '';

/** The seeded database, closed: each case that purged something starts again from a copy of it. */
let pristine = '';
let copies = 0;

async function seed(): Promise<void> {
  ({ store, cleanup } = await openTestStore());
  await addTopic(store, 'acme', 'acme', null, new Date('2026-11-01T00:00:00Z'));
  const records = IDS.map((id, i) =>
    mentionRecord({
      nativeId: id,
      text: `acme post ${i}`,
      createdAt: new Date(Date.UTC(2026, 10, 20, 9, i)),
      authorId: `u${i}`,
      authorHandle: `author${i}`,
      raw: { geo: { place_id: `p${i}` } },
    }),
  );
  await collect(store, 'x', records, new Date(Date.UTC(2026, 10, 20, 10)));
  await scoreNew(scoringDeps(store, 'UTC'));
  await store.closeGracefully();
  pristine = `${store.path}.pristine`;
  renameSync(store.path, pristine);
  await reopen();
}

async function reopen(): Promise<void> {
  store.close();
  const path = `${pristine}.${++copies}`;
  copyFileSync(pristine, path);
  store = await Store.open(path);
}

function services(): Services {
  const x = collectorOf('x').configSchema.parse({ bearerToken: new Secret('X_BEARER', 'x-fuzz-bearer-123') });
  return {
    config: {
      configPath: null,
      databasePath: store.path,
      host: '127.0.0.1',
      port: 0,
      timezone: 'UTC',
      logLevel: 'debug',
      topics: [],
      sources: [sourceConfig('x', server.url, x)],
      maxRateLimitWaitMs: 0,
      minGroupSize: 5,
    },
    store,
    logger: memoryLogger().logger,
    fetch,
    now: new FakeClock(Date.UTC(2026, 10, 21)).now,
    sleep: async () => undefined,
    signal: new AbortController().signal,
    locks: new SourceLocks(),
  };
}

beforeAll(async () => {
  await seed();
  // X's job API, complete at the first poll; the download is the case's text.
  server = await startLoopback((req: Request) => {
    const job = (status: string) =>
      json({
        data: {
          id: JOB,
          status,
          upload_url: `${server.url}/storage/upload`,
          download_url: `${server.url}/storage/download`,
        },
      });
    const path = req.url.pathname;
    if (req.method === 'POST' && path === '/2/compliance/jobs') return job('created');
    if (req.method === 'GET' && path === `/2/compliance/jobs/${JOB}`) return job('complete');
    if (req.method === 'PUT' && path === '/storage/upload') return { status: 200 };
    if (req.method === 'GET' && path === '/storage/download') return { body: download };
    return { status: 404 };
  });
});
afterAll(async () => {
  await server.close();
  store.close();
  cleanup();
});

/** A line as X writes it, for a stored id or one we never had. */
const goodLine = fc.record({
  id: fc.oneof(fc.constantFrom(...IDS), fc.constant('1999999999999999999')),
  action: fc.constantFrom('delete', 'scrub_geo'),
  reason: fc.constantFrom('deleted', 'suspended', 'protected', 'deactivated', 'scrub_geo'),
});

/** A line X did not write: a good one with a field changed or dropped, cut short, or junk. */
const badLine = fc.oneof(
  fc
    .tuple(goodLine, fc.constantFrom('id', 'action', 'reason', 'extra'), weirdValue, fc.boolean())
    .map(([l, key, value, drop]) => {
      const o: Record<string, unknown> = { ...l };
      if (drop) delete o[key];
      else o[key] = value;
      return JSON.stringify(o);
    }),
  fc.tuple(goodLine, fc.nat()).map(([l, at]) => {
    const text = JSON.stringify(l);
    return text.slice(0, at % text.length);
  }),
  weirdString.map((s) => s.replaceAll('\n', ' ')),
  weirdValue.map((v) => JSON.stringify(v) ?? 'undefined'),
);

const line = fc.oneof(
  { weight: 3, arbitrary: goodLine.map((l) => ({ good: l, text: JSON.stringify(l) })) },
  { weight: 2, arbitrary: badLine.map((text) => ({ good: null, text })) },
);

describe('fuzz: X batch compliance result lines', () => {
  const n = runs(200);
  it(
    `purges exactly the posts the lines name, or refuses with an error naming the line and changes nothing (${n} cases)`,
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(line, { maxLength: 8 }),
          fc.constantFrom('\n', '\r\n'),
          async (lines, eol) => {
            download = lines.map((l) => l.text).join(eol);
            const before = await databaseText(store);
            const outcome = await settleAsync('compliance x', () =>
              xCompliance(services(), { actor: 'fuzz' }),
            );
            if (!outcome.ok) {
              const err = outcome.error;
              expect(err instanceof SourceError || err instanceof UserError, String(err)).toBe(true);
              expect((err as Error).message).toMatch(/X compliance results, line \d+/);
              expect(await databaseText(store)).toBe(before);
              return;
            }
            const stored = new Set(
              (await store.query("SELECT native_id FROM mentions WHERE source = 'x'")).map((r) =>
                String(r.native_id),
              ),
            );
            for (const l of lines) {
              if (l.good?.action === 'delete') expect(stored.has(l.good.id), l.text).toBe(false);
            }
            // A post no line names in any way stays.
            for (const id of IDS)
              if (!lines.some((l) => l.text.includes(id))) expect(stored.has(id), id).toBe(true);
            // Purged or scrubbed: the next case starts from the seeded posts again.
            if (outcome.value.purged.mentions > 0 || outcome.value.scrubbedGeo > 0) await reopen();
          },
        ),
        options(n, 400),
      );
    },
    timeoutFor(n, 400),
  );
});
