/**
 * Spreads the per-mention work of large batches (language, sentiment, copy keys, terms, topic tags)
 * over worker threads, so the main thread stays free to read and write DuckDB while they compute:
 * scoring overlaps one batch's JavaScript with another batch's database work.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SentimentModels } from '../sentiment/index.js';
import type { LocalLayers } from '../sentiment/layers.js';
import { compileQuery, lookedUp } from '../topics/match.js';
import { computeScores, type ScoreInput, type ScoreOutput, type Topics } from './compute.js';

// Below this a batch is scored faster than its texts can be copied to a thread and back.
export const POOL_MIN_BATCH = 4096;

const workerFile = fileURLToPath(new URL('./worker.js', import.meta.url));

/**
 * What a worker is sent: a slice of a batch, the topic queries (valid ones) to tag it with, and
 * whether it may load eld (see computeScores) or defers the texts that need it.
 */
export interface ScoreTask {
  input: ScoreInput;
  queries: readonly string[];
  library: boolean;
}

/** Compiled topics for the last list of queries seen (the same list for a whole scoring run). */
export function matcherCache(): (queries: readonly string[]) => Topics {
  let key = '';
  let compiled: Topics = { matchers: [], keys: new Set() };
  return (queries) => {
    const k = JSON.stringify(queries);
    if (k !== key) {
      const keys = new Set<string>();
      for (const q of queries) lookedUp(q, keys);
      compiled = { matchers: queries.map((q) => compileQuery(q)), keys };
      key = k;
    }
    return compiled;
  };
}

/** The mentions of `input` at the indices `at`, in that order. */
function pick(input: ScoreInput, at: readonly number[]): ScoreInput {
  const of = <T>(values: readonly T[]) => at.map((i) => values[i] as T);
  const part: ScoreInput = {
    title: of(input.title),
    text: of(input.text),
    lang: of(input.lang),
    url: of(input.url),
  };
  if (input.source) part.source = of(input.source);
  if (input.author) part.author = of(input.author);
  return part;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

/** The per-mention fields of a ScoreOutput (`tags` and `deferred` list indices instead). */
const FIELDS = [
  'lang',
  'langOrigin',
  'sentiment',
  'score',
  'model',
  'canonicalUrl',
  'textSig',
  'terms',
] as const;

/** The parts in order as one output; tag pairs and deferred mentions shifted to the batch's indices. */
function concat(parts: ScoreOutput[], offsets: number[]): ScoreOutput {
  const out: ScoreOutput = {
    lang: [],
    langOrigin: [],
    sentiment: [],
    score: [],
    model: [],
    canonicalUrl: [],
    textSig: [],
    terms: [],
    tags: [],
    deferred: [],
  };
  parts.forEach((p, k) => {
    for (const key of FIELDS) for (const v of p[key]) (out[key] as unknown[]).push(v);
    const offset = offsets[k] as number;
    for (let i = 0; i < p.tags.length; i += 2)
      out.tags.push((p.tags[i] as number) + offset, p.tags[i + 1] as number);
    for (const i of p.deferred) out.deferred.push(i + offset);
  });
  return out;
}

/**
 * Fills in the mentions `out` deferred (their language needs eld) with `compute`'s scores of them.
 * Tags stay in mention order, as one thread scoring the whole batch lists them.
 */
export async function scoreDeferred(
  input: ScoreInput,
  out: ScoreOutput,
  compute: (part: ScoreInput) => ScoreOutput | Promise<ScoreOutput>,
): Promise<ScoreOutput> {
  const at = out.deferred;
  if (at.length === 0) return out;
  const done = await compute(pick(input, at));
  for (const key of FIELDS) {
    at.forEach((i, j) => {
      (out[key] as unknown[])[i] = done[key][j];
    });
  }
  const pairs: Array<[number, number]> = [];
  for (let k = 0; k < out.tags.length; k += 2) pairs.push([out.tags[k] as number, out.tags[k + 1] as number]);
  for (let k = 0; k < done.tags.length; k += 2)
    pairs.push([at[done.tags[k] as number] as number, done.tags[k + 1] as number]);
  pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return { ...out, tags: pairs.flat(), deferred: [] };
}

interface Waiter {
  resolve: (out: ScoreOutput) => void;
  reject: (err: Error) => void;
}

/** One worker thread; answers its tasks in the order they were sent. */
class ScoringWorker {
  private readonly worker: Worker;
  private readonly waiting: Waiter[] = [];

  constructor(layers: LocalLayers | null) {
    this.worker = new Worker(workerFile, { workerData: layers });
    this.worker.on('message', (out: ScoreOutput) => this.waiting.shift()?.resolve(out));
    this.worker.on('error', (err: Error) => {
      for (const w of this.waiting.splice(0)) w.reject(err);
    });
  }

  run(task: ScoreTask): Promise<ScoreOutput> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.worker.postMessage(task);
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

export class ScoringPool {
  private readonly workers: ScoringWorker[] = [];
  private readonly threads: number;
  #started = 0;
  private readonly matchers = matcherCache();

  /**
   * Up to `threads` worker threads, started with the first large batch (the small rounds after
   * each collection never pay for them); with none, the main thread computes. The workers load the
   * shipped models themselves with the same local `layers` on top, so they only run when `models`
   * are those (`layers` null: models of another kind), and only from the built JavaScript (under
   * the TypeScript test runner the worker file does not exist).
   */
  constructor(
    private readonly models: SentimentModels,
    threads: number,
    private readonly layers: LocalLayers | null,
  ) {
    this.threads = layers !== null && existsSync(workerFile) ? threads : 0;
  }

  /** Worker threads started so far. */
  get started(): number {
    return this.#started;
  }

  /** Scores in input order, tagging with `queries` (topic queries that parse). */
  async compute(input: ScoreInput, queries: readonly string[]): Promise<ScoreOutput> {
    const n = input.text.length;
    if (this.threads === 0 || n < POOL_MIN_BATCH) {
      return computeScores(this.models, input, this.matchers(queries));
    }
    while (this.workers.length < this.threads) {
      this.workers.push(new ScoringWorker(this.layers));
      this.#started++;
    }
    const size = Math.ceil(n / this.workers.length);
    const offsets = this.workers.map((_, i) => i * size).filter((from) => from < n);
    const parts = await Promise.all(
      offsets.map((from, i) =>
        (this.workers[i] as ScoringWorker).run({
          input: pick(input, range(from, Math.min(n, from + size))),
          queries,
          library: i === 0,
        }),
      ),
    );
    // eld's tables cost ~200 MB in every thread that loads them, and few texts need them: only
    // the first worker holds them and scores what the others deferred.
    const first = this.workers[0] as ScoringWorker;
    return scoreDeferred(input, concat(parts, offsets), (part) =>
      first.run({ input: part, queries, library: true }),
    );
  }

  /** Stops the workers (each holds its own models and language tables, ~280 MB); safe to call twice. */
  async close(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.terminate()));
  }
}
