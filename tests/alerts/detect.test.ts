import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runAlerts } from '../../pipeline/alerts/detect.js';
import { listAlerts } from '../../pipeline/alerts/records.js';
import { type Store, timestamptz } from '../../pipeline/store.js';
import { FakeClock } from '../helpers/clock.js';
import { memoryLogger, openTestStore } from '../helpers/store.js';
import { alertConfig, HOUR, hourAt, noisy, seedHours, seedRun, seedTopic, services } from './seed.js';

let store: Store;
let cleanup: () => void;
let clock: FakeClock;
beforeEach(async () => {
  ({ store, cleanup } = await openTestStore());
  clock = new FakeClock(hourAt(0).getTime());
  await seedTopic(store, 'hanbit', 'Hanbit Electronics');
});
afterEach(() => cleanup());

function run(rules: object = {}) {
  return runAlerts(services(store, alertConfig({ rules }), memoryLogger().logger, clock));
}
const all = () => listAlerts(store, { limit: 1000 });

describe('volume spikes', () => {
  it('alerts once for a known spike: not on re-run, not again within the cool-down', async () => {
    const series = noisy(200, 10, 3);
    series[180] = 60;
    series[183] = 70;
    await seedHours(store, 'hanbit', 0, series);
    clock.set(hourAt(200));
    const first = await run();
    // The spike at 183 is inside the 6-hour cool-down of the one at 180.
    expect(first.created).toEqual([expect.objectContaining({ kind: 'volume_spike', topicId: 'hanbit' })]);
    const [alert] = await all();
    expect(alert).toMatchObject({
      kind: 'volume_spike',
      status: 'open',
      topicId: 'hanbit',
      windowStart: hourAt(180).toISOString(),
      windowEnd: hourAt(181).toISOString(),
      value: 60,
    });
    expect(alert?.baseline?.mean).toBeGreaterThan(9);
    expect(alert?.baseline?.mean).toBeLessThan(11);
    expect(alert?.title).toContain('Hanbit Electronics');

    // Re-running over the same hours (bookmark moved) and even with the bookmark gone adds nothing.
    expect((await run()).created).toEqual([]);
    await store.write((c) => c.run(`DELETE FROM pipeline_state WHERE stage = 'alerts'`));
    expect((await run()).created).toEqual([]);

    // Past the cool-down, the next spike alerts again.
    await seedHours(store, 'hanbit', 200, [...noisy(5, 10, 3, 11), 90]);
    clock.set(hourAt(206));
    expect((await run()).created).toHaveLength(1);
    expect((await all()).map((a) => a.windowStart)).toEqual([
      hourAt(205).toISOString(),
      hourAt(180).toISOString(),
    ]);
  });

  it('never alerts on a flat series', async () => {
    await seedHours(store, 'hanbit', 0, new Array(300).fill(25));
    clock.set(hourAt(300));
    expect((await run()).created).toEqual([]);
  });

  it('does not alert on noise below mean + k·sd, and does above it', async () => {
    // Alternating 0 and 40: mean 20, sd 20, so the threshold is 80 with k = 3.
    const series = Array.from({ length: 168 }, (_, i) => (i % 2 === 0 ? 0 : 40));
    await seedHours(store, 'hanbit', 0, [...series, 75]);
    clock.set(hourAt(169));
    expect((await run()).created).toEqual([]);
    await seedHours(store, 'hanbit', 169, [...series.slice(1), 0, 85]);
    clock.set(hourAt(338));
    expect((await run()).created).toEqual([expect.objectContaining({ kind: 'volume_spike' })]);
    const [alert] = await all();
    expect(alert?.baseline?.threshold).toBeCloseTo(80, 0);
  });

  it('respects the minimum volume and the minimum baseline history', async () => {
    await seedHours(store, 'hanbit', 0, [1, ...new Array(47).fill(0), 9]);
    clock.set(hourAt(49));
    expect((await run({ minVolume: 10 })).created).toEqual([]);
    await seedHours(store, 'hanbit', 49, [10]);
    clock.set(hourAt(50));
    expect((await run({ minVolume: 10 })).created).toHaveLength(1);

    // A topic whose first mentions arrive now has no baseline yet: its first day is not judged.
    await seedTopic(store, 'fresh');
    await seedHours(store, 'fresh', 50, [1, 0, 0, 30]);
    clock.set(hourAt(54));
    expect((await run({ minVolume: 10 })).created).toEqual([]);
  });

  it('judges only completed hours that have settled, and no history on the first run', async () => {
    await seedHours(store, 'hanbit', 0, [...noisy(100, 10, 2), 60]);
    clock.set(new Date(hourAt(101).getTime() + 10 * 60_000));
    expect((await run({ settleMinutes: 20 })).created).toEqual([]);
    clock.advance(10 * 60_000);
    expect((await run({ settleMinutes: 20 })).created).toHaveLength(1);

    await store.write((c) => c.run('DELETE FROM alerts; DELETE FROM pipeline_state'));
    clock.set(hourAt(101 + 30));
    expect((await run({ lookbackHours: 24 })).created).toEqual([]);
  });
});

