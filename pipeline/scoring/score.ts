/**
 * The scoring stage (DESIGN.md section 5), run after every collection and by `earshot score`:
 *   1. scores: language, sentiment, copy detection, the term index and the topic tags of mentions
 *      not scored yet, in batches, each batch with its dirty rollup hours in ONE transaction;
 *   2. tags: topics matched on newly collected mentions the batches did not tag (pipeline/topics/
 *      tag.ts, own watermark): those collected meanwhile, or all of a batch when a topic changed;
 *   3. rollups: the buckets those changes touched, recomputed in one transaction.
 * A batch's scores, terms and dirty hours are derived from one read of the text and written
 * together, so they never disagree; unscored mentions are found by their missing score row, so a
 * SIGKILL at any moment leaves whole batches and a re-run picks up exactly what is missing.
 * Worker threads compute one batch while the main thread writes the one before.
 */
import { availableParallelism } from 'node:os';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { appendRows, isDuplicateKey } from '../ingest.js';
import { LANGS } from '../language/detect.js';
import type { Logger } from '../logger.js';
import type { SentimentModels } from '../sentiment/index.js';
import { installedModels } from '../sentiment/layers.js';
import { plainRows, type Store, timestamptz } from '../store.js';
import { tagNewMentions, topicQueries } from '../topics/tag.js';
import type { ScoreInput, ScoreOutput } from './compute.js';
import { ScoringPool } from './pool.js';
import { localHour, type RollupResult, refreshRollups } from './rollups.js';

export interface ScoringDeps {
  store: Store;
  /** Reporting time zone (config.timezone): rollup hours and days are local to it. */
  timezone: string;
  logger: Logger;
  now: () => Date;
  /** The sentiment models; when omitted, the shipped ones with this installation's newest local layers. */
  models?: SentimentModels;
  /** Worker threads computing large batches while the main thread reads and writes; default: one per extra core. */
  threads?: number;
  /** Mentions per transaction. */
  batchSize?: number;
}

export interface ScoreResult {
  /** Mentions scored for the first time. */
  scored: number;
  /** Of those, copies of a mention stored earlier (same canonical URL or same text elsewhere). */
  copies: number;
  /** Mentions re-scored by a new sentiment model version (--rescore). */
  rescored: number;
  /** Mentions still scored by another model version than the current one, after this run. */
  outdated: number;
  tagged: number;
  rollups: RollupResult;
}

const DEFAULT_BATCH = 20_000;
// See REREAD_SLACK in pipeline/topics/tag.ts: batches can commit with a collected_at just below
// a watermark; the anti-join on mention_scores makes re-reading them harmless.
const SLACK = "INTERVAL '10 minutes'";

const running = new WeakMap<Store, Promise<unknown>>();

/** One scoring run per store at a time (scheduler, CLI and API may all ask for one). */
function exclusive<T>(store: Store, fn: () => Promise<T>): Promise<T> {
  const next = (running.get(store) ?? Promise.resolve()).then(fn);
  running.set(
    store,
    next.catch(() => undefined),
  );
  return next;
}

interface Batch {
  input: ScoreInput;
  source: string[];
  nativeId: string[];
  /** created_at in epoch milliseconds. */
  createdMs: number[];
  isRepost: boolean[];
}

const emptyBatch = (): Batch => {
  const source: string[] = [];
  return {
    input: { title: [], text: [], lang: [], url: [], source, author: [] },
    source,
    nativeId: [],
    createdMs: [],
    isRepost: [],
  };
};

/**
 * Streams `sql` (source, native_id, title, text, lang, url, created_at in epoch ms, is_repost,
 * author_handle) on a connection
 * of its own, handing over batches of `size`. The writer connection stays free for the batches'
 * transactions while the stream reads one consistent snapshot.
 */
