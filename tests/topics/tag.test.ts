import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MentionRecord } from '../../collectors/contract.js';
import { appendRows, mentionRow } from '../../pipeline/ingest.js';
import { type Store, timestamptz } from '../../pipeline/store.js';
import { deleteTopic, listTopics, saveTopic } from '../../pipeline/topics/edit.js';
import { tagMentions } from '../../pipeline/topics/tag.js';
import { mentionRecord } from '../helpers/mention.js';
import { openTestStore } from '../helpers/store.js';

function mention(id: string, text: string, over: Partial<MentionRecord> = {}): MentionRecord {
  return mentionRecord({ nativeId: id, text, lang: 'ko', authorId: 'a1', authorHandle: 'reporter', ...over });
}

const TEXTS: Array<[string, string]> = [
  ['1', '삼성전자가 3분기 실적을 발표했다.'],
  ['2', 'SK하이닉스의 HBM 공급이 늘었다.'],
  ['3', '삼성전자렌탈이 구독 상품을 내놨다.'],
  ['4', 'LG전자는 올레드 TV를 공개했다.'],
  ['5', '삼성전자와 SK하이닉스가 나란히 올랐다.'],
];

let store: Store;
let cleanup: () => void;
beforeEach(async () => {
  ({ store, cleanup } = await openTestStore());
  const now = timestamptz(new Date('2026-11-21T00:00:00Z'));
  await store.write(async (c) => {
    await appendRows(
      c,
      'mentions',
      TEXTS.map(([id, text]) => mentionRow('naver', 'news', mention(id, text), now)),
    );
    await appendRows(c, 'mentions', [
      mentionRow('reddit', 'r', mention('9', 'Samsung Electronics beats', { lang: 'en' }), now),
    ]);
  });
  await addTopic('samsung', ['삼성전자', 'Samsung Electronics'], null);
  await addTopic('hynix', ['SK하이닉스'], null);
});
afterEach(() => cleanup());

function addTopic(id: string, keywords: string[], query: string | null): Promise<void> {
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

describe('tagMentions', () => {
  it('tags stored mentions from keywords when a topic has no query', async () => {
    const results = await tagMentions(store);
    expect(results).toEqual([
      { topicId: 'hynix', tagged: 2, scanned: 6 },
      { topicId: 'samsung', tagged: 3, scanned: 6 },
    ]);
    expect(await tags()).toEqual([
      'hynix:naver/2',
      'hynix:naver/5',
      'samsung:naver/1',
      'samsung:naver/5',
      'samsung:reddit/9',
    ]);
  });

  it('re-tags only the edited topic, without touching the others', async () => {
    await tagMentions(store);
    // Plant a row in the other topic that a full re-tag would remove: it must survive.
    await store.write((c) => c.run("INSERT INTO mention_topics VALUES ('naver', '4', 'hynix')"));
    await addTopic('samsung', [], '삼성전자 NOT SK하이닉스 lang:ko');
    const results = await tagMentions(store, ['samsung']);
    expect(results).toEqual([{ topicId: 'samsung', tagged: 1, scanned: 6 }]);
    expect(await tags()).toEqual(['hynix:naver/2', 'hynix:naver/4', 'hynix:naver/5', 'samsung:naver/1']);
    // Running it again changes nothing.
    await tagMentions(store, ['samsung']);
    expect(await tags()).toEqual(['hynix:naver/2', 'hynix:naver/4', 'hynix:naver/5', 'samsung:naver/1']);
  });

  it('keeps the old tags of a topic whose new query does not parse, and says why', async () => {
    await tagMentions(store);
    await addTopic('samsung', [], '삼성전자 AND (');
    const results = await tagMentions(store, ['samsung']);
    expect(results).toEqual([
      { topicId: 'samsung', tagged: 0, scanned: 0, error: 'unclosed parenthesis at 10' },
    ]);
    expect((await tags()).filter((t) => t.startsWith('samsung:'))).toHaveLength(3);
  });

  it('removes the tags of a deleted topic', async () => {
    await tagMentions(store);
    await store.write((c) => c.run("DELETE FROM topics WHERE id = 'hynix'"));
    await tagMentions(store, ['hynix']);
    expect(await tags()).toEqual(['samsung:naver/1', 'samsung:naver/5', 'samsung:reddit/9']);
  });

  it('streams more mentions than one chunk', async () => {
    const now = timestamptz(new Date('2026-11-21T00:00:00Z'));
    await store.write((c) =>
      appendRows(
        c,
        'mentions',
        Array.from({ length: 5000 }, (_, i) =>
          mentionRow(
            'x',
            'p',
            mention(`m${i}`, i % 5 === 0 ? `카카오의 소식 ${i}` : `카카오톡 소식 ${i}`),
            now,
          ),
        ),
      ),
    );
    await addTopic('kakao', ['카카오'], null);
    const [result] = await tagMentions(store, ['kakao']);
    expect(result).toEqual({ topicId: 'kakao', tagged: 1000, scanned: 5006 });
  });
});

describe('editing topics at run time', () => {
  const tagsOf = async (topic: string) =>
    (
      await store.query('SELECT native_id FROM mention_topics WHERE topic_id = $1 ORDER BY native_id', [
        topic,
      ])
    ).map((r) => String(r.native_id));

  it('adds a topic, tags the stored mentions, and an edit re-tags only that topic', async () => {
    await tagMentions(store);
    const hynixBefore = await tagsOf('hynix');
    const added = await saveTopic(store, { id: 'lg', name: 'LG전자', keywords: ['LG전자'] }, new Date());
    expect(added).toMatchObject({ topicId: 'lg', tagged: 1 });
    expect(await tagsOf('lg')).toEqual(['4']);

    const edited = await saveTopic(
      store,
      { id: 'samsung', name: '삼성전자', keywords: ['삼성전자'], query: '삼성전자 NOT SK하이닉스' },
      new Date(),
    );
    expect(edited).toMatchObject({ topicId: 'samsung', tagged: 1 });
    expect(await tagsOf('samsung')).toEqual(['1']);
    expect(await tagsOf('hynix')).toEqual(hynixBefore);
    const [row] = await store.query("SELECT origin FROM topics WHERE id = 'samsung'");
    expect(row?.origin).toBe('user');
  });

  it('refuses a query that does not parse, naming the position, and changes nothing', async () => {
    await tagMentions(store);
    const before = await tagsOf('samsung');
    await expect(
      saveTopic(
        store,
        { id: 'samsung', name: 'S', keywords: ['삼성전자'], query: '삼성전자 AND (LG' },
        new Date(),
      ),
    ).rejects.toThrow(/query: unclosed parenthesis at 10/);
    expect(await tagsOf('samsung')).toEqual(before);
    await expect(saveTopic(store, { id: 'Bad Id', name: 'x', keywords: ['x'] }, new Date())).rejects.toThrow(
      /^id:/,
    );
  });

  it('deletes a topic with its tags', async () => {
    await tagMentions(store);
    expect(await deleteTopic(store, 'hynix')).toBe(true);
    expect(await tagsOf('hynix')).toEqual([]);
    expect((await listTopics(store)).map((t) => t.id)).toEqual(['samsung']);
    expect(await deleteTopic(store, 'hynix')).toBe(false);
  });
});
