import { type DuckDBConnection, DuckDBDateValue, type DuckDBValue } from '@duckdb/node-api';
import { bumpAdoptionData } from '../../pipeline/adoption/week-cache.js';
import { UserError } from '../../pipeline/errors.js';
import { appendRows } from '../../pipeline/ingest.js';
import { type Store, timestamptz } from '../../pipeline/store.js';
import { contentHash, wholeFile } from './bytes.js';
import type { Importer, ParsedRows, SliceMapper } from './contract.js';
import { CsvTable, ImportError, type ImportFile } from './csv.js';
import { readSlices, sniffHeader } from './formats.js';
import { detectImporter, importerOf, importers, importKinds } from './registry.js';

export interface FileOutcome {
  file: string;
  kind: string;
  /** Rows written per table; empty when skipped. */
  rows: Record<string, number>;
  /** The same bytes were imported before (content hash), so nothing was written. */
  duplicate: boolean;
}

export interface ImportOutcome {
  files: FileOutcome[];
  /** Platform keys of this import that match no employee, with how many rows carry each. */
  unmatched: { platform: string; userKey: string; rows: number }[];
}

type Table = Exclude<keyof ParsedRows, 'employees' | 'identities' | 'messages'>;

/** Columns of each keyed table in table order (002_adoption.sql), minus import_id which comes last. */
const COLUMNS: Record<Table, string[]> = {
  activity_daily: [
    'platform',
    'activity_date',
    'user_key',
    'employee_id',
    'posts',
    'replies',
    'reactions',
    'reads',
    'chat_messages',
    'channel_messages',
    'meetings_attended',
  ],
  activity_period: [
    'platform',
    'period_days',
    'period_end',
    'user_key',
    'employee_id',
    'last_activity_date',
    'active_days',
    'posts',
    'replies',
    'reactions',
    'reads',
    'chat_messages',
    'channel_messages',
    'calls',
    'meetings',
    'meetings_attended',
    'is_licensed',
    'assigned_products',
    'user_state',
  ],
  interactions: [
    'platform',
    'event_ts',
    'from_user',
    'to_user',
    'interaction_type',
    'from_employee_id',
    'to_employee_id',
    'thread_id',
  ],
  threads: [
    'platform',
    'thread_id',
    'group_name',
    'author_user',
    'author_employee_id',
    'created_ts',
    'is_question',
    'first_reply_ts',
    'first_reply_user',
    'first_reply_employee_id',
  ],
  comm_volume_weekly: [
    'week_start',
    'employee_id',
    'emails_sent',
    'emails_received',
    'meetings_attended',
    'meeting_hours',
  ],
  group_activity_period: [
    'platform',
    'period_days',
    'period_end',
    'group_name',
    'group_type',
    'is_deleted',
    'owner_user',
    'owner_employee_id',
    'created_date',
    'last_activity_date',
    'member_count',
    'guest_count',
    'posts',
    'reads',
    'reactions',
    'members_who_posted',
    'members_who_read',
    'members_who_reacted',
  ],
};

/** The key that makes a later overlapping export replace a row instead of adding one. */
const KEYS: Record<Table, string[]> = {
  activity_daily: ['platform', 'activity_date', 'user_key'],
  activity_period: ['platform', 'period_days', 'period_end', 'user_key'],
  interactions: ['platform', 'event_ts', 'from_user', 'to_user', 'interaction_type'],
  threads: ['platform', 'thread_id'],
  comm_volume_weekly: ['week_start', 'employee_id'],
  group_activity_period: ['platform', 'period_days', 'period_end', 'group_name'],
};

/** Platform user columns and the employee column each resolves into, per table. */
const IDENTITIES: Partial<Record<Table, [user: string, employee: string][]>> = {
  activity_daily: [['user_key', 'employee_id']],
  activity_period: [['user_key', 'employee_id']],
  interactions: [
    ['from_user', 'from_employee_id'],
    ['to_user', 'to_employee_id'],
  ],
  threads: [
    ['author_user', 'author_employee_id'],
    ['first_reply_user', 'first_reply_employee_id'],
  ],
  group_activity_period: [['owner_user', 'owner_employee_id']],
};