async function* batches(
  store: Store,
  sql: string,
  params: DuckDBValue[],
  size: number,
): AsyncGenerator<Batch> {
  const conn = await store.connect();
  try {
    const result = await conn.stream(sql, params);
    let batch = emptyBatch();
    for (
      let chunk = await result.fetchChunk();
      chunk && chunk.rowCount > 0;
      chunk = await result.fetchChunk()
    ) {
      const [source, id, title, text, lang, url, created, repost, author] =
        chunk.getColumns() as DuckDBValue[][];
      for (let i = 0; i < chunk.rowCount; i++) {
        batch.source.push(String(source?.[i]));
        batch.nativeId.push(String(id?.[i]));
        batch.input.title.push((title?.[i] as string | null) ?? null);
        batch.input.text.push((text?.[i] as string | null) ?? '');
        batch.input.lang.push((lang?.[i] as string | null) ?? null);
        batch.input.url.push((url?.[i] as string | null) ?? null);
        batch.createdMs.push(Number(created?.[i]));
        batch.isRepost.push(repost?.[i] === true);
        batch.input.author?.push((author?.[i] as string | null) ?? null);
      }
      if (batch.source.length >= size) {
        yield batch;
        batch = emptyBatch();
      }
    }
    if (batch.source.length > 0) yield batch;
  } finally {
    store.release(conn);
  }
}

const QUARTER_MS = 15 * 60_000;

/** A SQL list literal of strings. */
const sqlList = (values: readonly string[]) =>
  `([${values.map((v) => `'${v.replaceAll("'", "''")}'`).join(', ')}]::VARCHAR[])`;

/**
 * Queues the local hours of the batch's mentions for the rollup step, in the caller's transaction.
 * Every zone offset is a multiple of 15 minutes, so only the batch's distinct UTC quarter hours
 * are converted.
 */
async function markDirty(conn: DuckDBConnection, tz: string, b: Batch): Promise<void> {
  const quarters = new Set<number>();
  for (const ms of b.createdMs)
    if (Number.isFinite(ms)) quarters.add(Math.floor(ms / QUARTER_MS) * QUARTER_MS);
  await conn.run(
    `INSERT OR IGNORE INTO rollup_dirty
     SELECT DISTINCT ${localHour('quarter')} FROM (SELECT to_timestamp(unnest($quarters::DOUBLE[]) / 1000) AS quarter)`,
    { tz, quarters: JSON.stringify([...quarters]) },
  );
}

/** The topics a scoring run tags with, and the table of mentions its batches tagged. */
interface RunTopics {
  key: string;
  ids: string[];
  queries: string[];
}
const TAGGED = 'scored_run';

/**
 * Writes the batch's topic tags when the topics are still those it was matched with (checked in
 * the transaction: an edit meanwhile re-tags on its own, and the tag stage then takes the batch),
 * and records its mentions as tagged. A plain INSERT unless `keepStored`: a tag already stored (a
 * collect tags what it stored before scoring it; a re-tag may run before scoring too) then fails
 * the batch on the primary key, and the caller writes it again keeping stored tags, which costs a
 * lookup per tag. Returns how many tags were added.
 */
async function writeTags(
  conn: DuckDBConnection,
  out: ScoreOutput,
  topics: RunTopics,
  keepStored: boolean,
): Promise<number> {
  if ((await topicQueries(conn)).key !== topics.key) return 0;
  let added = 0;
  if (out.tags.length > 0) {
    // Numbers only cross into DuckDB (a batch index, a topic index): the strings are joined there.
    const hits: number[][] = [];
    for (let k = 0; k < out.tags.length; k += 2) {
      hits.push([out.tags[k] as number, (out.tags[k + 1] as number) + 1]);
    }
    await conn.run('CREATE OR REPLACE TEMP TABLE score_tags (i INTEGER, t INTEGER)');
    await appendRows(conn, 'score_tags', hits);
    const inserted = await conn.run(
      `INSERT ${keepStored ? 'OR IGNORE ' : ''}INTO mention_topics
       SELECT b.source, b.native_id, ${sqlList(topics.ids)}[h.t] FROM score_tags h JOIN score_batch b USING (i)`,
    );
    added = inserted.rowsChanged;
    await conn.run('DROP TABLE score_tags');
  }
  await conn.run(`INSERT INTO ${TAGGED} SELECT source, native_id FROM score_batch`);
  return added;
}

type Ref = readonly [source: string, nativeId: string];

/**
 * Which mention each new one is a copy of: the first stored with the same canonical URL, or with
 * the same text signature from another source (one source repeating a text is not syndication:
 * two people may post the same words). Reposts are counted apart and never called copies. Looks
 * at originals stored earlier, then at the batch in order. The batch's keys are read from the temp
 * table score_batch.
 */
