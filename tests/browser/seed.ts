/**
 * The browser tests' database: mentions collected and scored through the real ingest and scoring
 * path (shipped sentiment models) over the last week, two hostile ones among them, an alert, the
 * canonical adoption fixture, and one user per role.
 */
import type { MentionRecord } from '../../collectors/contract.js';
import { insertAlert } from '../../pipeline/alerts/records.js';
import { addUser } from '../../pipeline/auth/users.js';
import { scoreNew } from '../../pipeline/scoring/score.js';
import type { Store } from '../../pipeline/store.js';
import { mentionRecord } from '../helpers/mention.js';
import { CANONICAL, fixture, importAt } from '../imports/helpers.js';
import { addTopic, collect, scoringDeps } from '../scoring/helpers.js';

export const PASSWORD = 'correct horse battery staple';
export const USERS = {
  comms: 'casey',
  leadership: 'lee',
  analyst: 'ana',
  admin: 'ada',
} as const;

export const XSS_TEXT = '<img src=x onerror=alert(1)>';
export const JS_URL = 'javascript:alert(1)';

const HOUR = 3_600_000;

const EN = [
  'Acme support was great today, really happy with the fix',
  'Acme battery died again, terrible experience',
  'Acme announced a new laptop line',
  'Globex phones are awful, the screen cracked in a week',
  'Globex launch event was fantastic',
  'Comparing Acme and Globex prices this weekend',
];
const KO = [
  '한빛전자 노트북 정말 좋아요, 배터리도 오래가요',
  '한빛전자 서비스 센터 최악이에요',
  '글로벡스 새 폰 출시 소식',
  '글로벡스 화면이 너무 별로예요',
];

/** Seeds everything the views show; `now` is the app's clock (real time: the browser picks ranges by it). */
export async function seed(store: Store, now: Date): Promise<void> {
  await addTopic(store, 'acme', 'acme OR 한빛전자', 'phones', new Date(now.getTime() - 30 * 24 * HOUR));
  await addTopic(store, 'globex', 'globex OR 글로벡스', 'phones', new Date(now.getTime() - 30 * 24 * HOUR));

  const records: MentionRecord[] = [];
  for (let i = 0; i < 60; i++) {
    const ko = i % 3 === 0;
    const text = ko ? (KO[i % KO.length] ?? '') : (EN[i % EN.length] ?? '');
    records.push(
      mentionRecord({
        nativeId: `m${i}`,
        url: `https://x.com/user${i % 7}/status/${1000 + i}`,
        text,
        lang: ko ? 'ko' : 'en',
        authorId: `a${i % 7}`,
        authorHandle: `user${i % 7}`,
        authorFollowers: [40, 900, 15000, 120, 3000, 75000, 10][i % 7] ?? 0,
        likes: i % 9,
        reposts: i % 4,
        createdAt: new Date(now.getTime() - (i * 2 + 1) * HOUR),
      }),
    );
  }
  records.push(
    mentionRecord({
      nativeId: 'hostile-text',
      url: 'https://x.com/mallory/status/1',
      text: XSS_TEXT,
      lang: 'en',
      authorId: 'mallory',
      authorHandle: 'mallory',
      createdAt: new Date(now.getTime() - 0.5 * HOUR),
    }),
    mentionRecord({
      nativeId: 'hostile-url',
      url: JS_URL,
      text: 'Acme review, click the link',
      lang: 'en',
      authorId: 'mallory',
      authorHandle: 'mallory',
      createdAt: new Date(now.getTime() - 0.6 * HOUR),
    }),
  );
  await collect(store, 'x', records, now);
  await scoreNew(scoringDeps(store, 'UTC', { now: () => now }));

  await store.write((conn) =>
    insertAlert(
      conn,
      {
        kind: 'volume_spike',
        dedupeKey: `browser-test-${now.toISOString()}`,
        topicId: 'acme',
        source: null,
        partition: null,
        windowStart: new Date(now.getTime() - 2 * HOUR),
        windowEnd: new Date(now.getTime() - HOUR),
        title: 'Acme: mentions spiked',
        summary: '14 mentions in an hour against 2.1 usually',
        value: 14,
        baseline: { mean: 2.1, sd: 1.2, threshold: 7.5 },
        why: {
          topTerms: [{ term: 'battery', mentions: 9, baseline: 0.4 }],
          topSources: [{ source: 'x', mentions: 14, share: 1 }],
          sentiment: null,
          examples: [
            {
              source: 'x',
              url: JS_URL,
              author: 'mallory',
              text: XSS_TEXT,
              engagement: 3,
              sentiment: 'negative',
              createdAt: now.toISOString(),
            },
          ],
        },
        link: '/comms',
      },
      { now, muted: false, webhooks: [] },
    ),
  );

  await importAt(store, 'auto', CANONICAL.map(fixture), now);
  for (const [role, name] of Object.entries(USERS))
    await addUser(store, { name, role, password: PASSWORD }, 'test', now);
}
