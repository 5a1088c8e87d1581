import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { projectRoot } from '../../pipeline/paths.js';
import { canonicalUrl, textSignature } from '../../pipeline/scoring/canonical.js';
import { scoreNew } from '../../pipeline/scoring/score.js';
import type { Store } from '../../pipeline/store.js';
import { mentionRecord } from '../helpers/mention.js';
import { openTestStore } from '../helpers/store.js';
import { collect, scoringDeps } from './helpers.js';

describe('canonicalUrl', () => {
  it.each([
    ['https://www.example.kr/news/1?utm_source=naver&utm_medium=news', 'https://example.kr/news/1'],
    ['http://example.kr/news/1/', 'https://example.kr/news/1'],
    ['https://m.example.kr/news/1#comments', 'https://example.kr/news/1'],
    ['https://example.kr/news/1/amp', 'https://example.kr/news/1'],
    ['https://amp.example.kr/news/1?fbclid=abc&gclid=def', 'https://example.kr/news/1'],
    ['https://example.kr/view?b=2&a=1&utm_campaign=x', 'https://example.kr/view?a=1&b=2'],
    ['https://EXAMPLE.kr/', 'https://example.kr'],
  ])('%s -> %s', (raw, canonical) => {
    expect(canonicalUrl(raw)).toBe(canonical);
  });

  it('keeps what names a different page and refuses what is not a web URL', () => {
    expect(canonicalUrl('https://example.kr/view?id=1')).not.toBe(
      canonicalUrl('https://example.kr/view?id=2'),
    );
    expect(canonicalUrl('https://example.kr/a')).not.toBe(canonicalUrl('https://example.com/a'));
    expect(canonicalUrl('javascript:alert(1)')).toBeNull();
    expect(canonicalUrl('not a url')).toBeNull();
    expect(canonicalUrl(null)).toBeNull();
  });
});

describe('textSignature', () => {
  it('matches one headline with and without desk tag and publisher suffix', () => {
    const naver = textSignature('한빛전자, 노트북 배터리 리콜 결정… 소비자 반응', 'a');
    expect(naver).not.toBeNull();
    expect(textSignature('[단독] 한빛전자, 노트북 배터리 리콜 결정… 소비자 반응 - 예시일보', 'b')).toBe(
      naver,
    );
    expect(textSignature('한빛전자 노트북 배터리 리콜 결정 소비자 반응 | 예시일보', 'c')).toBe(naver);
    expect(textSignature('한빛전자, 노트북 배터리 리콜 철회… 소비자 반응', 'a')).not.toBe(naver);
  });

  it('says nothing about texts too short to tell apart', () => {
    expect(textSignature('Weekly update', 'long body text of many many words here')).toBeNull();
    expect(textSignature(null, 'acme is down')).toBeNull();
  });

  it('gives no two different headlines or posts of the recorded fixtures the same signature', () => {
    const dir = join(projectRoot, 'tests', 'fixtures', 'listening');
    const texts = new Set<string>();
    for (const file of readdirSync(dir)) {
      const body = readFileSync(join(dir, file), 'utf8');
      for (const m of body.matchAll(
        /"(?:title|text|description|content|story_title|comment_text)"\s*:\s*"((?:[^"\\]|\\.)*)"/g,
      ))
        texts.add(JSON.parse(`"${m[1]}"`).replace(/<[^>]+>/g, ''));
      for (const m of body.matchAll(/<title>([^<]*)<\/title>/g)) texts.add(m[1] ?? '');
    }
    const bySig = new Map<string, Set<string>>();
    for (const t of texts) {
      const sig = textSignature(null, t);
      if (sig !== null) bySig.set(sig, (bySig.get(sig) ?? new Set()).add(t));
    }
    expect(texts.size).toBeGreaterThan(30);
    expect(bySig.size).toBeGreaterThan(20);
    const collisions = [...bySig.values()].filter((s) => s.size > 1).map((s) => [...s]);
    expect(collisions).toEqual([]);
  });
});

