import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADOPTION_TABLES, warmWeekFigures } from '../../pipeline/adoption/week-cache.js';
import { eraseEmployee } from '../../pipeline/compliance/erase.js';
import { loadConfig } from '../../pipeline/config.js';
import { projectRoot } from '../../pipeline/paths.js';
import { openServices } from '../../pipeline/services.js';
import type { Store } from '../../pipeline/store.js';
import { collect } from '../../pipeline/verbs.js';
import { json, startLoopback } from '../helpers/loopback.js';
import { memoryLogger, tempDir } from '../helpers/store.js';
import { importAt, textFile } from '../imports/helpers.js';
import { openCanonical, report, TZ } from './helpers.js';

const kept = async (store: Store) =>
  Number((await store.query('SELECT count(*) AS n FROM adoption_week_figures'))[0]?.n);

// Leadership and analyst, company and breakdowns: every part the cache keeps, privacy applied after.
const CASES = [
  {},
  { by: ['department'] },
  { by: ['department', 'level'], audience: 'analyst' as const },
  { by: ['location'], days: 90 },
];
const all = async (store: Store) => {
  const out: string[] = [];
  for (const args of CASES) out.push(JSON.stringify(await report(store, args)));
  return out;
};

/** The canonical daily-activity CSV's header: the rows below add one person-day. */
const ACTIVITY_HEADER =
  'activity_date,platform,employee_id,posts,replies,reactions,reads,chat_messages,channel_messages,meetings_attended\n';

describe('adoption report weeks kept between reports (migration 014)', () => {
  let store: Store;
  let cleanup: () => void;
  let fresh: string[];
  beforeAll(async () => {
    ({ store, cleanup } = await openCanonical());
    expect(await kept(store)).toBe(0);
    fresh = await all(store);
  });
  afterAll(() => cleanup());

  it('a repeat report reads the kept weeks and equals the first byte for byte', async () => {
    // 12 weeks x (people + each breakdown asked for: company, department, department+level, location)
    expect(await kept(store)).toBe(12 * 5);
    expect(await all(store)).toEqual(fresh);
    // Read, not recomputed: a kept row changed by hand shows in the trend.
    const [row] = await store.query(
      "SELECT strftime(span_start, '%Y-%m-%d') AS week, rows FROM adoption_week_figures WHERE part = 'by:' ORDER BY span_start DESC LIMIT 1",
    );
    const rows = JSON.parse(String(row?.rows));
    rows.participation[0].participants = rows.participation[0].eligible;
    await store.write((conn) =>
      conn.run("UPDATE adoption_week_figures SET rows = $1 WHERE part = 'by:' AND span_start = $2", [
        JSON.stringify(rows),
        String(row?.week),
      ]),
    );
    const tampered = await report(store, { audience: 'analyst' });
    expect(tampered.trend[0]?.weeks?.at(-1)?.figures?.participation_rate?.value).toBe(1);
    // Rows kept by another build (its code hashes to another formula) are never read: the weeks
    // are computed again, as on the first report.
    await store.write((conn) => conn.run('UPDATE adoption_week_figures SET formula = formula + 1'));
    expect(await all(store)).toEqual(fresh);
  });

  it('an import makes the kept weeks stale at once: the next report equals one on a fresh copy', async () => {
    // Activity of a person quiet that week, in the window and in a week of the trend.
    const more = textFile('more.csv', `${ACTIVITY_HEADER}2026-03-25,viva_engage,E004,2,1,0,5,0,0,0\n`);
    await importAt(store, 'auto', [more]);
    expect(await kept(store)).toBe(0);
    const after = await all(store);
    expect(after).not.toEqual(fresh);
    const copy = await openCanonical();
    try {
      await importAt(copy.store, 'auto', [more]);
      expect(await all(copy.store)).toEqual(after);
    } finally {
      copy.cleanup();
    }
  });

  it('an import warms the default report weeks; a re-import of the same file keeps them', async () => {
    const more = textFile('more-2.csv', `${ACTIVITY_HEADER}2026-03-26,teams,E004,0,0,1,5,2,0,0\n`);
    await importAt(store, 'auto', [more]);
    expect(await kept(store)).toBe(0);
    await warmWeekFigures(store, TZ);
    // company and by department
    expect(await kept(store)).toBe(12 * 3);
    const warm = JSON.stringify(await report(store, { by: ['department'] }));
    expect(await kept(store)).toBe(12 * 3);
    await importAt(store, 'auto', [more]);
    expect(await kept(store)).toBe(12 * 3);
    await store.write((conn) => conn.run('DELETE FROM adoption_week_figures'));
    expect(JSON.stringify(await report(store, { by: ['department'] }))).toBe(warm);
  });

  it('reports computed at once (a page asks for several sections) all answer, as they would one by one', async () => {
    const copy = await openCanonical();
    try {
      const oneByOne = await all(copy.store);
      for (let round = 0; round < 3; round++) {
        await copy.store.write((conn) => conn.run('DELETE FROM adoption_week_figures'));
        const atOnce = await Promise.all(
          CASES.map(async (args) => JSON.stringify(await report(copy.store, args))),
        );
        expect(atOnce).toEqual(oneByOne);
        expect(await kept(copy.store)).toBe(12 * 5);
      }
    } finally {
      copy.cleanup();
    }
  });

  it('an erasure drops the kept weeks and keeps them again without the person', async () => {
    const copy = await openCanonical();
    const twin = await openCanonical();
    try {
      await warmWeekFigures(copy.store, TZ);
      const before = JSON.stringify(await report(copy.store, { by: ['department'] }));
      await eraseEmployee({ store: copy.store, timezone: TZ, now: () => new Date(), actor: 'test' }, 'E004');
      // company and by department, as after an import
      expect(await kept(copy.store)).toBe(12 * 3);
      const after = JSON.stringify(await report(copy.store, { by: ['department'] }));
      expect(after).not.toBe(before);
      // The kept weeks are those of the data without the person: the same report, computed from
      // nothing kept, on a twin erased and then cleared by hand.
      await eraseEmployee({ store: twin.store, timezone: TZ, now: () => new Date(), actor: 'test' }, 'E004');
      await twin.store.write((conn) => conn.run('DELETE FROM adoption_week_figures'));
      expect(JSON.stringify(await report(twin.store, { by: ['department'] }))).toBe(after);
    } finally {
      copy.cleanup();
      twin.cleanup();
    }
  });

  it('warming never fails the import: it logs why instead', async () => {
    const { logger, lines } = memoryLogger();
    const copy = await openCanonical();
    copy.store.close();
    await warmWeekFigures(copy.store, TZ, logger);
    copy.cleanup();
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({
        msg: 'could not keep the adoption report weeks ahead of the next report',
        err: expect.stringMatching(/closed/),
      }),
    ]);
  });
});

