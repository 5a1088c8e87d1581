/** Worker thread of the scoring pool: loads the models once, then scores the batches it is sent. */
import { parentPort } from 'node:worker_threads';
import { loadSentimentModels } from '../sentiment/index.js';
import { computeScores, type ScoreInput } from './compute.js';

const models = loadSentimentModels();
parentPort?.on('message', (input: ScoreInput) => {
  parentPort?.postMessage(computeScores(models, input));
});
