import type { z } from 'zod';
import type { Batch, MentionRecord, QuarantineItem } from './contract.js';
import { type HttpResponse, parseJson, parseJsonText } from './http.js';

/** How a validation failure reads after "unexpected page shape: " or "bad <thing>: " in a quarantine row. */
export type IssueText = (error: z.ZodError) => string;

/** The first issue's message alone. */
export const issueMessage: IssueText = (error) => `${error.issues[0]?.message}`;

/** The first issue's path (dotted) and message, joined by `separator`. */
export const issuePathAndMessage =
  (separator = ' '): IssueText =>
  (error) => {
    const issue = error.issues[0];
    return `${issue?.path.join('.')}${separator}${issue?.message}`;
  };

/** A page body that did not come as an HttpResponse (X: through twitter-api-v2), and who sent it. */
export interface PageText {
  text: string;
  /** Named in the message when the text is not JSON. */
  from: string;
}

export interface PageOptions {
  /** What the page is called in the message ("unexpected <what> shape: ..."); default "page". */
  what?: string;
  /** How the schema's failure is put; default: the first issue's message. */
  issue?: IssueText;
}

/**
 * Parses a JSON page and validates it with `schema`: the value, or the whole body as a quarantine row
 * whose error says why (the JSON error, or "unexpected page shape: <issue>").
 */
export function parsePage<T>(
  body: HttpResponse | PageText,
  schema: z.ZodType<T>,
  url: string,
  options: PageOptions = {},
): { ok: true; value: T } | { ok: false; quarantine: QuarantineItem } {
  const text = 'text' in body;
  const json = text ? parseJsonText(body.text, body.from) : parseJson(body);
  if (!json.ok) return { ok: false, quarantine: { raw: json.raw, error: json.error, url } };
  const parsed = schema.safeParse(json.value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const error = `unexpected ${options.what ?? 'page'} shape: ${(options.issue ?? issueMessage)(parsed.error)}`;
  return { ok: false, quarantine: { raw: text ? body.text : body.body.toString('utf8'), error, url } };
}

/** The last batch of a partition that stopped at an unparseable page: no records, the page quarantined, `bookmark` kept. */
export function failedBatch<B>(quarantine: QuarantineItem, bookmark: B): Batch<B> {
  return { records: [], quarantine: [quarantine], bookmark, failed: quarantine.error };
}

/** Anything that validates an item the way a zod schema does (a schema, or an adapter around one). */
export interface ItemSchema<T> {
  safeParse(raw: unknown): { success: true; data: T } | { success: false; error: z.ZodError };
}

/**
 * Validates every item with `schema`, in order: valid ones become records through `toRecord` (which
 * may return null to skip one), invalid ones quarantine rows "bad <what>: <issue>" holding the item's JSON.
 */
export function mapItems<T>(
  items: readonly unknown[],
  schema: ItemSchema<T>,
  toRecord: (item: T, raw: unknown) => MentionRecord | null,
  url: string,
  what: string,
  issue: IssueText = issueMessage,
): { records: MentionRecord[]; quarantine: QuarantineItem[] } {
  const records: MentionRecord[] = [];
  const quarantine: QuarantineItem[] = [];
  for (const raw of items) {
    const item = schema.safeParse(raw);
    if (!item.success) {
      quarantine.push({ raw: JSON.stringify(raw), error: `bad ${what}: ${issue(item.error)}`, url });
      continue;
    }
    let record: MentionRecord | null;
    try {
      record = toRecord(item.data, raw);
    } catch (err) {
      // A value the schema let through that the conversion cannot take (a lone surrogate in an id
      // makes encodeURIComponent throw) fails this item, not the whole page on every run
      // (found by tests/fuzz/collectors.test.ts).
      quarantine.push({ raw: JSON.stringify(raw), error: `bad ${what}: ${(err as Error).message}`, url });
      continue;
    }
    if (record) records.push(record);
  }
  return { records, quarantine };
}
