import { join } from 'node:path';
import { projectRoot } from '../paths.js';
import { FeatureScanner, lexiconTable } from './features.js';
import { type ModelFile, readModel } from './model-file.js';

export type SentimentLabel = 'positive' | 'negative' | 'neutral';
/** score = P(positive) - P(negative), in [-1, 1]; model = id@version of the weights that scored it. */
export interface Sentiment {
  label: SentimentLabel;
  score: number;
  model: string;
}
export interface SentimentModel {
  readonly id: string;
  score(text: string): Sentiment;
}
export interface SentimentModels {
  en: SentimentModel;
  ko: SentimentModel;
  /** picks the model: 'ko' for ko, 'en' otherwise */
  forLanguage(lang: string): SentimentModel;
}

export const defaultModelsDir = join(projectRoot, 'data', 'models');
export const modelPath = (dir: string, lang: 'en' | 'ko') => join(dir, `sentiment-${lang}.bin`);

/**
 * A local layer learned from an installation's corrections (pipeline/sentiment/learn.ts): float
 * deltas added to the shipped weights (times their scales), the shipped file untouched.
 */
export interface LocalLayer {
  version: number;
  /** Bucket -> its three weight deltas (negative, neutral, positive), in logit units. */
  deltas: Map<number, Float32Array>;
}

/**
 * A multinomial logistic regression over hashed features with int8 weights. Not re-entrant (the
 * scanner reuses one buffer), which is fine on Node's one thread; a worker loads its own.
 */
export class LinearSentimentModel implements SentimentModel {
  readonly id: string;
  private readonly scanner: FeatureScanner;
  private readonly weights: Int8Array;
  private readonly scales: [number, number, number];
  private readonly bias: [number, number, number];
  private readonly noSignal: Sentiment;
  private readonly layer: LocalLayer | undefined;
  /** One bit per bucket the layer changes, so scoring looks up the layer's map only for those. */
  private readonly touched: Uint8Array | undefined;
  private readonly z = new Float64Array(3);

  constructor({ header, weights }: ModelFile, layer?: LocalLayer) {
    this.id = `${header.id}@${header.version}${layer ? `+local${layer.version}` : ''}`;
    this.scanner = new FeatureScanner(
      header.scheme,
      header.bits,
      lexiconTable(header.scheme, header.lexicon),
      header.valences && lexiconTable(header.scheme, header.valences),
    );
    this.weights = weights;
    this.scales = header.scales as [number, number, number];
    this.bias = header.bias as [number, number, number];
    this.layer = layer;
    if (layer) {
      const touched = new Uint8Array(((1 << header.bits) >>> 3) + 1);
      for (const f of layer.deltas.keys()) touched[f >>> 3] = (touched[f >>> 3] as number) | (1 << (f & 7));
      this.touched = touched;
    }
    this.noSignal = Object.freeze({ label: 'neutral', score: 0, model: this.id });
  }

  score(text: string): Sentiment {
    if (!this.logits(this.scanner.scan(text))) return this.noSignal;
    const [zNeg, zNeu, zPos] = this.z as unknown as [number, number, number];
    const top = Math.max(zNeg, zNeu, zPos);
    const eNeg = Math.exp(zNeg - top);
    const eNeu = Math.exp(zNeu - top);
    const ePos = Math.exp(zPos - top);
    const score = (ePos - eNeg) / (eNeg + eNeu + ePos);
    const label: SentimentLabel =
      zPos >= zNeu && zPos >= zNeg ? 'positive' : zNeg >= zNeu ? 'negative' : 'neutral';
    return { label, score, model: this.id };
  }

  /**
   * A text's feature buckets and its logits (negative, neutral, positive) before the softmax: what a
   * local layer is fitted on. With no known feature the logits are the biases.
   */
  inspect(text: string): { buckets: Int32Array; logits: [number, number, number] } {
    const n = this.scanner.scan(text);
    this.z.set(this.bias);
    this.logits(n);
    return { buckets: this.scanner.indices.slice(0, n), logits: [...this.z] as [number, number, number] };
  }

  /** Fills `z` from the scanner's first `n` buckets; false (z untouched) when none carries a weight. */
  private logits(n: number): boolean {
    const idx = this.scanner.indices;
    const w = this.weights;
    let neg = 0;
    let neu = 0;
    let pos = 0;
    let any = 0;
    for (let i = 0; i < n; i++) {
      const f = (idx[i] as number) * 3;
      const a = w[f] as number;
      const b = w[f + 1] as number;
      const c = w[f + 2] as number;
      neg += a;
      neu += b;
      pos += c;
      any |= a | b | c;
    }
    neg *= this.scales[0];
    neu *= this.scales[1];
    pos *= this.scales[2];
    if (this.layer && this.touched) {
      for (let i = 0; i < n; i++) {
        const f = idx[i] as number;
        if (((this.touched[f >>> 3] as number) & (1 << (f & 7))) === 0) continue;
        const d = this.layer.deltas.get(f) as Float32Array;
        neg += d[0] as number;
        neu += d[1] as number;
        pos += d[2] as number;
        any = 1;
      }
    }
    // No feature the model knows: say so rather than answer with the class prior.
    if (any === 0) return false;
    const v = 1 / Math.sqrt(n);
    this.z[0] = this.bias[0] + neg * v;
    this.z[1] = this.bias[1] + neu * v;
    this.z[2] = this.bias[2] + pos * v;
    return true;
  }
}

/**
 * Loads both models once, each with its local layer when one is given; throws a UserError naming the
 * file when one is missing, corrupt or truncated.
 */
export function loadSentimentModels(
  dir: string = defaultModelsDir,
  layers: Partial<Record<'en' | 'ko', LocalLayer>> = {},
): SentimentModels {
  const en = new LinearSentimentModel(readModel(modelPath(dir, 'en')), layers.en);
  const ko = new LinearSentimentModel(readModel(modelPath(dir, 'ko')), layers.ko);
  return {
    en,
    ko,
    forLanguage: (lang) => (lang === 'ko' || lang.startsWith('ko-') ? ko : en),
  };
}

/**
 * The model language for a text when no language is known: ko when it has more Hangul (syllables
 * or jamo) than Latin letters, else en. Kept alone so a real language detector can replace it.
 */
export function modelLanguageOf(text: string): 'en' | 'ko' {
  let hangul = 0;
  let latin = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 0xac00 && c <= 0xd7a3) || (c >= 0x3131 && c <= 0x318e) || (c >= 0x1100 && c <= 0x11ff))
      hangul++;
    else if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0xc0 && c <= 0x24f && c !== 0xd7))
      latin++;
  }
  return hangul > latin ? 'ko' : 'en';
}

/** Two-class answer for --polar: the sign of the score; a tie (no signal) counts as positive. */
export function polarLabel(score: number): 'positive' | 'negative' {
  return score < 0 ? 'negative' : 'positive';
}
