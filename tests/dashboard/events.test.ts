import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eventRoutes, LiveEvents } from '../../dashboard/events.js';
import type { Allow } from '../../dashboard/roles.js';
import { insertAlert } from '../../pipeline/alerts/records.js';
import { storeBatch } from '../../pipeline/ingest.js';
import type { Store } from '../../pipeline/store.js';
import { score } from '../../pipeline/verbs.js';
import { startTestApp, TEST_TOKEN, type TestApp } from '../helpers/app.js';
import { mentionRecord } from '../helpers/mention.js';
import { memoryLogger, openTestStore } from '../helpers/store.js';

let store: Store;
let cleanup: () => void;
let app: TestApp;
const now = new Date('2026-11-23T01:00:00Z');

beforeAll(async () => {
  ({ store, cleanup } = await openTestStore());
  app = await startTestApp({ store, now: () => now, config: { timezone: 'UTC' } });
});
afterAll(() => {
  app.close();
  cleanup();
});

interface SseEvent {
  event: string;
  id: string | null;
  data: string;
  comment: string | null;
}

/** A real HTTP client reading the stream: events as they arrive, waited for by type. */
function openStream(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const events: SseEvent[] = [];
  let wake: () => void = () => {};
  const ready = fetch(url, { headers, signal: controller.signal }).then(async (res) => {
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    void (async () => {
      let buffer = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += decoder.decode(value, { stream: true });
          let end = buffer.indexOf('\n\n');
          while (end >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const e: SseEvent = { event: 'message', id: null, data: '', comment: null };
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) e.comment = line.slice(1).trim();
              else if (line.startsWith('event: ')) e.event = line.slice(7);
              else if (line.startsWith('id: ')) e.id = line.slice(4);
              else if (line.startsWith('data: ')) e.data += line.slice(6);
            }
            events.push(e);
            wake();
            end = buffer.indexOf('\n\n');
          }
        }
      } catch {
        // Aborted by the test.
      }
    })();
  });
  /** The next event matching `match` not taken yet. */
  let taken = 0;
  async function next(match: (e: SseEvent) => boolean): Promise<SseEvent> {
    await ready;
    for (;;) {
      const i = events.findIndex((e, k) => k >= taken && match(e));
      if (i >= 0) {
        taken = i + 1;
        return events[i] as SseEvent;
      }
      await new Promise<void>((r) => {
        wake = r;
      });
    }
  }
  return { next, close: () => controller.abort(), events };
}

const auth = { authorization: `Bearer ${TEST_TOKEN}` };

async function collectAndScore(ids: string[], createdAt: Date): Promise<void> {
  await storeBatch(store, {
    source: 'rss',
    partition: 'feed',
    runId: 0,
    records: ids.map((id) => mentionRecord({ nativeId: id, text: `Acme news number ${id}`, createdAt })),
    quarantine: [],
    bookmark: {},
    budget: new Map(),
    now,
  });
  await score(app.services, {});
}

describe('GET /api/events', () => {
  it('needs a signed-in caller', async () => {
    expect((await fetch(`${app.base}/api/events`)).status).toBe(401);
  });

  it('streams newly scored mentions and new alerts, and resumes from Last-Event-ID', async () => {
    const stream = openStream(`${app.base}/api/events`, auth);
    await stream.next((e) => e.comment === 'connected');
    await collectAndScore(['a1', 'a2', 'a3'], new Date('2026-11-22T10:00:00Z'));
    const first = await stream.next((e) => e.event === 'mentions');
    expect(JSON.parse(first.data)).toEqual({ count: 3, newest: '2026-11-22T10:00:00.000Z' });

    await store.write((conn) =>
      insertAlert(
        conn,
        {
          kind: 'volume_spike',
          dedupeKey: 'test-spike',
          topicId: null,
          source: null,
          partition: null,
          windowStart: now,
          windowEnd: now,
          title: 'Acme volume spike',
          summary: '<b>not markup</b>',
          value: 10,
          baseline: { mean: 1, sd: 1, threshold: 4 },
          why: { topTerms: [], topSources: [], sentiment: null, examples: [] },
          link: 'https://earshot.example.com/comms',
        },
        { now, muted: false, webhooks: [] },
      ),
    );
    const alert = await stream.next((e) => e.event === 'alert');
    expect(JSON.parse(alert.data).alert).toMatchObject({ title: 'Acme volume spike', kind: 'volume_spike' });
    stream.close();

    // Scored in the same instant as the first batch (the clock stands still): still new to the client.
    await collectAndScore(['b1', 'b2'], new Date('2026-11-22T11:00:00Z'));
    const resumed = openStream(`${app.base}/api/events`, { ...auth, 'last-event-id': String(alert.id) });
    const missed = await resumed.next((e) => e.event === 'mentions');
    expect(JSON.parse(missed.data)).toEqual({ count: 2, newest: '2026-11-22T11:00:00.000Z' });
    await collectAndScore(['c1'], new Date('2026-11-22T12:00:00Z'));
    const later = await resumed.next((e) => e.event === 'mentions');
    expect(JSON.parse(later.data)).toEqual({ count: 1, newest: '2026-11-22T12:00:00.000Z' });
    // Nothing was told twice: the alert was seen before the reconnect.
    expect(resumed.events.filter((e) => e.event === 'alert')).toEqual([]);
    resumed.close();
  }, 30_000);
});

describe('LiveEvents', () => {
  it('sends heartbeats and frees everything when many clients go away', async () => {
    const { logger } = memoryLogger();
    const live = new LiveEvents(store, logger, { pollMs: 20, heartbeatMs: 20 });
    // The guard under test elsewhere; here every caller is a signed-in comms user.
    const allow: Allow = () => (_req, res, next) => {
      res.locals.user = { name: 'test', role: 'comms' };
      next();
    };
    const web = express().use(eventRoutes(app.services, allow, live));
    const server: Server = web.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const clients = Array.from({ length: 40 }, () => openStream(`${base}/api/events`));
      await Promise.all(clients.map((c) => c.next((e) => e.comment === 'connected')));
      expect(live.size).toBe(40);
      await clients[0]?.next((e) => e.comment === 'heartbeat');
      for (const c of clients) c.close();
      await vi.waitFor(() => expect(live.size).toBe(0), { timeout: 10_000 });
      expect(live.running).toBe(false);
      // A client after that starts the loop again.
      const again = openStream(`${base}/api/events`);
      await again.next((e) => e.comment === 'heartbeat');
      expect(live.running).toBe(true);
      again.close();
      await vi.waitFor(() => expect(live.running).toBe(false), { timeout: 10_000 });
    } finally {
      live.close();
      server.closeAllConnections();
      server.close();
    }
  });
});
