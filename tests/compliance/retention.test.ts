import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cron from 'node-cron';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultRetention, runRetention } from '../../pipeline/compliance/retention.js';
import { loadConfig } from '../../pipeline/config.js';
import { ConfigError } from '../../pipeline/errors.js';
import { storeBatch } from '../../pipeline/ingest.js';
import { Scheduler } from '../../pipeline/scheduler.js';
import { scoreNew } from '../../pipeline/scoring/score.js';
import { type Hit, hnSearch, syntheticHits } from '../helpers/fake-hn.js';
import { databaseText, harnessServices, type SourceHarness, sourceHarness } from '../helpers/runner.js';
import { tempDir } from '../helpers/store.js';
import { rollupSnapshot, scoringDeps } from '../scoring/helpers.js';

const OLD = new Date('2025-06-01T00:00:00Z');
const NOW = new Date('2026-11-21T00:00:00Z');
let h: SourceHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Hacker News collected twice through the runner: a year and a half ago, and today. */
async function seeded(): Promise<SourceHarness> {
  const hits: Hit[] = syntheticHits(3, OLD.getTime() / 1000 - 3600);
  const harness = await sourceHarness({
    id: 'hackernews',
    start: OLD,
    handler: () => (req) => hnSearch(hits)(req),
    settings: () => ({}),
    keywords: ['acme'],
  });
  await harness.run();
  await storeBatch(harness.store, {
    source: 'hackernews',
    partition: 'acme',
    runId: 0,
    records: [],
    quarantine: [{ raw: '{"hits": [truncated', error: 'not JSON', url: null }],
    bookmark: null,
    budget: new Map(),
    now: OLD,
  });
  harness.clock.set(NOW);
  hits.push(
    ...syntheticHits(2, NOW.getTime() / 1000 - 7200).map((x, i) => ({ ...x, objectID: `5000000${i}` })),
  );
  await harness.run();
  await storeBatch(harness.store, {
    source: 'hackernews',
    partition: 'acme',
    runId: 0,
    records: [],
    quarantine: [{ raw: '{"hits": [also truncated', error: 'not JSON', url: null }],
    bookmark: null,
    budget: new Map(),
    now: NOW,
  });
  await scoreNew(scoringDeps(harness.store, 'Asia/Seoul', { now: harness.clock.now }));
  return harness;
}

const deps = (x: SourceHarness) => ({ store: x.store, now: x.clock.now, actor: 'cli:tester' });