async function findCopies(conn: DuckDBConnection, b: Batch, out: ScoreOutput): Promise<Array<Ref | null>> {
  const byUrl = new Map<string, Ref>();
  const bySig = new Map<string, Map<string, Ref>>();
  const addSig = (sig: string, ref: Ref) => {
    const sources = bySig.get(sig) ?? new Map<string, Ref>();
    if (!sources.has(ref[0])) sources.set(ref[0], ref);
    bySig.set(sig, sources);
  };
  // The earliest original per key and source; copies are never looked up, so chains cannot form.
  // Two look-ups, one per key: each one scan of the stored scores (a single scan with both keys,
  // as an OR of the two or with grouping sets, cost 1.5-2x the CPU of both on a 200,000-row table).
  const lookup = async (column: 'canonical_url' | 'text_sig') =>
    plainRows(
      await conn.runAndReadAll(
        `SELECT s.${column} AS k, s.source, arg_min(s.native_id, (s.scored_at, s.native_id)) AS native_id
         FROM mention_scores s SEMI JOIN score_batch k ON s.${column} = k.${column}
         WHERE s.copy_of_id IS NULL
         GROUP BY ALL ORDER BY min(s.scored_at), s.source`,
      ),
    );
  for (const r of await lookup('canonical_url')) {
    if (!byUrl.has(String(r.k))) byUrl.set(String(r.k), [String(r.source), String(r.native_id)]);
  }
  for (const r of await lookup('text_sig')) addSig(String(r.k), [String(r.source), String(r.native_id)]);

  const copyOf: Array<Ref | null> = [];
  for (let i = 0; i < b.source.length; i++) {
    const source = b.source[i] ?? '';
    const me: Ref = [source, b.nativeId[i] ?? ''];
    const url = out.canonicalUrl[i] ?? null;
    const sig = out.textSig[i] ?? null;
    let original: Ref | null = null;
    if (!b.isRepost[i]) {
      if (url !== null) original = byUrl.get(url) ?? null;
      if (original === null && sig !== null) {
        for (const [s, ref] of bySig.get(sig) ?? []) {
          if (s !== source) {
            original = ref;
            break;
          }
        }
      }
    }
    copyOf.push(original);
    if (original === null && !b.isRepost[i]) {
      if (url !== null && !byUrl.has(url)) byUrl.set(url, me);
      if (sig !== null) addSig(sig, me);
    }
  }
  return copyOf;
}