const TABLES = Object.keys(COLUMNS) as Table[];

function cell(v: unknown): DuckDBValue {
  if (v === undefined || v === null) return null;
  if (v instanceof Date) return timestamptz(v);
  return v as DuckDBValue;
}

/** Rows converted one at a time as the appender takes them, so no second copy of a file is built. */
function* lazyMap<T, U>(rows: readonly T[], f: (row: T) => U): Generator<U> {
  for (const row of rows) yield f(row);
}

const keyOf = (row: Record<string, unknown>, key: string[]) =>
  JSON.stringify(key.map((k) => (row[k] instanceof DuckDBDateValue ? String(row[k]) : row[k])));

/**
 * Refuses a file that lists the same key twice: which row is right is the analyst's call. `seen`
 * carries the keys from one slice of a streamed file to the next.
 */
function checkUnique(
  file: string,
  table: Table,
  rows: (Record<string, unknown> & { line: number })[],
  seen = new Map<string, number>(),
): void {
  for (const row of rows) {
    const k = keyOf(row, KEYS[table]);
    const first = seen.get(k);
    if (first !== undefined)
      throw new ImportError(
        file,
        row.line,
        null,
        `repeats the ${table} row of line ${first} (same ${KEYS[table].join(', ')})`,
      );
    seen.set(k, row.line);
  }
}

interface Planned {
  file: ImportFile;
  importer: Importer;
  hash: string;
}

async function plan(kind: string, files: readonly ImportFile[]): Promise<Planned[]> {
  const planned: Planned[] = [];
  for (const file of files) {
    let importer: Importer | undefined;
    if (kind === 'auto') {
      const header = await sniffHeader(file);
      importer = header ? detectImporter(header) : undefined;
      if (!importer)
        throw new ImportError(
          file.name,
          1,
          null,
          `the header matches no known format; name the kind instead of auto (${importKinds.join(', ')})`,
        );
    } else {
      importer = importerOf(kind);
      if (!importer)
        throw new UserError(`unknown import kind "${kind}"; known: auto, ${importKinds.join(', ')}`);
    }
    planned.push({ file, importer, hash: await contentHash(importer.kind, file) });
  }
  // The directory first, so the activity files of the same import match it.
  return planned.sort((a, b) => importers.indexOf(a.importer) - importers.indexOf(b.importer));
}

