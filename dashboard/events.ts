import express, { type Response } from 'express';
import { getAlert } from '../pipeline/alerts/records.js';
import { errorMessage } from '../pipeline/errors.js';
import type { Logger } from '../pipeline/logger.js';
import { type Store, timestamptz } from '../pipeline/store.js';
import type { Services } from '../pipeline/verbs.js';
import type { Allow } from './roles.js';

/**
 * How far a client has seen: the newest scored_at it was told about (ms), how many mentions carry
 * exactly that instant (a later batch in the same millisecond is still new), and the last alert id.
 * Sent as each event's id, so a reconnecting EventSource resumes with Last-Event-ID.
 */
interface Watermark {
  scoredAt: number;
  atMark: number;
  alertId: number;
}

const markId = (w: Watermark) => `${w.scoredAt}.${w.atMark}.${w.alertId}`;

function parseMark(id: string | undefined): Watermark | null {
  const m = /^(\d{1,15})\.(\d{1,15})\.(\d{1,15})$/.exec(id ?? '');
  return m ? { scoredAt: Number(m[1]), atMark: Number(m[2]), alertId: Number(m[3]) } : null;
}

interface Client {
  res: Response;
  mark: Watermark;
}

export interface LiveOptions {
  /** How often the database is looked at (the scheduler and the CLI write without telling us). */
  pollMs: number;
  /** A comment line this often keeps proxies from closing an idle stream. */
  heartbeatMs: number;
}

/**
 * The server-sent event hub of one app: one poll loop for all clients, running only while some are
 * connected. Clients at the same watermark share one query per poll.
 */
export class LiveEvents {
  readonly #clients = new Set<Client>();
  #poll: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #ticking = false;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly options: LiveOptions = { pollMs: 2000, heartbeatMs: 15_000 },
  ) {}

  /** Connected clients (0 once every stream has closed). */
  get size(): number {
    return this.#clients.size;
  }

  /** True while the poll and heartbeat timers exist. */
  get running(): boolean {
    return this.#poll !== undefined;
  }

  /** Where the database is now: a new client hears only about what comes after. */
  async head(): Promise<Watermark> {
    const [r] = await this.store.query(
      `SELECT (SELECT max(id) FROM alerts) AS alert_id, s.mark,
         (SELECT count(*) FROM mention_scores WHERE scored_at = s.mark) AS at_mark
       FROM (SELECT max(scored_at) AS mark FROM mention_scores) s`,
    );
    return {
      scoredAt: r?.mark instanceof Date ? r.mark.getTime() : 0,
      atMark: Number(r?.at_mark ?? 0),
      alertId: Number(r?.alert_id ?? 0),
    };
  }

  /** Streams events to `res` from `lastEventId` (or from now) until the client goes away. */
  async attach(res: Response, lastEventId: string | undefined): Promise<void> {
    const mark = parseMark(lastEventId) ?? (await this.head());
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    // The id line tells a client that reconnects before any event where it was.
    res.write(`retry: ${this.options.pollMs}\nid: ${markId(mark)}\n: connected\n\n`);
    const client: Client = { res, mark };
    this.#clients.add(client);
    res.on('close', () => {
      this.#clients.delete(client);
      if (this.#clients.size === 0) this.#stop();
    });
    if (!this.#poll) {
      this.#poll = setInterval(() => void this.#tick(), this.options.pollMs);
      this.#heartbeat = setInterval(() => {
        for (const c of this.#clients) c.res.write(': heartbeat\n\n');
      }, this.options.heartbeatMs);
    }
  }

  /** Ends every stream (shutdown). */
  close(): void {
    for (const c of this.#clients) c.res.end();
    this.#clients.clear();
    this.#stop();
  }

  #stop(): void {
    clearInterval(this.#poll);
    clearInterval(this.#heartbeat);
    this.#poll = undefined;
    this.#heartbeat = undefined;
  }

  async #tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      const groups = new Map<string, Client[]>();
      for (const c of this.#clients) groups.set(markId(c.mark), [...(groups.get(markId(c.mark)) ?? []), c]);
      for (const clients of groups.values()) {
        const from = (clients[0] as Client).mark;
        const events = await this.#since(from);
        for (const c of clients) {
          if (!this.#clients.has(c)) continue;
          for (const e of events)
            c.res.write(`event: ${e.event}\nid: ${markId(e.mark)}\ndata: ${JSON.stringify(e.data)}\n\n`);
          c.mark = events.at(-1)?.mark ?? c.mark;
        }
      }
    } catch (err) {
      this.logger.error({ err: errorMessage(err) }, 'live events poll failed');
    } finally {
      this.#ticking = false;
    }
  }

  /** Events after `from`, each with the watermark after it. */
  async #since(from: Watermark): Promise<{ event: string; mark: Watermark; data: unknown }[]> {
    const events: { event: string; mark: Watermark; data: unknown }[] = [];
    // One row per scoring instant (one per batch): few rows however many mentions a batch held.
    const batches = await this.store.query(
      `SELECT s.scored_at, count(*) AS n, max(m.created_at) AS newest
       FROM mention_scores s JOIN mentions m USING (source, native_id)
       WHERE s.scored_at >= $1 GROUP BY s.scored_at ORDER BY s.scored_at`,
      [timestamptz(new Date(from.scoredAt))],
    );
    let count = 0;
    let newest: Date | null = null;
    let mark = from;
    for (const b of batches) {
      const at = (b.scored_at as Date).getTime();
      const n = Number(b.n);
      const fresh = at === from.scoredAt ? Math.max(0, n - from.atMark) : n;
      if (fresh === 0) continue;
      count += fresh;
      if (!newest || (b.newest as Date) > newest) newest = b.newest as Date;
      mark = { ...mark, scoredAt: at, atMark: n };
    }
    if (count > 0) events.push({ event: 'mentions', mark, data: { count, newest: newest?.toISOString() } });
    const alerts = await this.store.query('SELECT id FROM alerts WHERE id > $1 ORDER BY id LIMIT 100', [
      from.alertId,
    ]);
    for (const a of alerts) {
      const alert = await getAlert(this.store, Number(a.id));
      mark = { ...mark, alertId: Number(a.id) };
      if (alert) events.push({ event: 'alert', mark, data: { alert } });
    }
    return events;
  }
}

/**
 * GET /api/events (comms, admin): server-sent events. `event: mentions` {count, newest} when
 * mentions were scored (by this server, the scheduler or a CLI through it), `event: alert` {alert};
 * a heartbeat comment every 15 s. Last-Event-ID resumes where the client was.
 */
export function eventRoutes(
  services: Services,
  allow: Allow,
  live = new LiveEvents(services.store, services.logger),
): express.Router {
  const router = express.Router();
  // Open streams would hold a shutting-down server open.
  services.signal.addEventListener('abort', () => live.close(), { once: true });
  router.get('/api/events', allow('comms'), async (req, res) => {
    await live.attach(res, req.get('last-event-id'));
  });
  return router;
}