describe('negative surges', () => {
  it('alerts when negative count and share rise together, not on a volume spike with the usual mood', async () => {
    const counts = noisy(170, 20, 3);
    const negative: number[] = counts.map((_, i) => (i % 5 === 0 ? 3 : 2));
    // Hour 168: same volume, half negative. Hour 169: five times the volume, the usual 10%.
    counts[168] = 20;
    negative[168] = 10;
    counts[169] = 100;
    negative[169] = 10;
    await seedHours(store, 'hanbit', 0, counts, negative);
    clock.set(hourAt(170));
    const { created } = await run();
    expect(created.map((c) => c.kind).sort()).toEqual(['negative_surge', 'volume_spike']);
    const alerts = await all();
    expect(alerts.find((a) => a.kind === 'negative_surge')?.windowStart).toBe(hourAt(168).toISOString());
    expect(alerts.find((a) => a.kind === 'volume_spike')?.windowStart).toBe(hourAt(169).toISOString());
    const surge = alerts.find((a) => a.kind === 'negative_surge');
    expect(surge?.why.sentiment?.now.negative).toBeCloseTo(0.5, 5);
    expect(surge?.why.sentiment?.before.negative).toBeLessThan(0.15);
  });

  it('needs the minimum negative count', async () => {
    const counts = new Array(100).fill(4);
    const negative = new Array(100).fill(0);
    counts.push(4);
    negative.push(4);
    await seedHours(store, 'hanbit', 0, counts, negative);
    clock.set(hourAt(101));
    expect((await run({ negativeMinCount: 5 })).created).toEqual([]);
    await store.write((c) => c.run('DELETE FROM pipeline_state'));
    expect((await run({ negativeMinCount: 4 })).created).toEqual([
      expect.objectContaining({ kind: 'negative_surge' }),
    ]);
  });
});

describe('collection failures', () => {
  it('raises one alert per streak of 3 failed runs; a 4th adds none; a success resets', async () => {
    await seedRun(store, 'naver', 'news:a', 'ok');
    await seedRun(store, 'naver', 'news:a', 'error');
    await seedRun(store, 'naver', 'news:a', 'error');
    await seedRun(store, 'naver', 'news:b', 'error');
    expect((await run()).created).toEqual([]);
    await seedRun(store, 'naver', 'news:a', 'interrupted');
    const { created } = await run();
    expect(created).toEqual([expect.objectContaining({ kind: 'collection_failure', source: 'naver' })]);
    const [alert] = await all();
    expect(alert).toMatchObject({ partition: 'news:a', value: 3, topicId: null });
    expect(alert?.why.failedRuns).toMatchObject({ runs: 3, lastError: 'HTTP 500 from naver.example' });

    await seedRun(store, 'naver', 'news:a', 'error');
    expect((await run()).created).toEqual([]);

    await seedRun(store, 'naver', 'news:a', 'ok');
    for (let i = 0; i < 3; i++) await seedRun(store, 'naver', 'news:a', 'error');
    const again = await run();
    expect(again.created).toHaveLength(1);
    expect((await all())[0]?.summary).toContain('HTTP 500 from naver.example');
  });

  it('counts a rate-limited run as the end of a streak, like `earshot status`', async () => {
    for (const status of ['error', 'error', 'rate_limited', 'error', 'error'])
      await seedRun(store, 'x', 'q', status);
    expect((await run()).created).toEqual([]);
  });
});

