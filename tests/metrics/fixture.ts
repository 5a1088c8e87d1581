/**
 * A fixed set of mentions for the metric payload golden files: two brands in one comparison set,
 * English and Korean (platform-tagged, so the language detector does not decide), reposts, one
 * article syndicated across Naver news and an RSS feed, a quiet baseline week and a busy recent day.
 */
import type { MentionRecord } from '../../collectors/contract.js';
import { scoreNew } from '../../pipeline/scoring/score.js';
import type { Sentiment, SentimentModel, SentimentModels } from '../../pipeline/sentiment/index.js';
import type { Store } from '../../pipeline/store.js';
import { mentionRecord } from '../helpers/mention.js';
import { addTopic, collect, scoringDeps } from '../scoring/helpers.js';

/** Labels by marker words, so the golden numbers do not move when the shipped models change. */
function markerModel(id: string, invert: boolean): SentimentModel {
  return {
    id,
    score(text: string): Sentiment {
      const t = text.toLowerCase();
      const good = /\bgood\b|좋아/.test(t);
      const bad = /\bbad\b|별로/.test(t);
      const pos = invert ? bad : good;
      const neg = invert ? good : bad;
      if (pos === neg) return { label: 'neutral', score: 0, model: id };
      return pos
        ? { label: 'positive', score: 0.8, model: id }
        : { label: 'negative', score: -0.8, model: id };
    },
  };
}

/** Version 2 reads the markers the other way round, so a re-score visibly changes labels. */
export function markerModels(version = 1): SentimentModels {
  const en = markerModel(`en-marker@${version}`, version === 2);
  const ko = markerModel(`ko-marker@${version}`, version === 2);
  return { en, ko, forLanguage: (lang) => (lang === 'ko' ? ko : en) };
}

// The recent day is 2026-11-21 in Seoul: 2026-11-20T15:00Z .. 2026-11-21T15:00Z.
export const RECENT = { from: '2026-11-20T15:00:00Z', to: '2026-11-21T15:00:00Z' };
export const NOW = new Date('2026-11-21T15:00:00Z');
const at = (iso: string) => new Date(iso);

function x(i: number, text: string, created: string, extra: Partial<MentionRecord> = {}): MentionRecord {
  return mentionRecord({
    nativeId: `x${i}`,
    url: `https://x.com/u${i % 4}/status/${i}`,
    text,
    lang: 'en',
    authorId: `xa${i % 4}`,
    authorHandle: `xuser${i % 4}`,
    authorFollowers: [50, 5000, 200, 120000][i % 4] ?? 0,
    likes: i % 5,
    reposts: i % 3,
    replies: 1,
    createdAt: at(created),
    ...extra,
  });
}

export async function loadFixture(store: Store): Promise<void> {
  await addTopic(store, 'acme', 'acme OR 한빛전자', 'phones', at('2026-11-01T00:00:00Z'));
  await addTopic(store, 'globex', 'globex OR 글로벡스', 'phones', at('2026-11-01T00:00:00Z'));

  const baseline: MentionRecord[] = [];
  for (let d = 0; d < 7; d++) {
    const day = `2026-11-${String(13 + d).padStart(2, '0')}`;
    for (const h of [3, 6, 9])
      baseline.push(x(100 + d * 10 + h, 'Acme battery is good', `${day}T0${h}:00:00Z`));
    baseline.push(x(200 + d, 'Globex battery is bad', `${day}T05:00:00Z`));
  }
  await collect(store, 'x', baseline, at('2026-11-20T00:00:00Z'));

  const recent: MentionRecord[] = [
    x(1, 'Acme recall announced for the battery', '2026-11-20T15:10:00Z'),
    x(2, 'Acme recall is bad news', '2026-11-20T16:20:00Z'),
    x(3, 'acme recall again, bad support', '2026-11-20T16:40:00Z'),
    x(4, 'Acme recall: good that they act fast', '2026-11-21T01:00:00Z'),
    x(5, 'Globex launch event is good', '2026-11-21T02:00:00Z'),
    x(6, 'RT Acme recall announced for the battery', '2026-11-21T02:30:00Z', { repostOf: 'x1' }),
    x(7, 'Acme recall, Globex laughing', '2026-11-21T14:59:00Z'),
    ...[9, 10, 11, 12, 13, 14].map((i) =>
      x(i, `Acme recall thread, part ${i}`, `2026-11-21T${String(i - 4).padStart(2, '0')}:15:00Z`),
    ),
    x(15, 'First time here: Acme recall handled well, good', '2026-11-21T12:00:00Z', {
      authorId: 'xnew',
      authorHandle: 'newcomer',
      authorFollowers: 900,
    }),
    // Just before the Seoul day starts: 2026-11-20 in Seoul, in the baseline.
    x(8, 'Acme battery fine', '2026-11-20T14:59:00Z'),
  ];
  await collect(store, 'x', recent, at('2026-11-21T15:00:00Z'));

  const article = '한빛전자, 노트북 배터리 리콜 결정… 소비자 반응은 별로';
  await collect(
    store,
    'naver',
    [
      mentionRecord({
        nativeId: 'n1',
        url: 'https://www.example-daily.kr/article/20261121000123?utm_source=naver&utm_medium=news',
        title: article,
        text: '한빛전자가 노트북 배터리 리콜을 결정했다고 21일 밝혔다.',
        lang: 'ko',
        channel: 'news',
        createdAt: at('2026-11-21T00:30:00Z'),
      }),
      mentionRecord({
        nativeId: 'n2',
        url: 'https://blog.example.kr/post/77',
        title: '글로벡스 새 폰 후기',
        text: '글로벡스의 새 폰 좋아요. 배터리도 오래가요.',
        lang: 'ko',
        channel: 'blog',
        authorId: 'blogger1',
        authorHandle: 'blogger1',
        createdAt: at('2026-11-21T03:00:00Z'),
      }),
    ],
    at('2026-11-21T15:00:00Z'),
  );
  await collect(
    store,
    'rss',
    [
      mentionRecord({
        nativeId: 'https://example-daily.kr/article/20261121000123/',
        url: 'http://example-daily.kr/article/20261121000123/',
        title: `[단독] ${article} - 예시일보`,
        text: '한빛전자가 노트북 배터리 리콜을 결정했다. 전문은 기사 참조.',
        lang: 'ko',
        createdAt: at('2026-11-21T00:45:00Z'),
      }),
    ],
    at('2026-11-21T15:05:00Z'),
  );
  await scoreNew(scoringDeps(store, 'Asia/Seoul', { models: markerModels(), now: () => NOW }));
}