// Staging tables are created fresh and dropped after use: DELETE leaves a temp table's rows in
// memory, so reused ones grew by every row ever imported (0.6 GB in the adoption benchmark).
async function stage(conn: DuckDBConnection, table: string): Promise<string> {
  const name = `stage_${table}`;
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${name} AS SELECT * FROM ${table} LIMIT 0`);
  return name;
}

/** Fills NULL employee columns of `target` from the identity map, platform-specific keys first. */
async function resolve(conn: DuckDBConnection, target: string, table: Table): Promise<void> {
  for (const [user, employee] of IDENTITIES[table] ?? []) {
    for (const scope of [`m.platform = ${target}.platform`, `m.platform = '*'`]) {
      await conn.run(
        `UPDATE ${target} SET ${employee} = m.employee_id FROM identity_map m
         WHERE ${target}.${employee} IS NULL AND ${target}.${user} IS NOT NULL
           AND ${scope} AND m.user_key = lower(${target}.${user})`,
      );
    }
  }
}

/** Employee ids and emails seen so far in one directory file, to name the first line of a repeat. */
interface DirectorySeen {
  ids: Map<string, number>;
  emails: Map<string, number>;
}

/** Checks a slice of a directory file and appends it to stage_directory (made at the file's first). */
async function stageEmployees(
  conn: DuckDBConnection,
  rows: NonNullable<ParsedRows['employees']>,
  file: string,
  today: DuckDBDateValue,
  seen: DirectorySeen | undefined,
): Promise<DirectorySeen> {
  const { ids, emails } = seen ?? { ids: new Map<string, number>(), emails: new Map<string, number>() };
  for (const r of rows) {
    const dupId = ids.get(r.employee_id);
    if (dupId !== undefined)
      throw new ImportError(file, r.line, 'employee_id', `"${r.employee_id}" is also on line ${dupId}`);
    ids.set(r.employee_id, r.line);
    if (r.email) {
      const dup = emails.get(r.email);
      if (dup !== undefined)
        throw new ImportError(
          file,
          r.line,
          'email',
          `"${r.email}" is also on line ${dup}: emails must be unique`,
        );
      emails.set(r.email, r.line);
    }
  }
  if (!seen)
    await conn.run(`CREATE OR REPLACE TEMP TABLE stage_directory (
      employee_id VARCHAR, email VARCHAR, display_name VARCHAR, department VARCHAR, location VARCHAR,
      level VARCHAR, is_manager BOOLEAN, is_executive BOOLEAN, manager_id VARCHAR, hire_date DATE,
      term_date DATE, as_of DATE)`);
  await appendRows(
    conn,
    'stage_directory',
    lazyMap(rows, (r) => [
      r.employee_id,
      r.email,
      r.display_name,
      r.department,
      r.location,
      r.level,
      r.is_manager,
      r.is_executive,
      r.manager_id,
      r.hire_date,
      r.term_date,
      r.as_of ?? today,
    ]),
  );
  return { ids, emails };
}

/** Writes a staged directory file: history where someone moved, the directory, its identities. */
async function mergeEmployees(conn: DuckDBConnection): Promise<void> {
  // A manager is whoever another row names as one, when the file does not say (Workplace): only
  // known once every slice is staged.
  await conn.run(`UPDATE stage_directory s SET is_manager = EXISTS
      (SELECT 1 FROM stage_directory m WHERE m.manager_id = s.employee_id)
    WHERE s.is_manager IS NULL`);
  const changed = `(h.department IS DISTINCT FROM s.department OR h.location IS DISTINCT FROM s.location
    OR h.level IS DISTINCT FROM s.level OR h.is_manager IS DISTINCT FROM s.is_manager
    OR h.is_executive IS DISTINCT FROM s.is_executive OR h.manager_id IS DISTINCT FROM s.manager_id)`;
  // A change seen on a later day closes the open stretch there; the new one is opened below.
  await conn.run(`UPDATE employee_history h SET valid_to = s.as_of FROM stage_directory s
    WHERE h.employee_id = s.employee_id AND h.valid_to IS NULL AND h.valid_from < s.as_of AND ${changed}`);
  // A change on the day the open stretch began (two directory files of one day) corrects it in place.
  await conn.run(`UPDATE employee_history h SET department = s.department, location = s.location,
      level = s.level, is_manager = s.is_manager, is_executive = s.is_executive, manager_id = s.manager_id
    FROM stage_directory s
    WHERE h.employee_id = s.employee_id AND h.valid_to IS NULL AND h.valid_from >= s.as_of AND ${changed}`);
  await conn.run(`INSERT INTO employee_history
    SELECT s.employee_id,
      CASE WHEN EXISTS (SELECT 1 FROM employee_history x WHERE x.employee_id = s.employee_id) THEN s.as_of
           ELSE least(coalesce(s.hire_date, s.as_of), s.as_of) END,
      NULL, s.department, s.location, s.level, s.is_manager, s.is_executive, s.manager_id
    FROM stage_directory s
    WHERE NOT EXISTS (SELECT 1 FROM employee_history h WHERE h.employee_id = s.employee_id AND h.valid_to IS NULL)`);
  await conn.run(`INSERT OR REPLACE INTO employees
    SELECT employee_id, email, display_name, department, location, level, is_manager, is_executive,
      manager_id, hire_date, term_date, now() FROM stage_directory`);
  // The directory's emails and employee ids identify people on every platform ('*').
  await conn.run(`INSERT OR REPLACE INTO identity_map
    SELECT '*', lower(employee_id), employee_id, 'directory' FROM stage_directory
    UNION ALL
    SELECT '*', email, employee_id, 'directory' FROM stage_directory
    WHERE email IS NOT NULL AND lower(email) <> lower(employee_id)`);
  await conn.run('DROP TABLE stage_directory');
}

/**
 * A platform's own user ids (Salesforce 005... ids) mapped to employees through the email the
 * platform gives for them; ids whose email no directory entry has are listed as unmatched.
 */
async function writeIdentities(
  conn: DuckDBConnection,
  rows: NonNullable<ParsedRows['identities']>,
  origin: string,
  file: string,
): Promise<number> {
  await conn.run(
    'CREATE OR REPLACE TEMP TABLE stage_identities (platform VARCHAR, user_key VARCHAR, email VARCHAR)',
  );
  await appendRows(
    conn,
    'stage_identities',
    lazyMap(rows, (r) => [r.platform, r.user_key.toLowerCase(), r.email?.toLowerCase() ?? null]),
  );
  const written = await conn.runAndReadAll(
    `INSERT OR REPLACE INTO identity_map
     SELECT s.platform, s.user_key, m.employee_id, $1 FROM stage_identities s
     JOIN identity_map m ON m.platform = '*' AND m.user_key = s.email`,
    [origin],
  );
  await conn.run(
    `INSERT INTO import_unmatched SELECT s.platform, s.user_key, 1, $1 FROM stage_identities s
     WHERE NOT EXISTS (SELECT 1 FROM identity_map m WHERE m.platform IN (s.platform, '*') AND m.user_key = s.user_key)`,
    [file],
  );
  await conn.run('DROP TABLE stage_identities');
  return Number(written.getRows()[0]?.[0] ?? 0);
}

/** Appends a slice of a threaded export's messages to stage_messages (made at the file's first). */
async function stageMessages(
  conn: DuckDBConnection,
  rows: NonNullable<ParsedRows['messages']>,
  first: boolean,
): Promise<void> {
  if (first)
    await conn.run(`CREATE OR REPLACE TEMP TABLE stage_messages (platform VARCHAR, id VARCHAR,
      replied_to VARCHAR, thread_id VARCHAR, group_name VARCHAR, sender VARCHAR, created_ts TIMESTAMPTZ,
      question BOOLEAN, line INTEGER)`);
  await appendRows(
    conn,
    'stage_messages',
    lazyMap(rows, (r) => [
      r.platform,
      r.id,
      r.replied_to,
      r.thread_id,
      r.group_name,
      r.sender,
      timestamptz(r.created_ts),
      r.question,
      r.line,
    ]),
  );
}

/** Refuses a derived table's repeated key as checkUnique does: the first repeat, in file order. */
async function checkUniqueSql(conn: DuckDBConnection, file: string, table: Table, derived: string) {
  const key = KEYS[table].join(', ');
  const repeat = (
    await conn.runAndReadAll(
      `SELECT line, first FROM (SELECT line, first_value(line) OVER w AS first, row_number() OVER w AS n
       FROM ${derived} WINDOW w AS (PARTITION BY ${key} ORDER BY line)) WHERE n = 2 ORDER BY line LIMIT 1`,
    )
  ).getRows()[0];
  if (repeat)
    throw new ImportError(
      file,
      Number(repeat[0]),
      null,
      `repeats the ${table} row of line ${Number(repeat[1])} (same ${KEYS[table].join(', ')})`,
    );
}

/**
 * Threads and reply interactions of a file's staged messages, into stage_threads and
 * stage_interactions (made by `stage`). A reply goes to the author of the message it answers (the
 * last one with that id), never to oneself; a thread's first reply is the earliest message in it by
 * someone other than its author. Returns the rows per table.
 */
async function deriveFromMessages(
  conn: DuckDBConnection,
  file: string,
  importId: number,
): Promise<Record<'interactions' | 'threads', number>> {
  await conn.run(`CREATE OR REPLACE TEMP TABLE derived_interactions AS
    WITH parent AS (SELECT id, sender FROM stage_messages
      QUALIFY row_number() OVER (PARTITION BY id ORDER BY line DESC) = 1)
    SELECT m.platform, m.created_ts AS event_ts, m.sender AS from_user, p.sender AS to_user,
      'reply' AS interaction_type, m.thread_id, m.line
    FROM stage_messages m JOIN parent p ON p.id = m.replied_to WHERE p.sender <> m.sender`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE derived_threads AS
    WITH starts AS (SELECT * FROM stage_messages WHERE id = thread_id),
    replies AS (SELECT s.line AS start_line, m.created_ts, m.sender,
        row_number() OVER (PARTITION BY s.line ORDER BY m.created_ts, m.line) AS n
      FROM starts s JOIN stage_messages m ON m.thread_id = s.thread_id AND m.id <> s.id AND m.sender <> s.sender)
    SELECT s.platform, s.thread_id, s.group_name, s.sender AS author_user, s.created_ts,
      s.question AS is_question, r.created_ts AS first_reply_ts, r.sender AS first_reply_user, s.line
    FROM starts s LEFT JOIN replies r ON r.start_line = s.line AND r.n = 1`);
  try {
    // In the order checkUnique takes the tables, so the same file fails on the same line.
    await checkUniqueSql(conn, file, 'interactions', 'derived_interactions');
    await checkUniqueSql(conn, file, 'threads', 'derived_threads');
    const written = async (sql: string) =>
      Number((await conn.runAndReadAll(sql, [importId])).getRows()[0]?.[0]);
    return {
      interactions:
        await written(`INSERT INTO stage_interactions SELECT platform, event_ts, from_user, to_user,
        interaction_type, NULL, NULL, thread_id, $1 FROM derived_interactions`),
      threads:
        await written(`INSERT INTO stage_threads SELECT platform, thread_id, group_name, author_user, NULL,
        created_ts, is_question, first_reply_ts, first_reply_user, NULL, $1 FROM derived_threads`),
    };
  } finally {
    // Temp tables hold their rows until dropped, and an import refused here has nothing to keep.
    await conn.run('DROP TABLE IF EXISTS derived_interactions');
    await conn.run('DROP TABLE IF EXISTS derived_threads');
    await conn.run('DROP TABLE IF EXISTS stage_messages');
  }
}

