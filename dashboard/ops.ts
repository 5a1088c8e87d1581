import express from 'express';
import { z } from 'zod';
import { alertSettings } from '../pipeline/alerts/config.js';
import { sendAlert } from '../pipeline/alerts/deliver.js';
import type { Alert } from '../pipeline/alerts/records.js';
import { recordAudit } from '../pipeline/audit/log.js';
import { errorMessage, RateLimitedError, SourceError, UserError } from '../pipeline/errors.js';
import { redact } from '../pipeline/secrets.js';
import { timestamptz } from '../pipeline/store.js';
import { deleteTopic, listTopics, saveTopic } from '../pipeline/topics/edit.js';
import { parseQuery, QuerySyntaxError } from '../pipeline/topics/query.js';
import type { Services } from '../pipeline/verbs.js';
import { parseRequest } from './request.js';
import { type Allow, currentUser } from './roles.js';

const quarantineFilters = z.strictObject({
  source: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** What a webhook test sends: a real alert shape through the real formatter, marked as a test. */
function testAlert(now: Date, link: string): Alert {
  const at = now.toISOString();
  return {
    id: 0,
    kind: 'volume_spike',
    status: 'open',
    topicId: null,
    source: null,
    partition: null,
    windowStart: at,
    windowEnd: at,
    createdAt: at,
    title: 'earshot test message',
    summary: 'This is a test from the earshot operations page: alerts will arrive here.',
    value: null,
    baseline: null,
    why: { topTerms: [], topSources: [], sentiment: null, examples: [] },
    link,
    ackedAt: null,
    ackedBy: null,
  };
}

/**
 * Operations (admin, topics also comms): topics editor with live query validation, quarantined
 * payloads, webhooks by name with a test button. Webhook URLs are secrets: no answer or log line here
 * carries one, failures included (redact).
 */
export function opsRoutes(services: Services, allow: Allow): express.Router {
  const router = express.Router();
  const { store } = services;

  router.get('/api/topics', allow('comms', 'analyst'), async (_req, res) => {
    const muted = new Map(
      (
        await store.query('SELECT topic_id, until FROM topic_mutes WHERE until > $1', [
          timestamptz(services.now()),
        ])
      ).map((r) => [String(r.topic_id), (r.until as Date).toISOString()]),
    );
    res.json(
      (await listTopics(store)).map((t) => ({
        ...t,
        set: t.comparisonSet,
        mutedUntil: muted.get(t.id) ?? null,
      })),
    );
  });

  // Validated in full by saveTopic (the config's topic schema), so errors read as in the config file.
  router.put('/api/topics/:id', allow('admin'), async (req, res) => {
    const id = String(req.params.id);
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (body.id !== undefined && body.id !== id)
      throw new UserError(`id: "${String(body.id)}" differs from the topic in the path (${id})`, 400);
    const result = await saveTopic(store, { ...body, id }, services.now());
    await recordAudit(store, {
      actor: currentUser(res).name,
      action: 'topic.save',
      target: id,
      detail: { name: body.name, keywords: body.keywords, query: body.query ?? null, tagged: result.tagged },
    });
    res.json(result);
  });

  router.delete('/api/topics/:id', allow('admin'), async (req, res) => {
    const id = String(req.params.id);
    if (!(await deleteTopic(store, id))) throw new UserError(`no topic "${id}"`, 404);
    await recordAudit(store, { actor: currentUser(res).name, action: 'topic.delete', target: id });
    res.status(204).end();
  });

  // Live validation in the editor: position is the 0-based offset into the query where it broke.
  router.post('/api/topics/validate', allow('comms'), (req, res) => {
    const { query } = parseRequest(z.strictObject({ query: z.string().max(10_000) }), req.body);
    try {
      parseQuery(query);
      res.json({ ok: true });
    } catch (err) {
      if (!(err instanceof QuerySyntaxError)) throw err;
      res.json({ ok: false, error: err.message, position: err.offset });
    }
  });

  router.get('/api/quarantine', allow('admin'), async (req, res) => {
    const f = parseRequest(quarantineFilters, req.query);
    const rows = await store.query(
      `SELECT id, source, partition, error, received_at, strlen(raw) AS size FROM quarantine
       WHERE ($1::VARCHAR IS NULL OR source = $1) ORDER BY id DESC LIMIT $2`,
      [f.source ?? null, f.limit],
    );
    res.json(
      rows.map((r) => ({
        id: Number(r.id),
        source: String(r.source),
        partition: String(r.partition),
        reason: String(r.error),
        at: (r.received_at as Date).toISOString(),
        size: Number(r.size),
      })),
    );
  });

  // The payload as text in JSON: the page shows it in a text node, never as markup.
  router.get('/api/quarantine/:id', allow('admin'), async (req, res) => {
    const id = Number(req.params.id);
    if (!Number.isInteger(id)) throw new UserError(`id: "${req.params.id}" is not a quarantine id`, 400);
    const [r] = await store.query(
      'SELECT id, source, partition, error, received_at, url, raw FROM quarantine WHERE id = $1',
      [id],
    );
    if (!r) throw new UserError(`no quarantined payload ${id}`, 404);
    res.json({
      id: Number(r.id),
      source: String(r.source),
      partition: String(r.partition),
      reason: String(r.error),
      at: (r.received_at as Date).toISOString(),
      url: r.url === null ? null : String(r.url),
      // Stored as received; a source echoing a credential back must not show it here.
      payload: redact(String(r.raw)),
    });
  });

  // 'missing' cannot be stored: loadConfig refuses a webhook whose secret is not set, so the server
  // does not start; the answer says so per name for the page all the same.
  router.get('/api/webhooks', allow('admin'), (_req, res) => {
    res.json(
      alertSettings(services.config).webhooks.map((w) => ({
        name: w.name,
        kind: w.format,
        secret: w.url.reveal() ? 'set' : 'missing',
        topics: w.topics ?? null,
        kinds: w.kinds ?? null,
      })),
    );
  });

  router.post('/api/webhooks/:name/test', allow('admin'), async (req, res) => {
    const settings = alertSettings(services.config);
    const hook = settings.webhooks.find((w) => w.name === req.params.name);
    if (!hook) throw new UserError(`no webhook "${req.params.name}" in the config`, 404);
    let answer: { ok: boolean; status: number | null; error?: string };
    try {
      answer = {
        ok: true,
        ...(await sendAlert(services, hook, testAlert(services.now(), settings.publicUrl))),
      };
    } catch (err) {
      answer = {
        ok: false,
        status: err instanceof SourceError ? err.status : err instanceof RateLimitedError ? 429 : null,
        error: redact(errorMessage(err)),
      };
    }
    await recordAudit(store, {
      actor: currentUser(res).name,
      action: 'webhook.test',
      target: hook.name,
      detail: { ok: answer.ok, status: answer.status },
    });
    res.json(answer);
  });

  return router;
}
