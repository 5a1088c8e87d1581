/**
 * Spreads the per-mention work of a large batch (language, sentiment, copy keys, terms) over worker
 * threads and the main thread, so scoring uses every core while DuckDB waits between batches.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SentimentModels } from '../sentiment/index.js';
import type { LocalLayers } from '../sentiment/layers.js';
import { computeScores, type ScoreInput, type ScoreOutput } from './compute.js';

// Below this a batch is scored faster than its texts can be copied to a thread and back.
export const POOL_MIN_BATCH = 4096;

const workerFile = fileURLToPath(new URL('./worker.js', import.meta.url));

function slice(input: ScoreInput, from: number, to: number): ScoreInput {
  return {
    title: input.title.slice(from, to),
    text: input.text.slice(from, to),
    lang: input.lang.slice(from, to),
    url: input.url.slice(from, to),
  };
}

function concat(parts: ScoreOutput[]): ScoreOutput {
  const keys = Object.keys(parts[0] ?? {}) as Array<keyof ScoreOutput>;
  return Object.fromEntries(
    keys.map((k) => [k, parts.flatMap((p): unknown[] => p[k])]),
  ) as unknown as ScoreOutput;
}

export class ScoringPool {
  private readonly workers: Worker[] = [];
  private readonly threads: number;

  /**
   * Up to `threads` extra threads beside the main one, started with the first large batch (the
   * small rounds after each collection never pay for them). The workers load the shipped models
   * themselves with the same local `layers` on top, so they only run when `models` are those
   * (`layers` null: models of another kind), and only from the built JavaScript (under the
   * TypeScript test runner the worker file does not exist).
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
    return this.workers.length;
  }

  /** Scores in input order; the main thread takes one share while the workers take the others. */
  async compute(input: ScoreInput): Promise<ScoreOutput> {
    const n = input.text.length;
    if (this.threads === 0 || n < POOL_MIN_BATCH) return computeScores(this.models, input);
    while (this.workers.length < this.threads)
      this.workers.push(new Worker(workerFile, { workerData: this.layers }));
    const shares = this.workers.length + 1;
    const size = Math.ceil(n / shares);
    const pending = this.workers.map(
      (w, i) =>
        new Promise<ScoreOutput>((resolve, reject) => {
          const cleanup = () => {
            w.off('message', onMessage);
            w.off('error', onError);
          };
          const onMessage = (out: ScoreOutput) => {
            cleanup();
            resolve(out);
          };
          const onError = (err: Error) => {
            cleanup();
            reject(err);
          };
          w.on('message', onMessage);
          w.on('error', onError);
          w.postMessage(slice(input, (i + 1) * size, Math.min(n, (i + 2) * size)));
        }),
    );
    const mine = computeScores(this.models, slice(input, 0, size));
    return concat([mine, ...(await Promise.all(pending))]);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
