import { afterEach, describe, expect, it } from 'vitest';
import type { MentionRecord } from '../../collectors/contract.js';
import { insertAlert } from '../../pipeline/alerts/records.js';
import { topicWhy } from '../../pipeline/alerts/why.js';
import { verifyAudit } from '../../pipeline/audit/log.js';
import { eraseAuthor, eraseEmployee } from '../../pipeline/compliance/erase.js';
import { complianceVerbs } from '../../pipeline/compliance/verbs.js';
import { UserError } from '../../pipeline/errors.js';
import { storeBatch } from '../../pipeline/ingest.js';
import { scoreNew } from '../../pipeline/scoring/score.js';
import { correctSentiment } from '../../pipeline/sentiment/corrections.js';
import type { Store } from '../../pipeline/store.js';
import { report } from '../adoption/helpers.js';
import { mentionRecord } from '../helpers/mention.js';
import { databaseText } from '../helpers/runner.js';
import { openTestStore } from '../helpers/store.js';
import { CANONICAL, fixture, importAt, textFile } from '../imports/helpers.js';
import { addTopic, collect, rollupSnapshot, scoringDeps } from '../scoring/helpers.js';

const TZ = 'Asia/Seoul';
const at = (hhmm: string) => new Date(`2026-11-20T${hhmm}:00Z`);
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function open(): Promise<Store> {
  const { store, cleanup } = await openTestStore();
  cleanups.push(cleanup);
  return store;
}

const ALICE = {
  authorId: 'a-7731',
  authorHandle: 'alice_zq',
  authorName: 'Alice Zorquist',
  authorFollowers: 950,
};
const BOB = { authorId: 'b-1002', authorHandle: 'bobby', authorName: 'Bob Plain', authorFollowers: 120 };
const ALICE_TEXTS: [string, string, string] = [
  'acme rocket launch is wonderful and truly grand',
  'acme service outage ruined my whole morning',
  'Acme buys the orbital shipyard in a record deal',
];

function aliceRecords(): MentionRecord[] {
  return [
    mentionRecord({ nativeId: 'm1', text: ALICE_TEXTS[0], createdAt: at('10:05'), likes: 40, ...ALICE }),
    mentionRecord({ nativeId: 'm2', text: ALICE_TEXTS[1], createdAt: at('11:20'), likes: 3, ...ALICE }),
    mentionRecord({
      nativeId: 'm3',
      title: 'Acme buys the orbital shipyard',
      text: ALICE_TEXTS[2],
      url: 'https://news.example/acme-shipyard',
      createdAt: at('10:30'),
      ...ALICE,
    }),
  ];
}

function bobRecords(withRepost: boolean): MentionRecord[] {
  return [
    mentionRecord({ nativeId: 'm4', text: 'acme is fine I guess', createdAt: at('10:10'), likes: 2, ...BOB }),
    mentionRecord({ nativeId: 'm6', text: 'acme support answered fast', createdAt: at('12:40'), ...BOB }),
    ...(withRepost
      ? [
          mentionRecord({
            nativeId: 'm5',
            text: `RT ${ALICE_TEXTS[0]}`,
            createdAt: at('10:50'),
            repostOf: 'm1',
            ...BOB,
          }),
        ]
      : []),
  ];
}

/** The same copy of Alice's article on a news feed, collected later (scored as a copy while hers exists). */
const newsCopy = mentionRecord({
  nativeId: 'r1',
  title: 'Acme buys the orbital shipyard',
  text: 'The shipyard deal closes next month.',
  url: 'https://news.example/acme-shipyard?utm_source=feed',
  createdAt: at('10:40'),
});

/** Listening data through the real paths: collector batches, scoring, tagging, rollups, a correction, an alert. */
async function seedListening(store: Store, withAlice: boolean): Promise<void> {
  await addTopic(store, 'acme', 'acme', null, new Date('2026-11-01T00:00:00Z'));
  const first = [...(withAlice ? aliceRecords() : []), ...bobRecords(withAlice)];
  await storeBatch(store, {
    source: 'mastodon',
    partition: 'test',
    runId: 0,
    records: [],
    quarantine: [
      { raw: '{"account":{"acct":"bobby"},"content":<broken', error: 'bad json', url: null },
      ...(withAlice
        ? [
            {
              raw: '{"account":{"acct":"alice_zq","id":"a-7731"},"content":<broken',
              error: 'bad json',
              url: null,
            },
          ]
        : []),
    ],
    bookmark: null,
    budget: new Map(),
    now: at('13:00'),
  });
  await collect(store, 'mastodon', first, at('13:00'));
  await scoreNew(scoringDeps(store, TZ));
  await collect(store, 'rss', [newsCopy], at('13:30'));
  await scoreNew(scoringDeps(store, TZ));
  if (withAlice) {
    await correctSentiment(
      store,
      TZ,
      { source: 'mastodon', id: 'm2', label: 'negative', by: 'carol' },
      at('14:00'),
    );
  }
}

async function seedAlert(store: Store): Promise<void> {
  await store.write(async (conn) => {
    const why = await topicWhy(conn, {
      topicId: 'acme',
      hour: at('10:00'),
      windowHours: 24,
      negativeOnly: false,
    });
    await insertAlert(
      conn,
      {
        kind: 'volume_spike',
        dedupeKey: 'volume_spike:acme:10',
        topicId: 'acme',
        source: null,
        partition: null,
        windowStart: at('10:00'),
        windowEnd: at('11:00'),
        title: 'acme spiked',
        summary: 'acme spiked',
        value: 5,
        baseline: { mean: 1, sd: 1, threshold: 4 },
        why,
        link: 'http://127.0.0.1/alerts',
      },
      { now: at('11:05'), muted: false, webhooks: [] },
    );
  });
}

