import { type DuckDBConnection, type DuckDBPreparedStatement, StatementType } from '@duckdb/node-api';
import { UserError } from './errors.js';
import { plainRows, type Row, type Store } from './store.js';

export interface QueryResult {
  columns: string[];
  rows: Row[];
  /** True when the result had more rows than the cap and was cut. */
  truncated: boolean;
  elapsedMs: number;
}

export interface QueryLimits {
  maxRows: number;
  timeoutMs: number;
}

export const defaultQueryLimits: QueryLimits = { maxRows: 10_000, timeoutMs: 30_000 };

// Statements that begin with these words can be SELECTs; prepare's statement type decides.
const SELECT_WORDS = new Set([
  'SELECT',
  'WITH',
  'FROM',
  'VALUES',
  'TABLE',
  'PIVOT',
  'UNPIVOT',
  'SUMMARIZE',
  'DESCRIBE',
  'SHOW',
]);

/** The statement's first word, after comments, spaces and opening parentheses, upper-cased. */
function firstWord(sql: string): string {
  let i = 0;
  for (;;) {
    while (i < sql.length && (/\s/.test(sql[i] as string) || sql[i] === '(')) i++;
    if (sql.startsWith('--', i)) {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? sql.length : nl + 1;
    } else if (sql.startsWith('/*', i)) {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else break;
  }
  return (/^[A-Za-z]*/.exec(sql.slice(i))?.[0] ?? '').toUpperCase();
}

/**
 * Tables no console query may read, whoever asks: sign-in secrets (users, sessions: migration 010)
 * and the audit log (admins read it through GET /api/audit). Checked on DuckDB's own plan, so views,
 * subqueries and query_table('users') are caught as surely as FROM users.
 */
export const PRIVATE_TABLES: ReadonlySet<string> = new Set(['users', 'sessions', 'audit_log']);

// Functions that change state even inside a SELECT.
const STATEFUL_FUNCTIONS = /\b(nextval|setval|currval)\s*\(/i;

interface PlanNode {
  children?: PlanNode[];
  extra_info?: { Table?: string };
}

/** Tables the SELECT's physical plan scans (views expanded), by bare name. Plans, never runs. */
async function scannedTables(conn: DuckDBConnection, sql: string): Promise<string[]> {
  let plan: PlanNode[];
  try {
    const reader = await conn.runAndReadAll(`EXPLAIN (FORMAT json) ${sql}`);
    plan = JSON.parse(String(reader.getRows()[0]?.[1] ?? '[]')) as PlanNode[];
  } catch (err) {
    throw new UserError((err as Error).message, 400, { cause: err });
  }
  const tables: string[] = [];
  const walk = (nodes: PlanNode[]) => {
    for (const n of nodes) {
      const table = n.extra_info?.Table;
      if (table) tables.push(table.split('.').at(-1) as string);
      walk(n.children ?? []);
    }
  };
  walk(plan);
  return tables;
}

/**
 * Checks that `sql` is exactly one statement which DuckDB itself classifies as a SELECT reading no
 * PRIVATE_TABLES, and prepares it on `conn`. The instance already has file access limited to earshot's folders and its
 * configuration locked (Store.open), so a SELECT cannot reach anything else.
 */
export async function prepareReadOnly(conn: DuckDBConnection, sql: string): Promise<DuckDBPreparedStatement> {
  let extracted: Awaited<ReturnType<typeof conn.extractStatements>>;
  try {
    extracted = await conn.extractStatements(sql);
  } catch (err) {
    throw new UserError(`the query does not parse: ${(err as Error).message}`, 400, { cause: err });
  }
  if (extracted.count !== 1) {
    throw new UserError(
      `send exactly one statement (got ${extracted.count}); only a single SELECT is allowed`,
    );
  }
  // DuckDB acts on some statements while preparing them (EXPORT DATABASE creates its folder;
  // found by tests/fuzz/sql-guard.test.ts), so only what can be a SELECT is prepared at all.
  const word = firstWord(sql);
  if (!SELECT_WORDS.has(word)) {
    throw new UserError(
      `only SELECT queries are allowed here (this one starts with ${word || 'no keyword'})`,
      403,
    );
  }
  let prepared: DuckDBPreparedStatement;
  try {
    prepared = await extracted.prepare(0);
  } catch (err) {
    throw new UserError((err as Error).message, 400, { cause: err });
  }
  if (prepared.statementType !== StatementType.SELECT) {
    throw new UserError(
      `only SELECT queries are allowed here (this is a ${StatementType[prepared.statementType]} statement)`,
      403,
    );
  }
  if (STATEFUL_FUNCTIONS.test(sql))
    throw new UserError('sequence functions change the database; not allowed', 403);
  const closed = (await scannedTables(conn, sql)).find((t) => PRIVATE_TABLES.has(t));
  if (closed !== undefined) throw new UserError(`the table ${closed} is not open to the SQL console`, 403);
  return prepared;
}

/**
 * Runs `fn`, interrupting whatever `conn` is running once `timeoutMs` have passed: a query stopped
 * that way is a 408, any other failure of the query a 400.
 */
export async function withTimeLimit<T>(
  conn: DuckDBConnection,
  timeoutMs: number,
  fn: () => Promise<T>,
): Promise<T> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.interrupt();
  }, timeoutMs);
  try {
    return await fn();
  } catch (err) {
    if (timedOut) {
      throw new UserError(`the query ran longer than ${timeoutMs / 1000} s and was stopped`, 408, {
        cause: err,
      });
    }
    if (err instanceof UserError) throw err;
    throw new UserError((err as Error).message, 400, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

/** Runs an analyst's query read-only (prepareReadOnly), rows capped, interrupted at the time limit. */
export async function runReadOnlyQuery(
  store: Store,
  sql: string,
  limits: QueryLimits = defaultQueryLimits,
): Promise<QueryResult> {
  const started = performance.now();
  const conn = await store.connect();
  try {
    const prepared = await prepareReadOnly(conn, sql);
    return await withTimeLimit(conn, limits.timeoutMs, async () => {
      const reader = await prepared.streamAndReadUntil(limits.maxRows + 1);
      const rows = plainRows(reader);
      return {
        columns: reader.columnNames(),
        rows: rows.slice(0, limits.maxRows),
        truncated: rows.length > limits.maxRows,
        elapsedMs: performance.now() - started,
      };
    });
  } finally {
    store.release(conn);
  }
}
