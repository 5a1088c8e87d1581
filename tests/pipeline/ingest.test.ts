import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MentionRecord } from '../../collectors/contract.js';
import { refreshAuthors, storeBatch, writeBatch } from '../../pipeline/ingest.js';
import { Store } from '../../pipeline/store.js';
import { mentionRecord } from '../helpers/mention.js';
import { openTestStore } from '../helpers/store.js';

function mention(id: string, over: Partial<MentionRecord> = {}): MentionRecord {
  return mentionRecord({
    nativeId: id,
    url: `https://example.com/${id}`,
    text: `text ${id}`,
    lang: 'en',
    authorId: 'a1',
    authorHandle: 'alice',
    authorName: 'Alice',
    authorFollowers: 10,
    likes: 1,
    reposts: 0,
    replies: 0,
    raw: { id },
    ...over,
  });
}

// A full garbage collection on demand, without starting node with --expose-gc.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

let store: Store;
let cleanup: () => void;
let runId: number;
beforeEach(async () => {
  ({ store, cleanup } = await openTestStore());
  runId = await store.write(async (c) =>
    Number(
      (
        await c.runAndReadAll(
          "INSERT INTO collection_runs (source, partition, started_at, status) VALUES ('t', 'p', now(), 'running') RETURNING id",
        )
      ).getRows()[0]?.[0],
    ),
  );
});
afterEach(() => cleanup());

/** One batch of source 't' through storeBatch, as the runner writes it. */
const batch = (records: MentionRecord[], now: Date) =>
  storeBatch(store, {
    source: 't',
    partition: 'p',
    runId,
    records,
    quarantine: [],
    bookmark: {},
    budget: new Map(),
    now,
  });

const write = (
  records: MentionRecord[],
  now = new Date('2026-11-21T00:00:00Z'),
  bookmark: unknown = { n: 1 },
) =>
  store.write((c) =>
    writeBatch(c, {
      source: 't',
      partition: 'p',
      runId,
      records,
      quarantine: [],
      bookmark,
      budget: new Map(),
      now,
    }),
  );

