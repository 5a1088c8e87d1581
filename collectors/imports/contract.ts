import { DuckDBDateValue } from '@duckdb/node-api';
import {
  type BufferFile,
  type CsvRecord,
  type CsvTable,
  ImportError,
  type ImportFile,
  parseDay,
} from './csv.js';
import { readWhole } from './formats.js';

export type Day = DuckDBDateValue;

/** A row of the org directory; `asOf` is the day the directory describes (history is cut there). */
export interface EmployeeRow {
  employee_id: string;
  email: string | null;
  display_name: string | null;
  department: string | null;
  location: string | null;
  level: string | null;
  /** NULL: a manager when another row of the same file names them as manager (Workplace). */
  is_manager: boolean | null;
  is_executive: boolean;
  manager_id: string | null;
  hire_date: Day | null;
  term_date: Day | null;
  as_of: Day | null;
}

export interface ActivityDailyRow {
  platform: string;
  activity_date: Day;
  user_key: string;
  posts: number | null;
  replies: number | null;
  reactions: number | null;
  reads: number | null;
  chat_messages: number | null;
  channel_messages: number | null;
  meetings_attended: number | null;
}

export interface ActivityPeriodRow {
  platform: string;
  period_days: number;
  period_end: Day;
  user_key: string;
  last_activity_date: Day | null;
  active_days: number | null;
  posts: number | null;
  replies: number | null;
  reactions: number | null;
  reads: number | null;
  chat_messages: number | null;
  channel_messages: number | null;
  calls: number | null;
  meetings: number | null;
  meetings_attended: number | null;
  is_licensed: boolean | null;
  assigned_products: string | null;
  user_state: string | null;
}

export interface InteractionRow {
  platform: string;
  event_ts: Date;
  from_user: string;
  to_user: string;
  interaction_type: string;
  thread_id: string | null;
}

export interface ThreadRow {
  platform: string;
  thread_id: string;
  group_name: string | null;
  author_user: string;
  created_ts: Date;
  is_question: boolean;
  first_reply_ts: Date | null;
  first_reply_user: string | null;
}

/**
 * Totals of one group or channel over a period (Graph Viva Engage groups, Slack channels). Kept apart
 * from activity_period: a group is not a person, and summing it with people would double count.
 */
export interface GroupPeriodRow {
  platform: string;
  period_days: number;
  period_end: Day;
  group_name: string;
  group_type: string | null;
  is_deleted: boolean | null;
  owner_user: string | null;
  created_date: Day | null;
  last_activity_date: Day | null;
  member_count: number | null;
  guest_count: number | null;
  posts: number | null;
  reads: number | null;
  reactions: number | null;
  members_who_posted: number | null;
  members_who_read: number | null;
  members_who_reacted: number | null;
}

/** A platform's own user id and the email it gives for it, matched to the directory on import. */
export interface IdentityRow {
  platform: string;
  user_key: string;
  email: string | null;
}

export interface CommVolumeRow {
  week_start: Day;
  employee_id: string;
  emails_sent: number | null;
  emails_received: number | null;
  meetings_attended: number | null;
  meeting_hours: number | null;
}

/**
 * One message of a threaded export (Viva Engage), staged in DuckDB while the file is read: replies
 * point at messages anywhere in the file, and a thread's first reply needs all of them, so threads
 * and reply interactions are derived in SQL once the whole file is staged (not in JS arrays).
 */
export interface MessageRow {
  platform: string;
  id: string;
  replied_to: string | null;
  thread_id: string;
  group_name: string | null;
  sender: string;
  created_ts: Date;
  /** Whether the message reads as a question, which matters for the message that starts a thread. */
  question: boolean;
}

/** What one file yields, per table; every row also carries the line it came from, for messages. */
export interface ParsedRows {
  messages?: Lined<MessageRow>[];
  employees?: Lined<EmployeeRow>[];
  activity_daily?: Lined<ActivityDailyRow>[];
  activity_period?: Lined<ActivityPeriodRow>[];
  interactions?: Lined<InteractionRow>[];
  threads?: Lined<ThreadRow>[];
  comm_volume_weekly?: Lined<CommVolumeRow>[];
  group_activity_period?: Lined<GroupPeriodRow>[];
  identities?: Lined<IdentityRow>[];
}

/** What an import knows beyond the bytes: the day it runs, for exports that carry no date. */
export interface ParseContext {
  now: Date;
}

export type Lined<T> = T & { line: number };