/** Writes one batch of first-time scores with its terms, tags and dirty hours. */
async function writeScores(
  conn: DuckDBConnection,
  tz: string,
  b: Batch,
  out: ScoreOutput,
  now: DuckDBValue,
  topics: RunTopics,
  keepStoredTags: boolean,
): Promise<{ copies: number; tagged: number; lookupMs: number }> {
  // The few distinct labels (language, origin, sentiment, model) go in as codes into one list:
  // every string appended costs a call into DuckDB, and most of a batch's strings are these.
  const codes = new Map<string, number>();
  const code = (v: string) => {
    let c = codes.get(v);
    if (c === undefined) {
      c = codes.size + 1;
      codes.set(v, c);
    }
    return c;
  };
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE score_batch (i INTEGER, source VARCHAR, native_id VARCHAR, lang INTEGER,
       lang_origin INTEGER, sentiment INTEGER, score DOUBLE, model INTEGER, canonical_url VARCHAR,
       text_sig VARCHAR, terms VARCHAR, created_at TIMESTAMPTZ)`,
  );
  await appendRows(
    conn,
    'score_batch',
    b.source.map((source, i) => [
      i,
      source,
      b.nativeId[i] ?? '',
      code(out.lang[i] ?? 'other'),
      code(out.langOrigin[i] ?? 'detected'),
      code(out.sentiment[i] ?? 'neutral'),
      out.score[i] ?? 0,
      code(out.model[i] ?? ''),
      out.canonicalUrl[i] ?? null,
      out.textSig[i] ?? null,
      out.terms[i] ?? '',
      timestamptz(new Date(b.createdMs[i] ?? 0)),
    ]),
  );
  const lookupStarted = performance.now();
  const copyOf = await findCopies(conn, b, out);
  const lookupMs = performance.now() - lookupStarted;
  await conn.run('CREATE OR REPLACE TEMP TABLE score_copies (i INTEGER, source VARCHAR, native_id VARCHAR)');
  await appendRows(
    conn,
    'score_copies',
    copyOf.flatMap((ref, i) => (ref === null ? [] : [[i, ref[0], ref[1]]])),
  );
  const labels = sqlList([...codes.keys()]);
  await conn.run(
    `INSERT INTO mention_scores (source, native_id, lang, lang_origin, sentiment, sentiment_score,
       sentiment_model, copy_of_source, copy_of_id, canonical_url, text_sig, scored_at)
     SELECT b.source, b.native_id, ${labels}[b.lang], ${labels}[b.lang_origin], ${labels}[b.sentiment],
       b.score, ${labels}[b.model], c.source, c.native_id, b.canonical_url, b.text_sig, $1
     FROM score_batch b LEFT JOIN score_copies c USING (i)`,
    [now],
  );
  await conn.run('DROP TABLE score_copies');
  await markDirty(conn, tz, b);
  await conn.run(
    `INSERT INTO mention_terms
     SELECT unnest(string_split(terms, ' ')), source, native_id, created_at FROM score_batch WHERE terms <> ''`,
  );
  const tagged = await writeTags(conn, out, topics, keepStoredTags);
  await conn.run('DROP TABLE score_batch');
  return { copies: copyOf.filter((c) => c !== null).length, tagged, lookupMs };
}

/** Writes one batch of new sentiment for mentions scored before by another model version. */
async function writeRescores(
  conn: DuckDBConnection,
  tz: string,
  b: Batch,
  out: ScoreOutput,
  now: DuckDBValue,
) {
  await conn.run(
    'CREATE OR REPLACE TEMP TABLE score_update (source VARCHAR, native_id VARCHAR, sentiment VARCHAR, score DOUBLE, model VARCHAR)',
  );
  await appendRows(
    conn,
    'score_update',
    b.source.map((s, i) => [
      s,
      b.nativeId[i] ?? '',
      out.sentiment[i] ?? 'neutral',
      out.score[i] ?? 0,
      out.model[i] ?? '',
    ]),
  );
  await conn.run(
    `UPDATE mention_scores m SET sentiment = u.sentiment, sentiment_score = u.score, sentiment_model = u.model, scored_at = $1
     FROM score_update u WHERE m.source = u.source AND m.native_id = u.native_id`,
    [now],
  );
  await conn.run('DROP TABLE score_update');
  await markDirty(conn, tz, b);
}

/**
 * Reads batches, computes each (in worker threads when the pool has them) and writes them in order,
 * the next batch computing while the one before is written.
 */
async function pipelined(
  source: AsyncIterable<Batch>,
  compute: (b: Batch) => Promise<ScoreOutput>,
  write: (b: Batch, out: ScoreOutput) => Promise<void>,
): Promise<void> {
  let prev: { b: Batch; out: Promise<ScoreOutput> } | null = null;
  for await (const b of source) {
    const out = compute(b);
    // Awaited below; until then a failure must not count as unhandled.
    out.catch(() => undefined);
    if (prev) await write(prev.b, await prev.out);
    prev = { b, out };
  }
  if (prev) await write(prev.b, await prev.out);
}

const COLUMNS =
  'm.source, m.native_id, m.title, m.text, %LANG%, m.url, epoch_ms(m.created_at)::DOUBLE, m.is_repost, m.author_handle';

/** SQL condition: the stored model differs from the one now serving the mention's language. */
function outdatedModel(models: SentimentModels): string {
  const cases = LANGS.map((l) => `WHEN '${l}' THEN '${models.forLanguage(l).id.replaceAll("'", "''")}'`);
  return `s.sentiment_model <> CASE s.lang ${cases.join(' ')} ELSE '${models.forLanguage('other').id.replaceAll("'", "''")}' END`;
}

/**
 * Scores what is new (and, with `rescore`, re-scores in bulk what an older model version scored),
 * re-tags, and refreshes the rollups. Safe to run at any time and any number of times.
 */