type LinedRows = (Record<string, unknown> & { line: number })[];

/** Appends rows of `table` to its staging table (created by `stage`), converted as they go. */
async function appendStaged(
  conn: DuckDBConnection,
  table: Table,
  rows: LinedRows,
  importId: number,
): Promise<number> {
  const columns = COLUMNS[table];
  return appendRows(
    conn,
    `stage_${table}`,
    lazyMap(rows, (r) => [...columns.map((c) => cell(r[c])), BigInt(importId)]),
  );
}

/** Matches a file's staged rows to employees, notes the unmatched keys, and replaces them into `table`. */
async function mergeStaged(conn: DuckDBConnection, table: Table, file: string): Promise<void> {
  const staged = `stage_${table}`;
  await resolve(conn, staged, table);
  for (const [user, employee] of IDENTITIES[table] ?? []) {
    await conn.run(
      `INSERT INTO import_unmatched SELECT platform, ${user}, count(*), $1
       FROM ${staged} WHERE ${employee} IS NULL AND ${user} IS NOT NULL GROUP BY ALL`,
      [file],
    );
  }
  await conn.run(`INSERT OR REPLACE INTO ${table} SELECT * FROM ${staged}`);
  await conn.run(`DROP TABLE ${staged}`);
}

/**
 * An import parsed and checked, nothing written yet: what `writeImport` puts in a transaction. A
 * file with `rows: null` is read a slice at a time while it is written (`sliceRows`), by `mapper`.
 */