describe('the why', () => {
  it('carries top terms, top sources, sentiment shift, three original examples and a link', async () => {
    const series = noisy(170, 10, 2);
    series[169] = 51;
    await seedHours(store, 'hanbit', 0, series);
    const hour = hourAt(169);
    await store.write(async (c) => {
      for (let i = 0; i < 169; i++)
        await c.run(`INSERT INTO rollup_terms_hourly VALUES ('hanbit', $1, 'phone', 5)`, [
          timestamptz(new Date(hour.getTime() - (i + 1) * HOUR)),
        ]);
      await c.run(
        `INSERT INTO rollup_terms_hourly VALUES ('hanbit', $1, 'phone', 6), ('hanbit', $1, 'recall', 30), ('hanbit', $1, 'battery', 12)`,
        [timestamptz(hour)],
      );
      const at = (m: number) => timestamptz(new Date(hour.getTime() + m * 60_000));
      const mention = async (id: string, likes: number, extra: { repost?: boolean; text?: string } = {}) => {
        await c.run(
          `INSERT INTO mentions (source, native_id, partition, url, text, author_handle, created_at,
             created_at_estimated, collected_at, seen_at, likes, is_repost)
           VALUES ('rss', $1, 'p', $2, $3, 'someone', $4, false, $4, $4, $5, $6)`,
          [
            id,
            `https://news.example/${id}`,
            extra.text ?? `text of ${id}`,
            at(5),
            likes,
            extra.repost ?? false,
          ],
        );
        await c.run(`INSERT INTO mention_topics VALUES ('rss', $1, 'hanbit')`, [id]);
      };
      await mention('a', 10, { text: `long ${'word '.repeat(200)}` });
      await mention('b', 50);
      await mention('c', 30);
      await mention('d', 5);
      await mention('repost', 1000, { repost: true });
      await mention('copy', 900);
      await c.run(
        `INSERT INTO mention_scores (source, native_id, lang, lang_origin, sentiment, sentiment_score, sentiment_model, copy_of_source, copy_of_id, scored_at)
         VALUES ('rss', 'copy', 'en', 'detected', 'neutral', 0, 'm', 'rss', 'b', now()),
                ('rss', 'b', 'en', 'detected', 'neutral', 0, 'm', NULL, NULL, now())`,
      );
      // A user's correction is the label the example shows, as everywhere else.
      await c.run(
        `INSERT INTO sentiment_corrections (source, native_id, label, corrected_by, corrected_at)
         VALUES ('rss', 'b', 'negative', 'mina', now())`,
      );
    });
    clock.set(hourAt(170));
    await run();
    const [alert] = await all();
    expect(alert?.why.topTerms.map((t) => t.term)).toEqual(['recall', 'battery', 'phone']);
    expect(alert?.why.topTerms[2]).toEqual({ term: 'phone', mentions: 6, baseline: 5 });
    expect(alert?.why.topSources.map((s) => s.source)).toEqual(['rss', 'naver']);
    expect(alert?.why.topSources[0]?.share).toBeCloseTo(26 / 51, 5);
    expect(alert?.why.sentiment?.now.mentions).toBe(51);
    expect(alert?.why.examples.map((e) => e.url)).toEqual([
      'https://news.example/b',
      'https://news.example/c',
      'https://news.example/a',
    ]);
    expect(alert?.why.examples[0]?.sentiment).toBe('negative');
    expect(alert?.why.examples[2]?.text.length).toBeLessThanOrEqual(280);
    expect(alert?.why.examples[2]?.text.endsWith('…')).toBe(true);
    const link = new URL(alert?.link ?? '');
    expect(link.origin + link.pathname).toBe('https://earshot.example.com/comms');
    expect(Object.fromEntries(link.searchParams)).toEqual({
      topic: 'hanbit',
      from: hourAt(145).toISOString(),
      to: hourAt(170).toISOString(),
    });
  });
});