describe('writeBatch', () => {
  it('inserts new mentions with every field and the bookmark in one go', async () => {
    const result = await write([
      mention('1', { repostOf: '0', parentId: 'p', conversationId: 'c', views: 5 }),
    ]);
    expect(result).toEqual({ rows: 1, newRows: 1 });
    const [row] = await store.query('SELECT * FROM mentions');
    expect(row).toMatchObject({
      source: 't',
      native_id: '1',
      partition: 'p',
      text: 'text 1',
      author_handle: 'alice',
      author_followers: 10,
      is_repost: true,
      repost_of: '0',
      parent_id: 'p',
      conversation_id: 'c',
      views: 5,
    });
    expect((row?.created_at as Date | undefined)?.toISOString()).toBe('2026-11-20T01:02:03.000Z');
    expect(JSON.parse(String(row?.raw))).toEqual({ id: '1' });
    expect(await store.query('SELECT state FROM bookmarks')).toEqual([{ state: '{"n":1}' }]);
    expect(await store.query('SELECT rows, new_rows FROM collection_runs')).toEqual([
      { rows: 1, new_rows: 1 },
    ]);
  });

  it('stores a lone surrogate in raw JSON and in the bookmark as U+FFFD, keeping pairs and backslashes (regression: fuzz)', async () => {
    const text = 'a\ud800b \\ud800 \ud83d\ude00 \udfff';
    await write([mention('1', { raw: { text, 'k\udc00': 1 } })], undefined, { cursor: text });
    const [row] = await store.query('SELECT raw::VARCHAR AS raw FROM mentions');
    const kept = 'a\ufffdb \\ud800 \ud83d\ude00 \ufffd';
    expect(JSON.parse(String(row?.raw))).toEqual({ text: kept, 'k\ufffd': 1 });
    const [state] = await store.query('SELECT state::VARCHAR AS state FROM bookmarks');
    expect(JSON.parse(String(state?.state))).toEqual({ cursor: kept });
  });

  it('updates engagement of re-seen mentions and never duplicates them', async () => {
    await write([mention('1'), mention('2')]);
    const later = new Date('2026-11-22T00:00:00Z');
    const result = await write([mention('2', { likes: 50, text: 'edited?' }), mention('3')], later);
    expect(result).toEqual({ rows: 2, newRows: 1 });
    const rows = await store.query(
      'SELECT native_id, likes, text, seen_at, collected_at FROM mentions ORDER BY 1',
    );
    expect(rows.map((r) => r.native_id)).toEqual(['1', '2', '3']);
    expect(rows[1]).toMatchObject({ likes: 50, text: 'text 2' });
    expect((rows[1]?.seen_at as Date | undefined)?.toISOString()).toBe(later.toISOString());
    expect((rows[1]?.collected_at as Date | undefined)?.toISOString()).toBe('2026-11-21T00:00:00.000Z');
  });

  it('retries a re-dated mention even when it is the first batch a freshly opened store writes (regression)', async () => {
    const now = new Date('2026-11-23T00:00:00Z');
    await batch([mention('1')], now);
    // A restart: a new Store on the same file. Its first transaction meets the primary key and
    // rolls back, taking the scratch tables it created with it; the retry must recreate them.
    const path = store.path;
    store.close();
    store = await Store.open(path);
    const redated = mention('1', { createdAt: new Date('2026-11-22T09:00:00Z'), likes: 5 });
    expect(await batch([redated], now)).toEqual({ rows: 1, newRows: 0 });
    expect(await batch([mention('2')], now)).toEqual({ rows: 1, newRows: 1 });
    const rows = await store.query('SELECT native_id, likes FROM mentions ORDER BY 1');
    expect(rows.map((r) => [r.native_id, r.likes])).toEqual([
      ['1', 5],
      ['2', 1],
    ]);
    store.close();
  });

  it('leaves nothing of a failed append to be flushed into a later transaction by the garbage collector (regression)', async () => {
    const now = new Date('2026-11-23T00:00:00Z');
    await batch([mention('1')], now);
    // The re-dated copy fails its first append on the primary key; the rows the appender held must
    // not come back when it is collected, while the next batches are being written.
    const redated = mention('1', { createdAt: new Date('2026-11-22T09:00:00Z'), likes: 5 });
    expect(await batch([redated], now)).toEqual({ rows: 1, newRows: 0 });
    await store.write(async (c) => {
      await c.run("UPDATE mentions SET likes = 6 WHERE native_id = '1'");
      collectGarbage();
      await new Promise((resolve) => setTimeout(resolve, 50));
      collectGarbage();
    });
    expect(await batch([mention('2')], now)).toEqual({ rows: 1, newRows: 1 });
    const rows = await store.query('SELECT native_id, likes FROM mentions ORDER BY 1');
    expect(rows.map((r) => [r.native_id, r.likes])).toEqual([
      ['1', 6],
      ['2', 1],
    ]);
  });

  it('finds a re-seen mention whose time the source changed, and one with an estimated time', async () => {
    await batch(
      [
        mention('1'),
        mention('cafe', { createdAt: new Date('2026-11-21T00:00:00Z'), createdAtEstimated: true }),
      ],
      new Date('2026-11-21T00:00:00Z'),
    );
    const redated = mention('1', { createdAt: new Date('2026-11-22T09:00:00Z'), likes: 5 });
    const cafe = mention('cafe', {
      createdAt: new Date('2026-11-23T00:00:00Z'),
      createdAtEstimated: true,
      likes: 4,
    });
    expect(await batch([redated, cafe, mention('2')], new Date('2026-11-23T00:00:00Z'))).toEqual({
      rows: 3,
      newRows: 1,
    });
    const rows = await store.query('SELECT native_id, likes, created_at FROM mentions ORDER BY 1');
    expect(rows.map((r) => [r.native_id, r.likes])).toEqual([
      ['1', 5],
      ['2', 1],
      ['cafe', 4],
    ]);
    // The first-seen time of an undated item never moves.
    expect((rows[2]?.created_at as Date | undefined)?.toISOString()).toBe('2026-11-21T00:00:00.000Z');
  });

  it('stores a time more than an hour past the collection as the collection time, estimated, and finds it when seen again', async () => {
    const now = new Date('2026-11-21T00:00:00Z');
    const ahead = (id: string, ms: number, likes = 1) =>
      mention(id, { createdAt: new Date(now.getTime() + ms), likes });
    // A feed's wrong zone (+9 h), a wrong year, and a platform clock a few minutes fast.
    await batch([ahead('zone', 9 * 3_600_000), ahead('year', 365 * 86_400_000), ahead('fast', 300_000)], now);
    const later = new Date('2026-11-21T06:00:00Z');
    expect(await batch([ahead('zone', 9 * 3_600_000, 7)], later)).toEqual({ rows: 1, newRows: 0 });
    const rows = await store.query(
      'SELECT native_id, created_at, created_at_estimated, likes FROM mentions ORDER BY 1',
    );
    expect(
      rows.map((r) => [r.native_id, (r.created_at as Date).toISOString(), r.created_at_estimated, r.likes]),
    ).toEqual([
      ['fast', '2026-11-21T00:05:00.000Z', false, 1],
      ['year', '2026-11-21T00:00:00.000Z', true, 1],
      ['zone', '2026-11-21T00:00:00.000Z', true, 7],
    ]);
  });

  it('keeps the last copy of an item repeated inside one batch', async () => {
    const result = await write([mention('1', { likes: 1 }), mention('1', { likes: 7 })]);
    expect(result).toEqual({ rows: 1, newRows: 1 });
    expect(await store.query('SELECT likes FROM mentions')).toEqual([{ likes: 7 }]);
  });

  it('keeps the last known count when a source stops reporting it', async () => {
    await write([mention('1', { likes: 9 })]);
    await write([mention('1', { likes: null })]);
    expect(await store.query('SELECT likes FROM mentions')).toEqual([{ likes: 9 }]);
  });

  it('writes nothing of a batch whose transaction fails', async () => {
    await expect(
      store.write(async (c) => {
        await writeBatch(c, {
          source: 't',
          partition: 'p',
          runId,
          records: [mention('9')],
          quarantine: [{ raw: '{', error: 'bad', url: null }],
          bookmark: { n: 2 },
          budget: new Map([['naver', new Map([['2026-11-21', 3]])]]),
          now: new Date(),
        });
        throw new Error('crash after the batch, before commit');
      }),
    ).rejects.toThrow('crash');
    for (const table of ['mentions', 'quarantine', 'bookmarks', 'api_budget']) {
      expect(await store.query(`SELECT * FROM ${table}`)).toEqual([]);
    }
  });

  it('refreshes authors from mentions, once per author', async () => {
    await write([mention('1'), mention('3', { authorId: 'b2', authorHandle: 'bob' })]);
    await write([mention('2', { authorFollowers: 20 })], new Date('2026-11-22T00:00:00Z'));
    await store.write((c) => refreshAuthors(c, 't'));
    const authors = await store.query(
      'SELECT author_id, handle, followers, mentions FROM authors ORDER BY 1',
    );
    expect(authors).toEqual([
      { author_id: 'a1', handle: 'alice', followers: 20, mentions: 2 },
      { author_id: 'b2', handle: 'bob', followers: 10, mentions: 1 },
    ]);
  });
});
