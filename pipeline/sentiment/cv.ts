/**
 * npm run cv:sentiment [-- --data /work/shared/data] [--folds 5] [train.ts's English knobs]
 *
 * K-fold cross-validation of the English model over all 4,200 VADER tweets (folds by a hash of the
 * text, so they are the same on every run): each fold is scored by a model trained on SemEval's train
 * split and the other folds, and the predictions are pooled into one 3-class macro-F1. The single 20%
 * dev split train.ts reports has only ~60 neutral tweets, so a feature or knob is judged here, never
 * on that split alone. Training time only: reads ../shared, writes nothing.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../paths.js';
import { tokenHash } from './features.js';
import { LinearSentimentModel } from './index.js';
import { evaluate, macroF1, round } from './metrics.js';
import { decodeModel, encodeModel } from './model-file.js';
import { type ClassId, semeval, vaderTweets } from './train-data.js';
import { trainEnglish } from './train-model.js';

const classOf = { negative: 0, neutral: 1, positive: 2 } as const;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string', default: join(projectRoot, '..', 'shared', 'data') },
      folds: { type: 'string', default: '5' },
      lr: { type: 'string', default: '0.2' },
      shuffles: { type: 'string', default: '5' },
      'class-power': { type: 'string', default: '0.25' },
      'vader-weight': { type: 'string', default: '12' },
      'vader-class-power': { type: 'string', default: '0.5' },
      'no-valences': { type: 'boolean', default: false },
    },
  });
  const data = resolve(values.data);
  const k = Number(values.folds);
  const tweets = semeval(data);
  const vader = vaderTweets(data);
  const all = [...vader.train, ...vader.dev];
  const foldOf = all.map((e) => (tokenHash(`cv:${e.text}`) >>> 0) % k);
  const gold: ClassId[] = [];
  const predicted: ClassId[] = [];
  const perFold: number[] = [];
  const semevalDev: number[] = [];
  for (let f = 0; f < k; f++) {
    const test = all.filter((_, i) => foldOf[i] === f);
    const model = await trainEnglish(
      tweets.train,
      all.filter((_, i) => foldOf[i] !== f),
      {
        bits: 0,
        lr: Number(values.lr),
        epochs: 1,
        shuffles: Number(values.shuffles),
        seed: 20261122,
        classPower: Number(values['class-power']),
        vaderWeight: Number(values['vader-weight']),
        vaderClassPower: Number(values['vader-class-power']),
        valences: !values['no-valences'],
      },
    );
    const shipped = new LinearSentimentModel(decodeModel(encodeModel(model), 'cv'));
    const mine: ClassId[] = test.map((e) => classOf[shipped.score(e.text).label]);
    gold.push(...test.map((e) => e.label));
    predicted.push(...mine);
    perFold.push(
      round(
        macroF1(
          test.map((e) => e.label),
          mine,
        ),
      ),
    );
    semevalDev.push(evaluate(shipped, tweets.dev).macroF1);
  }
  const mean = (xs: number[]) => round(xs.reduce((a, b) => a + b, 0) / xs.length);
  process.stdout.write(
    `${JSON.stringify({ folds: k, vaderPooledMacroF1: round(macroF1(gold, predicted)), perFold, semevalDevMean: mean(semevalDev) })}\n`,
  );
}

await main();