export function scoreNew(deps: ScoringDeps, opts: { rescore?: boolean } = {}): Promise<ScoreResult> {
  return exclusive(deps.store, async () => {
    const { store, timezone: tz } = deps;
    const injected = deps.models !== undefined;
    const installed = injected ? null : await installedModels(store);
    const models = deps.models ?? (installed?.models as SentimentModels);
    const size = deps.batchSize ?? DEFAULT_BATCH;
    const pool = new ScoringPool(
      models,
      deps.threads ?? Math.max(0, availableParallelism() - 1),
      installed?.layers ?? null,
    );
    try {
      const started = performance.now();
      let scored = 0;
      let copies = 0;
      let rescored = 0;
      let lookupMs = 0;
      const [mark] = await store.query('SELECT max(collected_at) AS through FROM mentions');
      const through = mark?.through instanceof Date ? timestamptz(mark.through) : null;
      const since = `m.collected_at >= coalesce((SELECT through FROM pipeline_state WHERE stage = 'scores' AND key = '*') - ${SLACK}, '-infinity'::TIMESTAMPTZ)`;
      // Oldest first, so the first-stored copy of an article is the one the others point at.
      const fresh = `SELECT ${COLUMNS.replace('%LANG%', 'm.lang')} FROM mentions m
        ANTI JOIN mention_scores s USING (source, native_id)
        WHERE ${since} ORDER BY m.collected_at, m.source, m.native_id`;
      const topics = await store.write(async (conn): Promise<RunTopics> => {
        await conn.run(`CREATE OR REPLACE TEMP TABLE ${TAGGED} (source VARCHAR, native_id VARCHAR)`);
        const { key, topics } = await topicQueries(conn);
        return { key, ids: topics.map((t) => t.id), queries: topics.map((t) => t.query) };
      });
      let taggedInBatches = 0;
      // Until a batch meets a tag stored before it: from then on the run keeps stored tags, so a run
      // after a collect (which tags first) writes one batch twice, not every one.
      let keepStoredTags = false;
      await pipelined(
        batches(store, fresh, [], size),
        (b) => pool.compute(b.input, topics.queries),
        async (b, out) => {
          const write = () =>
            store.write((conn) =>
              writeScores(conn, tz, b, out, timestamptz(deps.now()), topics, keepStoredTags),
            );
          let w: Awaited<ReturnType<typeof write>>;
          try {
            w = await write();
          } catch (err) {
            if (keepStoredTags || !isDuplicateKey(err)) throw err;
            keepStoredTags = true;
            w = await write();
          }
          copies += w.copies;
          taggedInBatches += w.tagged;
          scored += b.source.length;
          lookupMs += w.lookupMs;
          deps.logger.debug(
            { scored, ms: performance.now() - started, copiesMs: w.lookupMs },
            'scored batch',
          );
        },
      );
      if (through !== null) {
        await store.write((conn) =>
          conn.run(
            `INSERT OR REPLACE INTO pipeline_state SELECT 'scores', '*', greatest($1, coalesce(
               (SELECT through FROM pipeline_state WHERE stage = 'scores' AND key = '*'), $1))`,
            [through],
          ),
        );
      }
      if (opts.rescore) {
        // The stored language is kept: only the sentiment model changed.
        const old = `SELECT ${COLUMNS.replace('%LANG%', 's.lang')} FROM mentions m
          JOIN mention_scores s USING (source, native_id) WHERE ${outdatedModel(models)}`;
        await pipelined(
          batches(store, old, [], size),
          (b) => pool.compute(b.input, []),
          async (b, out) => {
            await store.write((conn) => writeRescores(conn, tz, b, out, timestamptz(deps.now())));
            rescored += b.source.length;
          },
        );
      }
      // The workers' memory goes back before the tag and rollup steps, where DuckDB's use peaks.
      await pool.close();
      const [left] = await store.query(
        `SELECT count(*) AS n FROM mention_scores s WHERE ${outdatedModel(models)}`,
      );
      const outdated = Number(left?.n ?? 0);
      if (outdated > 0) {
        deps.logger.warn(
          { outdated },
          'mentions scored by an older sentiment model; run `earshot score --rescore`',
        );
      }
      const scoredMs = performance.now() - started;
      const tags = await tagNewMentions(store, { skip: TAGGED });
      await store.write((conn) => conn.run(`DROP TABLE ${TAGGED}`));
      const taggedMs = performance.now() - started - scoredMs;
      const rollups = await refreshRollups(store, tz);
      const rollupMs = performance.now() - started - scoredMs - taggedMs;
      const result = { scored, copies, rescored, outdated, tagged: taggedInBatches + tags.tagged, rollups };
      deps.logger.info(
        {
          ...result,
          threads: pool.started,
          // copies: the part of scores spent looking up stored originals
          ms: { scores: scoredMs, copies: lookupMs, tags: taggedMs, rollups: rollupMs },
        },
        'scored mentions',
      );
      return result;
    } finally {
      await pool.close();
    }
  });
}