export interface ParsedImport {
  files: (Planned & { rows: ParsedRows | null; set: Planned[] | null; mapper?: SliceMapper })[];
  now: Date;
  sliceRows?: number;
}

/** Records per slice when `earshot import` streams a file: bounded memory, whatever the file's size. */
export const SLICE_ROWS = 10_000;

/**
 * Reads and checks every file of one import, touching no database: a bad line anywhere is an
 * ImportError here, before any transaction starts. With `sliceRows`, files of formats read in
 * slices (Importer.slices) are only planned here: writeImport reads them in slices inside its
 * transaction, where a bad line rolls everything back instead.
 */
export async function parseImport(args: {
  kind: string;
  files: readonly ImportFile[];
  now: Date;
  sliceRows?: number;
}): Promise<ParsedImport> {
  if (args.files.length === 0) throw new UserError('no files to import');
  const planned = await plan(args.kind, args.files);
  const context = { now: args.now };
  const parsed: ParsedImport['files'] = [];
  for (const p of planned) {
    if (p.importer.parseSet) {
      // The set is parsed once, at its first file; its other files take their share from there.
      if (parsed.some((q) => q.importer === p.importer)) continue;
      const set = planned.filter((q) => q.importer === p.importer);
      const files = [];
      for (const q of set) files.push(await wholeFile(q.file));
      const rows = p.importer.parseSet(files, context);
      set.forEach((q, i) => {
        parsed.push({ ...q, rows: rows[i] ?? {}, set });
      });
    } else if (args.sliceRows !== undefined && p.importer.slices) {
      // Its header is checked now (missing columns, a renamed Slack file), before any transaction.
      const mapper = await p.importer.slices(p.file, context);
      mapper(new CsvTable(p.file.name, (await sniffHeader(p.file)) ?? []));
      parsed.push({ ...p, rows: null, set: null, mapper });
    } else {
      parsed.push({ ...p, rows: await p.importer.parse(p.file, context), set: null });
    }
  }
  for (const p of parsed) {
    for (const t of TABLES) {
      const list = p.rows?.[t];
      if (list)
        checkUnique(p.file.name, t, list as unknown as (Record<string, unknown> & { line: number })[]);
    }
  }
  return {
    files: parsed,
    now: args.now,
    ...(args.sliceRows === undefined ? {} : { sliceRows: args.sliceRows }),
  };
}