describe('retention', () => {
  it('counts in a dry run without changing anything, then removes per kind and keeps every aggregate', async () => {
    h = await seeded();
    const before = await databaseText(h.store);
    // The rollups, without the term index (per mention, not an aggregate: checked below).
    const aggregates = async (x: SourceHarness) => {
      const all = await rollupSnapshot(x.store);
      return all.slice(0, all.indexOf('mention_terms'));
    };
    const rollups = await aggregates(h);
    expect(rollups).toContain('rollup_terms_hourly');
    const oldRuns = Number(
      (
        await h.store.query('SELECT count(*) AS n FROM collection_runs WHERE started_at < $1::TIMESTAMPTZ', [
          '2026-01-01T00:00:00Z',
        ])
      )[0]?.n,
    );
    expect(oldRuns).toBeGreaterThan(0);

    // The term index holds the words of old and new mentions alike before a run.
    const terms = async () =>
      (
        await h?.store.query(
          `SELECT count(*) FILTER (WHERE created_at < $1::TIMESTAMPTZ)::INTEGER AS old,
             count(*) FILTER (WHERE created_at >= $1::TIMESTAMPTZ)::INTEGER AS new FROM mention_terms`,
          ['2025-11-21T00:00:00Z'],
        )
      )?.[0];
    expect(Number((await terms())?.old)).toBeGreaterThan(0);
    const newTerms = Number((await terms())?.new);
    expect(newTerms).toBeGreaterThan(0);

    const dry = await runRetention(deps(h), defaultRetention, { dryRun: true });
    const expected = [
      { kind: 'mentionText', days: 365, removed: 3, before: '2025-11-21T00:00:00.000Z' },
      { kind: 'quarantine', days: 30, removed: 1, before: '2026-10-22T00:00:00.000Z' },
      { kind: 'runs', days: 90, removed: oldRuns, before: '2026-08-23T00:00:00.000Z' },
    ];
    expect(dry).toEqual({ dryRun: true, kinds: expected });
    expect(await databaseText(h.store)).toBe(before);

    expect(await runRetention(deps(h), defaultRetention)).toEqual({ dryRun: false, kinds: expected });
    const mentions = await h.store.query(
      'SELECT native_id, text, title, raw IS NULL AS no_raw FROM mentions ORDER BY created_at',
    );
    expect(mentions.map((m) => [m.text === '' && m.title === null && m.no_raw])).toEqual([
      [true],
      [true],
      [true],
      [false],
      [false],
    ]);
    expect(await aggregates(h)).toEqual(rollups);
    // A search finds no word of a removed text; the recent mentions' words stay.
    expect(await terms()).toEqual({ old: 0, new: newTerms });
    expect(await h.store.query('SELECT raw FROM quarantine')).toEqual([{ raw: '{"hits": [also truncated' }]);
    expect(
      Number(
        (
          await h.store.query(
            'SELECT count(*) AS n FROM collection_runs WHERE started_at < $1::TIMESTAMPTZ',
            ['2026-01-01T00:00:00Z'],
          )
        )[0]?.n,
      ),
    ).toBe(0);
    expect(Number((await h.store.query('SELECT count(*) AS n FROM collection_runs'))[0]?.n)).toBeGreaterThan(
      0,
    );
    const audit = await h.store.query(
      "SELECT actor, detail::VARCHAR AS detail FROM audit_log WHERE action = 'retention.run'",
    );
    expect(audit).toHaveLength(1);
    expect(JSON.parse(String(audit[0]?.detail))).toEqual({
      mentionText: { days: 365, removed: 3 },
      quarantine: { days: 30, removed: 1 },
      runs: { days: 90, removed: oldRuns },
    });

    // Nothing is left to remove; a kind set to null is never looked at.
    const again = await runRetention(deps(h), { ...defaultRetention, runs: null });
    expect(again.kinds.map((k) => [k.kind, k.removed, k.days])).toEqual([
      ['mentionText', 0, 365],
      ['quarantine', 0, 30],
      ['runs', 0, null],
    ]);
  });
});

describe('retention on schedule', () => {
  it('is a daily scheduler job that applies the configured policies as the scheduler', async () => {
    h = await seeded();
    const svc = harnessServices(h, 'Asia/Seoul');
    const scheduler = new Scheduler(
      { ...svc, config: { ...svc.config, retention: { ...defaultRetention, runs: null } } },
      0,
    );
    await scheduler.start();
    try {
      expect([...cron.getTasks().values()].map((t) => t.name)).toContain('retention');
      await scheduler.runRetention();
    } finally {
      await scheduler.stop();
    }
    const [entry] = await h.store.query(
      "SELECT actor, detail->>'$.runs.days' AS runs FROM audit_log WHERE action = 'retention.run'",
    );
    expect(entry).toEqual({ actor: 'scheduler', runs: null });
    expect((await h.store.query("SELECT count(*) AS n FROM mentions WHERE text = ''"))[0]?.n).toBe(3);
  });
});

describe('retention config', () => {
  const { dir, cleanup } = tempDir();
  const load = (yaml: string) => {
    const path = join(dir, 'earshot.yaml');
    writeFileSync(path, yaml);
    return loadConfig({ EARSHOT_CONFIG: path, EARSHOT_DB: join(dir, 'x.duckdb') });
  };

  it('defaults every kind, takes overrides and null, and names the bad field', () => {
    try {
      expect(load('timezone: UTC\n').retention).toEqual(defaultRetention);
      expect(load('retention: {quarantine: 7, mentionText: null}\n').retention).toMatchObject({
        quarantine: 7,
        mentionText: null,
        runs: 90,
      });
      expect(() => load('retention: {quarantine: 0}\n')).toThrow(
        /retention\.quarantine: must be 1 day or more/,
      );
      expect(() => load('retention: {mentions: 10}\n')).toThrow(ConfigError);
      expect(() => load('retention: {mentions: 10}\n')).toThrow(/retention: unknown field\(s\) mentions/);
      expect(() => load('retention: {schedule: "daily"}\n')).toThrow(
        /retention\.schedule: is not a cron expression/,
      );
    } finally {
      cleanup();
    }
  });
});
