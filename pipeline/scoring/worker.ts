/** Worker thread of the scoring pool: loads the models once, then scores the batches it is sent. */
import { parentPort, workerData } from 'node:worker_threads';
import { loadSentimentModels } from '../sentiment/index.js';
import { computeScores, type ScoreInput } from './compute.js';

// The installation's local layers, if any, come from the pool (pipeline/sentiment/layers.ts).
const models = loadSentimentModels(undefined, workerData ?? {});
parentPort?.on('message', (input: ScoreInput) => {
  parentPort?.postMessage(computeScores(models, input));
});
