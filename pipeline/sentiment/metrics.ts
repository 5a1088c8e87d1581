import type { LinearSentimentModel } from './index.js';
import { CLASSES } from './model-file.js';
import type { ClassId, Example } from './train-data.js';

export const round = (x: number) => Math.round(x * 10000) / 10000;

export function macroF1(gold: ClassId[], predicted: ClassId[]): number {
  let total = 0;
  for (let c = 0; c < CLASSES; c++) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    gold.forEach((g, i) => {
      const p = predicted[i];
      if (p === c && g === c) tp++;
      else if (p === c) fp++;
      else if (g === c) fn++;
    });
    total += tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  }
  return total / CLASSES;
}

const classOf = { negative: 0, neutral: 1, positive: 2 } as const;

/** 3-class macro-F1 (argmax label) and polar accuracy (sign of the score, ties positive, as --polar). */
export function evaluate(model: LinearSentimentModel, examples: Example[]) {
  const predicted: ClassId[] = [];
  let polarRight = 0;
  let polarTotal = 0;
  let noSignal = 0;
  // confusion[gold][predicted], classes negative, neutral, positive
  const confusion = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  for (const e of examples) {
    const s = model.score(e.text);
    predicted.push(classOf[s.label]);
    const row = confusion[e.label] as number[];
    row[classOf[s.label]] = (row[classOf[s.label]] as number) + 1;
    if (s.score === 0 && s.label === 'neutral') noSignal++;
    if (e.label !== 1) {
      polarTotal++;
      if ((s.score < 0 ? 0 : 2) === e.label) polarRight++;
    }
  }
  return {
    items: examples.length,
    macroF1: round(
      macroF1(
        examples.map((e) => e.label),
        predicted,
      ),
    ),
    accuracy: round(predicted.filter((p, i) => p === examples[i]?.label).length / examples.length),
    polarAccuracy: round(polarRight / Math.max(1, polarTotal)),
    noSignal,
    confusion,
  };
}
