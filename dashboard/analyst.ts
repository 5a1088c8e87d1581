import { randomUUID } from 'node:crypto';
import { createReadStream, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import express, { type Response } from 'express';
import { z } from 'zod';
import { recordAudit } from '../pipeline/audit/log.js';
import { csvLine } from '../pipeline/csv.js';
import { UserError } from '../pipeline/errors.js';
import {
  defaultQueryLimits,
  PRIVATE_TABLES,
  prepareReadOnly,
  type QueryLimits,
  runReadOnlyQuery,
  withTimeLimit,
} from '../pipeline/sql-guard.js';
import { type Store, storeFolders, timestamptz } from '../pipeline/store.js';
import type { Services } from '../pipeline/verbs.js';
import { parseRequest } from './request.js';
import { type Allow, currentUser } from './roles.js';

const queryBody = z.strictObject({ query: z.string().trim().min(1, 'write a SELECT query').max(100_000) });
const savedBody = z.strictObject({
  name: z
    .string()
    .trim()
    .min(1, 'give the query a name')
    .max(100, 'keep the name under 100 characters')
    .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters'),
  sql: z.string().trim().min(1, 'write a SELECT query').max(100_000),
});

/** Runs `fn` and records it in the audit log, refused or not: who asked the database what. */
async function audited<T>(
  store: Store,
  entry: { actor: string; action: string; detail: Record<string, unknown> },
  fn: () => Promise<T>,
  rowsOf: (result: T) => number,
): Promise<T> {
  try {
    const result = await fn();
    await recordAudit(store, { ...entry, detail: { ...entry.detail, rows: rowsOf(result) } });
    return result;
  } catch (err) {
    const status = err instanceof UserError ? err.status : 500;
    await recordAudit(store, {
      ...entry,
      detail: { ...entry.detail, error: (err as Error).message, status },
    });
    throw err;
  }
}

/** Starts a download: its type and a name that says what and when (earshot-query-2026-11-23T01-02-03Z.csv). */
function beginDownload(res: Response, format: 'csv' | 'parquet', now: Date): void {
  const stamp = now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-');
  res.type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/vnd.apache.parquet');
  res.attachment(`earshot-query-${stamp}.${format}`);
}

/** Resolves once `res` can take more, or is gone; leaves no listener behind either way. */
function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * CSV written as DuckDB hands over chunks, waiting for the client to drain each: memory stays at one
 * chunk whatever the result size. Once the first byte is sent a failure can only cut the download,
 * so the connection is destroyed and the client sees an incomplete file, never a silently short one.
 * The caller ends the response, after the export is in the audit log.
 */
async function streamCsv(
  store: Store,
  sql: string,
  limits: QueryLimits,
  res: Response,
  begin: () => void,
): Promise<number> {
  const conn = await store.connect();
  let rows = 0;
  try {
    const prepared = await prepareReadOnly(conn, sql);
    const started = performance.now();
    await withTimeLimit(conn, limits.timeoutMs, async () => {
      const result = await prepared.stream();
      begin();
      res.write(csvLine(result.columnNames()));
      for await (const chunk of result.yieldRowsJs()) {
        rows += chunk.length;
        if (!res.write(chunk.map(csvLine).join(''))) await drained(res);
        if (res.destroyed) throw new UserError('the client went away', 499);
        // A slow reader must not hold the connection past the limit either.
        if (performance.now() - started > limits.timeoutMs)
          throw new UserError(`the export ran longer than ${limits.timeoutMs / 1000} s and was stopped`, 408);
      }
    });
  } catch (err) {
    if (res.headersSent) res.destroy();
    throw err;
  } finally {
    store.release(conn);
  }
  return rows;
}

/**
 * Parquet is written by DuckDB itself into earshot's exports folder (the one place the locked
 * instance may write), streamed, then deleted. The analyst's text is checked as one SELECT first and
 * placed on lines of its own, so a trailing comment cannot swallow the closing parenthesis; the whole
 * COPY is then checked to be one statement again.
 */
async function streamParquet(
  store: Store,
  sql: string,
  limits: QueryLimits,
  res: Response,
  begin: () => void,
): Promise<number> {
  const folder = storeFolders(store.path).exports;
  mkdirSync(folder, { recursive: true });
  const file = join(folder, `${randomUUID()}.parquet`);
  const conn = await store.connect();
  try {
    await prepareReadOnly(conn, sql);
    const inner = sql.replace(/;\s*$/, '');
    const copy = `COPY (\n${inner}\n) TO '${file.replaceAll("'", "''")}' (FORMAT parquet)`;
    const rows = await withTimeLimit(conn, limits.timeoutMs, async () => {
      const extracted = await conn.extractStatements(copy);
      if (extracted.count !== 1) throw new UserError('the query cannot be exported as it is written', 400);
      const reader = await (await extracted.prepare(0)).runAndReadAll();
      return Number(reader.getRowObjectsJS()[0]?.Count ?? 0);
    });
    begin();
    await pipeline(createReadStream(file), res, { end: false });
    return rows;
  } finally {
    store.release(conn);
    rmSync(file, { force: true });
  }
}

interface SchemaEntry {
  name: string;
  kind: 'table' | 'view';
  comment: string | null;
  columns: { name: string; type: string; comment: string | null }[];
}

/** Tables and views the console may read, with their comments (data/migrations/011_analyst.sql). */
async function describeSchema(store: Store): Promise<SchemaEntry[]> {
  const objects = await store.query(
    `SELECT table_name AS name, 'table' AS kind, comment FROM duckdb_tables()
     WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal
     UNION ALL
     SELECT view_name, 'view', comment FROM duckdb_views()
     WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal
     ORDER BY kind, name`,
  );
  const columns = await store.query(
    `SELECT table_name, column_name, data_type, comment FROM duckdb_columns()
     WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal
     ORDER BY table_name, column_index`,
  );
  return objects
    .filter((o) => !PRIVATE_TABLES.has(String(o.name)))
    .map((o) => ({
      name: String(o.name),
      kind: o.kind as 'table' | 'view',
      comment: (o.comment as string | null) || null,
      columns: columns
        .filter((c) => c.table_name === o.name)
        .map((c) => ({
          name: String(c.column_name),
          type: String(c.data_type),
          comment: (c.comment as string | null) || null,
        })),
    }));
}

/**
 * The analyst console (DESIGN.md section 7): POST /api/sql, POST /api/sql/export?format=csv|parquet,
 * GET /api/schema and saved queries (GET/POST /api/queries, DELETE /api/queries/:id). Every query and
 * export is in the audit log with who ran it.
 */
export function analystRoutes(services: Services, allow: Allow): express.Router {
  const router = express.Router();
  const { store } = services;
  const limits = () => services.config.sqlLimits ?? defaultQueryLimits;

  router.post('/api/sql', allow('analyst'), async (req, res) => {
    const { query } = parseRequest(queryBody, req.body);
    const result = await audited(
      store,
      { actor: currentUser(res).name, action: 'sql.query', detail: { query } },
      () => runReadOnlyQuery(store, query, limits()),
      (r) => r.rows.length,
    );
    res.json(result);
  });

  router.post('/api/sql/export', allow('analyst'), async (req, res) => {
    const format = req.query.format;
    if (format !== 'csv' && format !== 'parquet')
      throw new UserError(`format: "${String(format)}" is not one of csv, parquet`, 400);
    const { query } = parseRequest(queryBody, req.body);
    const stream = format === 'csv' ? streamCsv : streamParquet;
    try {
      await audited(
        store,
        { actor: currentUser(res).name, action: 'export.sql', detail: { query, format } },
        () => stream(store, query, limits(), res, () => beginDownload(res, format, services.now())),
        (rows) => rows,
      );
      res.end();
    } catch (err) {
      // A failure after the first byte already cut the download; there is no answer left to send.
      if (!res.headersSent) throw err;
    }
  });

  router.get('/api/schema', allow('analyst'), async (_req, res) => {
    res.json(await describeSchema(store));
  });

  router.get('/api/queries', allow('analyst'), async (_req, res) => {
    const rows = await store.query(
      'SELECT id, name, sql, created_by, created_at FROM saved_queries ORDER BY lower(name), id',
    );
    res.json(
      rows.map((r) => ({
        id: Number(r.id),
        name: String(r.name),
        sql: String(r.sql),
        createdBy: String(r.created_by),
        createdAt: (r.created_at as Date).toISOString(),
      })),
    );
  });

  router.post('/api/queries', allow('analyst'), async (req, res) => {
    const { name, sql } = parseRequest(savedBody, req.body);
    // Saved only when the console would run it, so the list never offers a query it refuses.
    const conn = await store.connect();
    try {
      await prepareReadOnly(conn, sql);
    } finally {
      store.release(conn);
    }
    const by = currentUser(res).name;
    const now = services.now();
    const id = await store.write(async (c) => {
      const taken = await c.runAndReadAll('SELECT 1 FROM saved_queries WHERE name = $1', [name]);
      if (taken.currentRowCount > 0) throw new UserError(`name: a saved query "${name}" exists already`, 409);
      const inserted = await c.runAndReadAll(
        'INSERT INTO saved_queries (name, sql, created_by, created_at) VALUES ($1, $2, $3, $4) RETURNING id',
        [name, sql, by, timestamptz(now)],
      );
      return Number(inserted.getRowObjectsJS()[0]?.id);
    });
    res.status(201).json({ id, name, sql, createdBy: by, createdAt: now.toISOString() });
  });

  router.delete('/api/queries/:id', allow('analyst'), async (req, res) => {
    const id = Number(req.params.id);
    if (!Number.isInteger(id)) throw new UserError(`id: "${req.params.id}" is not a query id`, 400);
    const user = currentUser(res);
    await store.write(async (c) => {
      const [row] = (
        await c.runAndReadAll('SELECT created_by FROM saved_queries WHERE id = $1', [id])
      ).getRowObjectsJS();
      if (!row) throw new UserError(`no saved query ${id}`, 404);
      if (row.created_by !== user.name && user.role !== 'admin')
        throw new UserError(
          `saved query ${id} belongs to ${String(row.created_by)}; only they or an admin may delete it`,
          403,
        );
      await c.run('DELETE FROM saved_queries WHERE id = $1', [id]);
    });
    res.status(204).end();
  });

  return router;
}