let store: Store;
let cleanup: () => void;
beforeEach(async () => {
  ({ store, cleanup } = await openTestStore());
});
afterEach(() => cleanup());

const T = new Date('2026-11-21T00:30:00Z');
const HEADLINE = '한빛전자, 노트북 배터리 리콜 결정… 소비자 반응은 엇갈려';

async function copies(): Promise<string[]> {
  return (
    await store.query(
      `SELECT source || '/' || native_id || ' -> ' || coalesce(copy_of_source || '/' || copy_of_id, 'original') AS c
       FROM mention_scores ORDER BY source, native_id`,
    )
  ).map((r) => String(r.c));
}

describe('copy detection', () => {
  it('counts one article once across sources, keeps every copy listed, and never calls reposts or same-source repeats copies', async () => {
    await collect(
      store,
      'naver',
      [
        mentionRecord({
          nativeId: 'n1',
          url: 'https://www.example-daily.kr/article/123?utm_source=naver',
          title: HEADLINE,
          text: '한빛전자가 노트북 배터리 리콜을 결정했다.',
          lang: 'ko',
          createdAt: T,
        }),
      ],
      new Date('2026-11-21T01:00:00Z'),
    );
    await collect(
      store,
      'rss',
      [
        // The publisher's own feed: same page, other URL spelling.
        mentionRecord({
          nativeId: 'r1',
          url: 'http://example-daily.kr/article/123/',
          title: HEADLINE,
          text: '본문',
          createdAt: T,
        }),
        // A news search feed: redirect link, publisher suffix on the title.
        mentionRecord({
          nativeId: 'g1',
          url: 'https://news.google.com/rss/articles/CBMi123?oc=5',
          title: `${HEADLINE} - 예시일보`,
          text: `${HEADLINE} 예시일보`,
          createdAt: T,
        }),
      ],
      new Date('2026-11-21T01:05:00Z'),
    );
    const post = 'Acme battery recall announced today for the X1 laptop line';
    await collect(
      store,
      'x',
      [
        mentionRecord({ nativeId: 'x1', text: post, authorId: 'a', createdAt: T }),
        // Another person saying the same words on the same platform: two mentions.
        mentionRecord({ nativeId: 'x2', text: post, authorId: 'b', createdAt: T }),
        mentionRecord({ nativeId: 'x3', text: `RT ${post}`, authorId: 'c', repostOf: 'x1', createdAt: T }),
      ],
      new Date('2026-11-21T01:10:00Z'),
    );
    const first = await scoreNew(scoringDeps(store));
    expect(first.copies).toBe(2);
    // In a later collection, found among the stored originals: cross-posted to Mastodon (a copy
    // of the first-stored post), and the article's mobile page shared with other words.
    await collect(
      store,
      'mastodon',
      [
        mentionRecord({ nativeId: 'm1', text: post, authorId: 'a@example.social', createdAt: T }),
        mentionRecord({
          nativeId: 'm2',
          url: 'https://m.example-daily.kr/article/123#comments',
          text: '이 기사 보셨나요? 배터리 리콜 소식',
          authorId: 'b@example.social',
          createdAt: T,
        }),
      ],
      new Date('2026-11-21T02:00:00Z'),
    );
    expect((await scoreNew(scoringDeps(store))).copies).toBe(2);
    expect(await copies()).toEqual([
      'mastodon/m1 -> x/x1',
      'mastodon/m2 -> naver/n1',
      'naver/n1 -> original',
      'rss/g1 -> naver/n1',
      'rss/r1 -> naver/n1',
      'x/x1 -> original',
      'x/x2 -> original',
      'x/x3 -> original',
    ]);
    const [counts] = await store.query(
      `SELECT sum(mentions) AS mentions, sum(reposts) AS reposts, sum(copies) AS copies
       FROM rollup_hourly WHERE topic_id = '*'`,
    );
    expect(counts).toEqual({ mentions: 3, reposts: 1, copies: 4 });
  });
});
