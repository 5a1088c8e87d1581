import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MentionRecord } from '../../collectors/contract.js';
import type { Config, Topic } from '../../pipeline/config.js';
import { storeBatch } from '../../pipeline/ingest.js';
import { syncConfig } from '../../pipeline/settings.js';
import type { Store } from '../../pipeline/store.js';
import { tagNewMentions } from '../../pipeline/topics/tag.js';
import { mentionRecord } from '../helpers/mention.js';
import { openTestStore } from '../helpers/store.js';

function mention(id: string, text: string): MentionRecord {
  return mentionRecord({ nativeId: id, text, lang: 'ko', authorId: 'a1', authorHandle: 'reporter' });
}

const T0 = new Date('2026-11-21T00:00:00Z');
const hours = (h: number) => new Date(T0.getTime() + h * 3_600_000);

/** What a collector batch writes, with `now` as the mentions' collected_at. */
function collectBatch(now: Date, texts: Array<[string, string]>, source = 'naver') {
  return storeBatch(store, {
    source,
    partition: 'news',
    runId: 0,
    records: texts.map(([id, text]) => mention(id, text)),
    quarantine: [],
    bookmark: null,
    budget: new Map(),
    now,
  });
}

function config(topics: Topic[]): Config {
  return {
    configPath: null,
    databasePath: ':memory:',
    host: '127.0.0.1',
    port: 0,
    timezone: 'UTC',
    logLevel: 'info',
    topics,
    sources: [],
    maxRateLimitWaitMs: 0,
    minGroupSize: 5,
  };
}

function addTopic(id: string, keywords: string[], query: string | null = null): Promise<void> {
  return store.write(async (c) => {
    await c.run(
      `INSERT INTO topics VALUES ($1, $1, $2::VARCHAR[], $3, NULL, 'user', now())
       ON CONFLICT (id) DO UPDATE SET keywords = excluded.keywords, query = excluded.query`,
      [id, JSON.stringify(keywords), query],
    );
  });
}

async function tags(): Promise<string[]> {
  const rows = await store.query(
    "SELECT topic_id || ':' || source || '/' || native_id AS t FROM mention_topics ORDER BY topic_id, source, native_id",
  );
  return rows.map((r) => String(r.t));
}

async function watermark(): Promise<Date | undefined> {
  const [row] = await store.query("SELECT through FROM pipeline_state WHERE stage = 'topics' AND key = '*'");
  return row?.through as Date | undefined;
}

let store: Store;
let cleanup: () => void;
beforeEach(async () => {
  ({ store, cleanup } = await openTestStore());
});
afterEach(() => cleanup());