const deps = (store: Store) => ({ store, timezone: TZ, now: () => at('15:00'), actor: 'cli:tester' });

const factTables = async (store: Store) => ({
  rollups: await rollupSnapshot(store),
  scores: await store.query('SELECT * EXCLUDE (scored_at) FROM mention_scores ORDER BY source, native_id'),
  authors: await store.query('SELECT * FROM authors ORDER BY source, author_id'),
  tags: await store.query('SELECT * FROM mention_topics ORDER BY ALL'),
});

describe('erase --author', () => {
  it('removes the person everywhere, leaves rollups equal to a database that never had them, and audits counts only', async () => {
    const store = await open();
    await seedListening(store, true);
    await seedAlert(store);
    const before = await databaseText(store);
    expect(before).toContain('alice_zq');
    expect(before).toContain(ALICE_TEXTS[0]);
    const [alert] = await store.query('SELECT why::VARCHAR AS why FROM alerts');
    expect(String(alert?.why)).toContain('alice_zq');
    expect(
      (await store.query("SELECT copy_of_id FROM mention_scores WHERE native_id = 'r1'"))[0]?.copy_of_id,
    ).toBe('m3');

    const result = await eraseAuthor(deps(store), 'mastodon:@Alice_ZQ');
    expect(result.counts).toMatchObject({
      authors: 1,
      mentions: 3,
      reposts: 1,
      promotedCopies: 1,
      corrections: 1,
      quarantine: 1,
    });
    expect(result.counts.alertExamples).toBeGreaterThan(0);

    const after = await databaseText(store);
    for (const needle of ['alice_zq', 'Alice Zorquist', 'a-7731', ...ALICE_TEXTS, 'carol'])
      expect(after.toLowerCase()).not.toContain(needle.toLowerCase());
    expect(after).toContain('bobby');

    const twin = await open();
    await seedListening(twin, false);
    expect(await factTables(store)).toEqual(await factTables(twin));

    const audit = await store.query('SELECT action, detail::VARCHAR AS detail FROM audit_log');
    expect(audit.map((a) => a.action)).toEqual(['erase.author']);
    expect(JSON.parse(String(audit[0]?.detail))).toMatchObject({ source: 'mastodon', mentions: 3 });
    expect((await verifyAudit(store)).brokenAt).toBeNull();
  });

  it('refuses a bad or unknown reference with a clear message and changes nothing', async () => {
    const store = await open();
    await seedListening(store, true);
    const before = await databaseText(store);
    await expect(eraseAuthor(deps(store), 'alice_zq')).rejects.toThrow(
      /--author: "alice_zq" is not <source>:<handle>/,
    );
    await expect(eraseAuthor(deps(store), 'myspace:alice')).rejects.toThrow(/unknown source "myspace"/);
    await expect(eraseAuthor(deps(store), 'mastodon:nobody')).rejects.toThrow(
      /nothing is stored for mastodon:nobody/,
    );
    await expect(
      complianceVerbs.erase.run({ store, config: { timezone: TZ }, now: () => at('15:00') } as never, {
        author: 'mastodon:alice_zq',
        employee: 'E001',
        actor: 'cli',
      }),
    ).rejects.toThrow(UserError);
    expect(await databaseText(store)).toBe(before);
  });
});

/** The canonical adoption files as they would read had employee E001 never been in them. */
function withoutE001(name: string, text: string): string {
  const lines = text.split('\n');
  const header = (lines[0] ?? '').split(',');
  const col = (n: string) => header.indexOf(n);
  return lines
    .filter(
      (l, i) =>
        i === 0 ||
        !l
          .split(',')
          .some((cell, c) => cell === 'E001' && !['manager_id', 'first_reply_by'].includes(header[c] ?? '')),
    )
    .map((l, i) => {
      if (i === 0) return l;
      const cells = l.split(',');
      if (name === 'employees.csv' && cells[col('manager_id')] === 'E001') cells[col('manager_id')] = '';
      if (name === 'threads.csv' && cells[col('first_reply_by')] === 'E001') {
        cells[col('first_reply_by')] = '';
        cells[col('first_reply_ts')] = '';
      }
      return cells.join(',');
    })
    .join('\n');
}

describe('erase --employee', () => {
  it('removes the employee from every table, by email too, and reports equal a directory that never had them', async () => {
    const store = await open();
    await importAt(store, 'auto', CANONICAL.map(fixture));
    const before = await databaseText(store);
    expect(before).toContain('user01@example.com');
    // A report first: the weeks it keeps (migration 014) must not outlive the erasure.
    const analyst = { audience: 'analyst' as const, by: ['department'] };
    const withE001 = await report(store, analyst);

    const result = await eraseEmployee(deps(store), 'User01@Example.com');
    expect(result.counts.employees).toBe(1);
    expect(result.counts.activity_daily).toBeGreaterThan(0);
    expect(result.counts.interactions).toBeGreaterThan(0);
    const after = await databaseText(store);
    for (const needle of ['E001"', 'E001,', 'user01@example.com', 'User 01'])
      expect(after).not.toContain(needle);

    const twin = await open();
    await importAt(
      twin,
      'auto',
      CANONICAL.map(fixture).map((f) => textFile(f.name, withoutE001(f.name, f.content.toString('utf8')))),
    );
    const erased = await report(store, analyst);
    expect(erased).not.toEqual(withE001);
    expect(erased).toEqual(await report(twin, analyst));
    expect(await store.query('SELECT action FROM audit_log')).toEqual([{ action: 'erase.employee' }]);

    await expect(eraseEmployee(deps(store), 'E001')).rejects.toThrow(/nothing is stored for "E001"/);
    await expect(eraseEmployee(deps(store), '  ')).rejects.toThrow(
      /--employee: give an employee id or email/,
    );
  });
});