/** A file's rows: as parsed, or a slice at a time for a streamed file (checked across slices). */
async function* piecesOf(p: ParsedImport['files'][number], sliceRows: number): AsyncGenerator<ParsedRows> {
  if (p.rows) {
    yield p.rows;
    return;
  }
  const { mapper } = p;
  if (!mapper) throw new Error(`${p.importer.kind} cannot be read in slices`);
  const seen = new Map<Table, Map<string, number>>(TABLES.map((t) => [t, new Map()]));
  for await (const table of readSlices(p.file, sliceRows)) {
    const rows = mapper(table);
    for (const t of TABLES) {
      const list = rows[t] as unknown as LinedRows | undefined;
      if (list) checkUnique(p.file.name, t, list, seen.get(t));
    }
    yield rows;
  }
}

/**
 * Imports files in ONE transaction: every file's rows or none. A file whose bytes were imported
 * before is skipped; rows whose key is already stored are replaced (a later export overlapping an
 * earlier one); platform keys no employee matches are recorded in unmatched_identities.
 */
export async function importFiles(
  store: Store,
  args: { kind: string; files: readonly ImportFile[]; now: Date; sliceRows?: number },
): Promise<ImportOutcome> {
  const parsed = await parseImport({ ...args, sliceRows: args.sliceRows ?? SLICE_ROWS });
  return store.write((conn) => writeImport(conn, parsed));
}

/**
 * Writes a parsed import inside the caller's transaction (an import of its own, or a collector's
 * batch together with its bookmark), so the caller decides what commits with it.
 */