/** One export format. Every importer has this shape and lives in its own file. */
export interface Importer {
  kind: string;
  /** One line for `earshot import --help`. */
  description: string;
  /** True when a header (as written, any order, BOM removed) is this format's. */
  detect(header: readonly string[]): boolean;
  /** Rows per table, or an ImportError naming the file, line and column: the whole file at once. */
  parse(file: ImportFile, context: ParseContext): ParsedRows | Promise<ParsedRows>;
  /**
   * For formats that come as a set (Chatter's FeedItem + FeedComment): every file of the import that
   * this kind took, parsed together, one ParsedRows per file in the same order. When present, the
   * import uses it instead of `parse`, and a set with any new file rewrites all its files' rows.
   * Such a set is read whole (files in memory): see Importer.slices for the others.
   */
  parseSet?(files: readonly BufferFile[], context: ParseContext): ParsedRows[];
  /**
   * For formats whose rows each come from one record (with at most a little state across records,
   * kept by the mapper): a mapper made once per file, then given every slice of its records in turn
   * (CSV, NDJSON or XLSX, see readSlices). `earshot import` then reads a large file a slice at a time
   * in bounded memory. Making the mapper may read the file once first (a value the whole file
   * decides, like Chatter's snapshot day).
   */
  slices?(file: ImportFile, context: ParseContext): SliceMapper | Promise<SliceMapper>;
}

/** The rows of one slice of a file's records (a CsvTable of some records under the file's header). */
export type SliceMapper = (table: CsvTable) => ParsedRows;

/** An importer read a slice at a time: `parse` is one slice holding the whole file. */
export function bySlices(
  importer: Omit<Importer, 'parse' | 'slices'> & Required<Pick<Importer, 'slices'>>,
): Importer {
  return {
    ...importer,
    parse: async (file, context) => (await importer.slices(file, context))(await readWhole(file)),
  };
}

/** A CSV importer that maps record by record, with no state across records. */
export function byRecord(
  importer: Omit<Importer, 'parse' | 'slices'> & {
    parseTable(table: CsvTable, file: ImportFile): ParsedRows;
  },
): Importer {
  const { parseTable, ...rest } = importer;
  return bySlices({ ...rest, slices: (file) => (table) => parseTable(table, file) });
}

/** True when every named column is in the header, whatever the case, order or extra columns. */
export function hasColumns(header: readonly string[], columns: readonly string[]): boolean {
  const names = new Set(header.map((h) => h.trim().toLowerCase()));
  return columns.every((c) => names.has(c.toLowerCase()));
}

// Microsoft conceals names in usage reports by default since 2021-09-01: UPNs and display names become
// 32 hex characters (an MD5-like hash) or `<PII:...>` placeholders. They cannot be joined to the
// directory, so importing them would only produce unmatched users.
const CONCEALED = /^(?:[0-9a-f]{32}|<PII:.*>)$/i;

export const CONCEALED_HELP =
  'the user names in this report are concealed (32 hexadecimal characters or <PII:...> instead of ' +
  'the user principal name; Microsoft 365 conceals them by default since 2021), so its rows cannot ' +
  'be matched to employees. To export real names, a global administrator turns concealment off in ' +
  'the Microsoft 365 admin center > Settings > Org settings > Reports: uncheck "Display concealed ' +
  'user, group, and site names in all reports", save, then download the report again (it can take ' +
  'a few minutes to apply).';

/** Refuses a report whose user column holds concealed names (see CONCEALED_HELP). */
export function refuseConcealed(table: CsvTable, column: string): void {
  const hit = table.records.find((r) => CONCEALED.test(r.raw(column)));
  if (hit) throw new ImportError(table.file, hit.line, column, CONCEALED_HELP);
}

/**
 * The period of a Microsoft Graph usage report row: D7/D30/D90/D180 ending on the refresh date, or
 * the one day asked for when the file is a one-day API report (`date=`, see ImportFile.reportDay).
 */
export function graphPeriod(
  file: ImportFile,
  r: CsvRecord,
): { period_days: number; period_end: DuckDBDateValue } {
  if (file.reportDay !== undefined) {
    const day = parseDay(file.reportDay);
    if (day === null)
      throw new ImportError(file.name, 1, null, `report day "${file.reportDay}" is not a date`);
    return { period_days: 1, period_end: new DuckDBDateValue(day) };
  }
  return {
    period_days: r.int('Report Period') ?? r.fail('Report Period', 'is empty; the period length is required'),
    period_end:
      r.date('Report Refresh Date') ?? r.fail('Report Refresh Date', 'is empty; the report day is required'),
  };
}

/**
 * Per-user Graph rows as the grain the file has: period totals, or, for a one-day API report, daily
 * activity on that day (grains are never mixed: a one-day report is not a period of one day).
 */
export function graphUserRows(file: ImportFile, rows: Lined<ActivityPeriodRow>[]): ParsedRows {
  if (file.reportDay === undefined) return { activity_period: rows };
  return {
    activity_daily: rows.map((r) => ({
      line: r.line,
      platform: r.platform,
      activity_date: r.period_end,
      user_key: r.user_key,
      posts: r.posts,
      replies: r.replies,
      reactions: r.reactions,
      reads: r.reads,
      chat_messages: r.chat_messages,
      channel_messages: r.channel_messages,
      meetings_attended: r.meetings_attended,
    })),
  };
}
