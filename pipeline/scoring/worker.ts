/** Worker thread of the scoring pool: loads the models once, then scores the batches it is sent. */
import { parentPort, workerData } from 'node:worker_threads';
import { loadSentimentModels } from '../sentiment/index.js';
import { computeScores } from './compute.js';
import { matcherCache, type ScoreTask } from './pool.js';

// The installation's local layers, if any, come from the pool (pipeline/sentiment/layers.ts).
const models = loadSentimentModels(undefined, workerData ?? {});
const matchers = matcherCache();
parentPort?.on('message', ({ input, queries, library }: ScoreTask) => {
  parentPort?.postMessage(computeScores(models, input, matchers(queries), library));
});