export async function writeImport(conn: DuckDBConnection, imp: ParsedImport): Promise<ImportOutcome> {
  const parsed = imp.files;
  const today = new DuckDBDateValue(Math.floor(imp.now.getTime() / 86_400_000));
  const files: FileOutcome[] = [];
  const seenHashes = new Set<string>();
  let identified = false;
  await conn.run(
    'CREATE OR REPLACE TEMP TABLE import_unmatched (platform VARCHAR, user_key VARCHAR, rows BIGINT, file VARCHAR)',
  );
  const knownId = async (hash: string): Promise<number | undefined> => {
    const r = await conn.runAndReadAll('SELECT id FROM imports WHERE content_hash = $1', [hash]);
    const id = r.getRows()[0]?.[0];
    return id === undefined ? undefined : Number(id);
  };
  for (const p of parsed) {
    const previous = await knownId(p.hash);
    let setIsNew = false;
    // A file of a set seen before is rewritten when the set has a new file: its rows (Chatter
    // threads) depend on the others (the comments that answer them). Keys make that a replace.
    if (p.set && previous !== undefined)
      for (const q of p.set) if ((await knownId(q.hash)) === undefined) setIsNew = true;
    if ((previous !== undefined && !setIsNew) || seenHashes.has(p.hash)) {
      files.push({ file: p.file.name, kind: p.importer.kind, rows: {}, duplicate: true });
      continue;
    }
    seenHashes.add(p.hash);
    const idReader =
      previous === undefined ? await conn.runAndReadAll("SELECT nextval('imports_id')") : undefined;
    const importId = previous ?? Number(idReader?.getRows()[0]?.[0]);
    const counts: Record<string, number> = {};
    const add = (table: string, n: number) => {
      counts[table] = (counts[table] ?? 0) + n;
    };
    const staged = new Set<Table>();
    let directory: DirectorySeen | undefined;
    let messages = false;
    for await (const rows of piecesOf(p, imp.sliceRows ?? SLICE_ROWS)) {
      if (rows.employees) {
        directory = await stageEmployees(conn, rows.employees, p.file.name, today, directory);
        add('employees', rows.employees.length);
      }
      if (rows.messages) {
        await stageMessages(conn, rows.messages, !messages);
        messages = true;
      }
      if (rows.identities) {
        identified = true;
        add('identity_map', await writeIdentities(conn, rows.identities, p.importer.kind, p.file.name));
      }
      for (const t of TABLES) {
        const list = rows[t] as unknown as LinedRows | undefined;
        if (!list) continue;
        if (!staged.has(t)) await stage(conn, t);
        staged.add(t);
        add(t, await appendStaged(conn, t, list, importId));
      }
    }
    if (directory) {
      identified = true;
      await mergeEmployees(conn);
    }
    if (messages) {
      for (const t of ['interactions', 'threads'] as const) if (!staged.has(t)) await stage(conn, t);
      for (const [t, n] of Object.entries(await deriveFromMessages(conn, p.file.name, importId))) {
        staged.add(t as Table);
        add(t, n);
      }
    }
    for (const t of TABLES) if (staged.has(t)) await mergeStaged(conn, t, p.file.name);
    if (previous !== undefined)
      await conn.run('UPDATE imports SET rows = $1::JSON, imported_at = $2 WHERE id = $3', [
        JSON.stringify(counts),
        timestamptz(imp.now),
        importId,
      ]);
    else
      await conn.run('INSERT INTO imports VALUES ($1, $2, $3, $4, $5::JSON, $6)', [
        importId,
        p.file.name,
        p.importer.kind,
        p.hash,
        JSON.stringify(counts),
        timestamptz(imp.now),
      ]);
    files.push({ file: p.file.name, kind: p.importer.kind, rows: counts, duplicate: false });
  }
  // A directory (or platform identity) import may match keys that earlier imports could not.
  if (identified) {
    for (const t of TABLES) if (IDENTITIES[t]) await resolve(conn, t, t);
  }
  const unmatched = (
    await conn.runAndReadAll(
      `SELECT platform, user_key, sum(rows)::BIGINT AS rows FROM import_unmatched
       GROUP BY ALL ORDER BY platform, user_key`,
    )
  ).getRowObjectsJS();
  // One statement for every key: one per key took seconds per thousand keys (a first import of
  // activity, before the directory, has every key unmatched).
  await conn.run(
    `INSERT INTO unmatched_identities
     SELECT platform, user_key, sum(rows)::BIGINT, $1, $1, last(file) FROM import_unmatched GROUP BY platform, user_key
     ON CONFLICT (platform, user_key) DO UPDATE SET rows = EXCLUDED.rows,
       last_seen_at = EXCLUDED.last_seen_at, last_file = EXCLUDED.last_file`,
    [timestamptz(imp.now)],
  );
  await conn.run('DROP TABLE import_unmatched');
  await conn.run(`DELETE FROM unmatched_identities u WHERE EXISTS (SELECT 1 FROM identity_map m
    WHERE m.user_key = lower(u.user_key) AND m.platform IN (u.platform, '*'))`);
  // The report's kept weeks were computed from the data before: in this transaction, never stale.
  if (files.some((f) => !f.duplicate)) await bumpAdoptionData(conn);
  return {
    files,
    unmatched: unmatched.map((u) => ({
      platform: String(u.platform),
      userKey: String(u.user_key),
      rows: Number(u.rows),
    })),
  };
}