describe('tagNewMentions', () => {
  it('tags every topic over the mentions collected since the last round only', async () => {
    await addTopic('samsung', ['삼성전자']);
    await addTopic('hynix', ['SK하이닉스']);
    await collectBatch(hours(-1), [['1', '삼성전자가 3분기 실적을 발표했다.']]);
    await collectBatch(hours(0), [['2', 'SK하이닉스의 HBM 공급이 늘었다.']]);
    const first = await tagNewMentions(store);
    expect(first).toEqual({
      scanned: 2,
      tagged: 2,
      topics: [
        { topicId: 'hynix', tagged: 1, scanned: 2 },
        { topicId: 'samsung', tagged: 1, scanned: 2 },
      ],
    });
    expect(await watermark()).toEqual(hours(0));

    await collectBatch(hours(1), [
      ['3', '삼성전자와 SK하이닉스가 나란히 올랐다.'],
      ['4', 'LG전자는 올레드 TV를 공개했다.'],
    ]);
    const second = await tagNewMentions(store);
    // The two new mentions only: mention 2, at the watermark's instant (>=), was matched last round.
    expect(second.scanned).toBe(2);
    expect(second.tagged).toBe(2);
    expect(await tags()).toEqual(['hynix:naver/2', 'hynix:naver/3', 'samsung:naver/1', 'samsung:naver/3']);
    expect(await watermark()).toEqual(hours(1));
  });

  it('adds nothing when run twice, and never skips mentions stored at the watermark instant', async () => {
    await addTopic('samsung', ['삼성전자']);
    await collectBatch(hours(0), [['1', '삼성전자 실적']]);
    await tagNewMentions(store);
    const again = await tagNewMentions(store);
    expect(again.tagged).toBe(0);
    expect(again.scanned).toBe(0);
    expect(await tags()).toEqual(['samsung:naver/1']);

    // Another source's batch committing later with the same collected_at must still be tagged.
    await collectBatch(hours(0), [['2', '삼성전자 주가']], 'reddit');
    const late = await tagNewMentions(store);
    expect(late.tagged).toBe(1);
    expect(late.scanned).toBe(1);
    expect(await tags()).toEqual(['samsung:naver/1', 'samsung:reddit/2']);
    expect(await watermark()).toEqual(hours(0));
  });

  it('catches a batch that committed just behind the watermark, without moving it back', async () => {
    await addTopic('samsung', ['삼성전자']);
    await collectBatch(hours(1), [['1', '삼성전자 실적']]);
    await tagNewMentions(store);
    // A batch whose time was taken before the last round but that committed after it.
    await collectBatch(new Date(hours(1).getTime() - 60_000), [['2', '삼성전자 주가']], 'reddit');
    const late = await tagNewMentions(store);
    expect(late.tagged).toBe(1);
    expect(late.scanned).toBe(1);
    expect(await watermark()).toEqual(hours(1));
  });

  it('reads each mention of its re-read window once, and keeps its record of them to that window', async () => {
    await addTopic('samsung', ['삼성전자']);
    // A backfill: 500 mentions in one collect. The rounds after it read only what is new.
    await collectBatch(
      hours(0),
      Array.from({ length: 500 }, (_, k): [string, string] => [`b${k}`, k % 2 ? '삼성전자 실적' : '날씨']),
    );
    expect((await tagNewMentions(store)).scanned).toBe(500);
    const minute = (m: number) => new Date(hours(0).getTime() + m * 60_000);
    await collectBatch(minute(1), [['n1', '삼성전자 주가']]);
    expect(await tagNewMentions(store)).toMatchObject({ scanned: 1, tagged: 1 });
    await collectBatch(minute(5), [['n2', '삼성전자 공장']]);
    expect(await tagNewMentions(store)).toMatchObject({ scanned: 1, tagged: 1 });
    const recorded = async () => Number((await store.query('SELECT count(*) AS n FROM topic_tagged'))[0]?.n);
    expect(await recorded()).toBe(502);
    // Twelve minutes on, the backfill and n1 are behind the window: only n2 and n3 stay recorded.
    await collectBatch(minute(12), [['n3', '삼성전자 노조']]);
    expect(await tagNewMentions(store)).toMatchObject({ scanned: 1, tagged: 1 });
    expect(await recorded()).toBe(2);
    expect(await tags()).toHaveLength(253);
  });

  it('skips a topic whose query does not parse and still tags the others', async () => {
    await addTopic('broken', [], '삼성전자 AND (');
    await addTopic('samsung', ['삼성전자']);
    await collectBatch(hours(0), [['1', '삼성전자 실적']]);
    const result = await tagNewMentions(store);
    expect(result.topics).toEqual([
      { topicId: 'broken', tagged: 0, scanned: 0, error: 'unclosed parenthesis at 10' },
      { topicId: 'samsung', tagged: 1, scanned: 1 },
    ]);
    expect(await tags()).toEqual(['samsung:naver/1']);
    expect(await watermark()).toEqual(hours(0));
  });

  it('advances nothing and tags nothing when no mention was ever collected', async () => {
    await addTopic('samsung', ['삼성전자']);
    expect(await tagNewMentions(store)).toEqual({
      scanned: 0,
      tagged: 0,
      topics: [{ topicId: 'samsung', tagged: 0, scanned: 0 }],
    });
    expect(await watermark()).toBeUndefined();
  });
});

describe('syncConfig re-tagging', () => {
  const samsung: Topic = { id: 'samsung', name: 'Samsung', keywords: ['삼성전자'] };
  const hynix: Topic = { id: 'hynix', name: 'Hynix', keywords: ['SK하이닉스'] };

  beforeEach(async () => {
    await collectBatch(hours(0), [
      ['1', '삼성전자가 3분기 실적을 발표했다.'],
      ['2', 'SK하이닉스의 HBM 공급이 늘었다.'],
      ['3', '삼성전자와 SK하이닉스가 나란히 올랐다.'],
    ]);
  });

  it('tags new topics over all stored mentions', async () => {
    const results = await syncConfig(store, config([samsung, hynix]), T0);
    expect(results.map((r) => r.topicId).sort()).toEqual(['hynix', 'samsung']);
    expect(await tags()).toEqual(['hynix:naver/2', 'hynix:naver/3', 'samsung:naver/1', 'samsung:naver/3']);
    // Nothing changed: nothing is re-tagged.
    expect(await syncConfig(store, config([samsung, hynix]), T0)).toEqual([]);
  });

  it('re-tags only the topic whose query the config changed', async () => {
    await syncConfig(store, config([samsung, hynix]), T0);
    // Plant a tag a re-tag of hynix would remove: it must survive.
    await store.write((c) => c.run("INSERT INTO mention_topics VALUES ('naver', '1', 'hynix')"));
    const results = await syncConfig(
      store,
      config([
        { ...samsung, query: '삼성전자 NOT SK하이닉스' },
        { ...hynix, name: 'SK Hynix' },
      ]),
      T0,
    );
    expect(results).toEqual([{ topicId: 'samsung', tagged: 1, scanned: 3 }]);
    expect(await tags()).toEqual(['hynix:naver/1', 'hynix:naver/2', 'hynix:naver/3', 'samsung:naver/1']);
  });

  it('re-tags a topic whose keywords changed, but not one edited at run time', async () => {
    await syncConfig(store, config([samsung, hynix]), T0);
    await store.write((c) => c.run("UPDATE topics SET origin = 'user' WHERE id = 'hynix'"));
    const results = await syncConfig(
      store,
      config([
        { ...samsung, keywords: ['삼성전자', 'SK하이닉스'] },
        { ...hynix, keywords: ['HBM'] },
      ]),
      T0,
    );
    expect(results).toEqual([{ topicId: 'samsung', tagged: 3, scanned: 3 }]);
  });
});