describe('a collection that brought adoption data', () => {
  it('warms the default report weeks as an import does; one that brought none leaves them', async () => {
    // Slack's member analytics file (the fixture's day served as whatever day is asked for).
    const ndjson = readFileSync(
      join(
        projectRoot,
        'tests/fixtures/adoption/exports/slack_admin.analytics.getFile_member_2026-04-16.ndjson',
      ),
      'utf8',
    );
    const slack = await startLoopback((req) =>
      req.url.pathname === '/api/admin.analytics.getFile'
        ? {
            headers: { 'content-type': 'application/gzip' },
            body: gzipSync(
              ndjson.replaceAll('"date":"2026-04-16"', `"date":"${req.url.searchParams.get('date')}"`),
            ),
          }
        : json({ ok: true }),
    );
    const { dir, cleanup } = tempDir();
    const config = join(dir, 'earshot.yaml');
    writeFileSync(
      config,
      `timezone: ${TZ}\nsources:\n  slack-analytics: {baseUrl: "${slack.url}", token: {secret: SLACK_ADMIN_TOKEN}, backfillDays: 2}\n`,
    );
    const svc = await openServices(
      loadConfig({ EARSHOT_CONFIG: config, EARSHOT_DB: join(dir, 'c.duckdb'), SLACK_ADMIN_TOKEN: 'xoxp-1' }),
      memoryLogger().logger,
      new AbortController().signal,
    );
    try {
      const [run] = await collect(svc, {});
      expect(run?.status).toBe('ok');
      expect(run?.newRows).toBeGreaterThan(0);
      // 12 weeks x (people, the company, by department)
      expect(await kept(svc.store)).toBe(12 * 3);
      await svc.store.write((conn) => conn.run('DELETE FROM adoption_week_figures'));
      // The same days again: the files are the same, nothing is written, nothing is warmed.
      await collect(svc, {});
      expect(await kept(svc.store)).toBe(0);
    } finally {
      await svc.store.closeGracefully();
      await slack.close();
      cleanup();
    }
  });
});

/** Every .ts file under the code folders. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

describe('every writer of the adoption tables bumps the data version', () => {
  it('in the code that writes them', () => {
    const verb = /\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|DELETE\s+FROM|UPDATE|TRUNCATE|COPY)\s+(\w+)/gi;
    const appended = /appendRows\(\s*\w+,\s*'(\w+)'/g;
    const writers = new Set<string>();
    for (const path of ['collectors', 'pipeline', 'dashboard'].flatMap((d) =>
      sources(join(projectRoot, d)),
    )) {
      const text = readFileSync(path, 'utf8');
      const tables = [...text.matchAll(verb), ...text.matchAll(appended)].map((m) => m[1]?.toLowerCase());
      if (tables.some((t) => (ADOPTION_TABLES as readonly (string | undefined)[]).includes(t)))
        writers.add(relative(projectRoot, path));
    }
    // The test must see the writers it guards.
    expect([...writers].sort()).toEqual(['collectors/imports/write.ts', 'pipeline/compliance/erase.ts']);
    for (const w of writers)
      expect(readFileSync(join(projectRoot, w), 'utf8'), w).toMatch(/bumpAdoptionData\(conn\)/);
  });
});
