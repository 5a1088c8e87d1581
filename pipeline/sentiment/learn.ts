/**
 * Learning from corrections. Users do not have our training data, so the shipped weights stay as
 * they are and a local layer goes on top (pipeline/sentiment/layers.ts): per model language, sparse
 * weight deltas fitted by AdaGrad on the corrected mentions' texts, starting from the shipped model
 * (deltas 0) with an L2 pull back toward it, so a handful of corrections moves the words they hold
 * without unlearning the rest. The biases are not learned: users correct what the model got wrong,
 * so the corrections' class mix says nothing about the classes of mentions at large (ten corrected
 * positives must not make every plain announcement positive). Each `learn` fits a new version from scratch on every correction
 * except the newest 20% by time, which `eval` keeps to compare the shipped and the updated model on
 * texts neither has seen.
 */
import type { Logger } from '../logger.js';
import { type ScoreResult, scoreNew } from '../scoring/score.js';
import type { Store } from '../store.js';
import { COMPOUND_WEIGHT } from './features.js';
import {
  defaultModelsDir,
  type LinearSentimentModel,
  type LocalLayer,
  loadSentimentModels,
  type SentimentModel,
  type SentimentModels,
} from './index.js';
import { MODEL_LANGS, type ModelLang, newestLayers, saveLayer, shippedModels } from './layers.js';
import { round } from './metrics.js';
import { CLASSES } from './model-file.js';
import type { ClassId } from './train-data.js';

/** The newest share of each language's corrections (by time) never trained on. */
export const HOLD_OUT = 0.2;
/** Fewer corrections than this in a language: no layer (one or two would only memorise). */
export const MIN_TO_LEARN = 5;
const EPOCHS = 10;
const LR = 0.1;
const L2 = 1e-3;

/** Anchors per correction, and at most this many in all (see fitLayer). */
const ANCHORS_PER_CORRECTION = 5;
const MAX_ANCHORS = 5000;
/** A mention's text as the scoring stage reads it (pipeline/scoring/compute.ts): title, newline, text. */
const SCORED_TEXT =
  "CASE WHEN coalesce(m.title, '') <> '' THEN m.title || chr(10) || coalesce(m.text, '') ELSE coalesce(m.text, '') END";

const classOf = { negative: 0, neutral: 1, positive: 2 } as const;

export interface Corrected {
  source: string;
  nativeId: string;
  text: string;
  label: ClassId;
  correctedAt: Date;
}

/**
 * The label in force of each corrected, scored mention, per model language, oldest correction
 * first; the text is what the scorer read (title, newline, text).
 */
export async function correctedByLanguage(
  store: Store,
  models: SentimentModels,
): Promise<Record<ModelLang, Corrected[]>> {
  const rows = await store.query(
    `SELECT c.source, c.native_id, c.label, c.corrected_at, s.lang,
       ${SCORED_TEXT} AS text
     FROM sentiment_corrections_latest c JOIN mentions m USING (source, native_id)
     JOIN mention_scores s USING (source, native_id)
     ORDER BY c.corrected_at, c.source, c.native_id`,
  );
  const out: Record<ModelLang, Corrected[]> = { en: [], ko: [] };
  for (const r of rows) {
    const lang: ModelLang = models.forLanguage(String(r.lang)) === models.ko ? 'ko' : 'en';
    out[lang].push({
      source: String(r.source),
      nativeId: String(r.native_id),
      text: String(r.text),
      label: classOf[String(r.label) as keyof typeof classOf],
      correctedAt: r.corrected_at as Date,
    });
  }
  return out;
}

/** Oldest first in, newest HOLD_OUT share out: the held-out part is never trained on. */
export function splitByTime<T>(items: readonly T[]): { train: T[]; heldOut: T[] } {
  const held = Math.floor(items.length * HOLD_OUT);
  return { train: items.slice(0, items.length - held), heldOut: items.slice(items.length - held) };
}

/**
 * Fits a layer's deltas on the corrections, starting from the shipped model `base` (deltas 0).
 * `anchors` are texts nobody corrected, each taught the shipped model's own answer: corrections
 * alone would push every common word and character n-gram toward the classes users happened to
 * correct to, and the anchors hold those in place while the words of the corrections move.
 */
/**
 * The buckets a correction may move: not VADER's compound bin (emitted COMPOUND_WEIGHT times, and
 * shared by every text with a like score): five corrections of "sick" would otherwise turn a whole
 * score band positive instead of the words that were corrected.
 */
function learnable(buckets: Int32Array): Int32Array {
  const count = new Map<number, number>();
  for (const f of buckets) count.set(f, (count.get(f) ?? 0) + 1);
  return buckets.filter((f) => (count.get(f) as number) < COMPOUND_WEIGHT);
}

export function fitLayer(
  base: LinearSentimentModel,
  corrections: readonly { text: string; label: ClassId }[],
  anchors: readonly string[] = [],
): Omit<LocalLayer, 'version'> {
  const softmax = (z: readonly number[]) => {
    const top = Math.max(...z);
    const e = z.map((x) => Math.exp(x - top));
    const sum = e.reduce((a, b) => a + b, 0);
    return Float64Array.from(e, (x) => x / sum);
  };
  const data = [
    ...corrections.map((e) => {
      const target = new Float64Array(CLASSES);
      target[e.label] = 1;
      return { ...base.inspect(e.text), target };
    }),
    ...anchors.map((text) => {
      const seen = base.inspect(text);
      return { ...seen, target: softmax(seen.logits) };
    }),
  ];
  const deltas = new Map<number, Float64Array>();
  const acc = new Map<number, Float64Array>();
  const p = new Float64Array(CLASSES);
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    for (const { buckets, logits, target } of data) {
      if (buckets.length === 0) continue;
      const v = 1 / Math.sqrt(buckets.length);
      const learn = learnable(buckets);
      let top = -Infinity;
      for (let k = 0; k < CLASSES; k++) {
        let z = logits[k] as number;
        for (const f of buckets) z += (deltas.get(f)?.[k] ?? 0) * v;
        p[k] = z;
        top = Math.max(top, z);
      }
      let sum = 0;
      for (let k = 0; k < CLASSES; k++) {
        p[k] = Math.exp((p[k] as number) - top);
        sum += p[k] as number;
      }
      for (let k = 0; k < CLASSES; k++) {
        const g = (p[k] as number) / sum - (target[k] as number);
        for (const f of learn) {
          let d = deltas.get(f);
          let a = acc.get(f);
          if (!d || !a) {
            d = new Float64Array(CLASSES);
            a = new Float64Array(CLASSES);
            deltas.set(f, d);
            acc.set(f, a);
          }
          // The L2 term pulls each delta back toward 0, i.e. the weight toward the shipped one.
          const gf = g * v + L2 * (d[k] as number);
          a[k] = (a[k] as number) + gf * gf;
          d[k] = (d[k] as number) - (LR * gf) / Math.sqrt((a[k] as number) + 1e-8);
        }
      }
    }
  }
  return { deltas: new Map([...deltas].map(([f, d]) => [f, Float32Array.from(d)])) };
}

/**
 * The newest uncorrected scored mentions of a model language, up to `limit`, as the scorer read
 * them (held-out corrections are corrected, so never among them).
 */
async function anchorTexts(store: Store, lang: ModelLang, limit: number): Promise<string[]> {
  const rows = await store.query(
    `SELECT ${SCORED_TEXT} AS text FROM mentions m JOIN mention_scores s USING (source, native_id)
     ANTI JOIN sentiment_corrections c USING (source, native_id)
     WHERE (s.lang = 'ko') = $ko
     ORDER BY m.collected_at DESC, m.source, m.native_id LIMIT ${limit}`,
    { ko: lang === 'ko' },
  );
  return rows.map((r) => String(r.text));
}

export interface LearnResult {
  layers: { lang: ModelLang; model: string; trained: number; heldOut: number }[];
  /** Languages left as they were, and why. */
  skipped: { lang: ModelLang; reason: string }[];
  /** The bulk re-score of stored mentions by the new versions. */
  rescore: ScoreResult | null;
}

/**
 * Fits and stores a new layer version for each language with enough corrections, then re-scores
 * every stored mention the new versions now serve (each records the version that scored it).
 */
export async function learnFromCorrections(deps: {
  store: Store;
  timezone: string;
  logger: Logger;
  now: () => Date;
}): Promise<LearnResult> {
  const shipped = shippedModels();
  const corrected = await correctedByLanguage(deps.store, shipped);
  const result: LearnResult = { layers: [], skipped: [], rescore: null };
  for (const lang of MODEL_LANGS) {
    const items = corrected[lang];
    if (items.length < MIN_TO_LEARN) {
      result.skipped.push({
        lang,
        reason: `${items.length} correction(s); at least ${MIN_TO_LEARN} are needed to learn`,
      });
      continue;
    }
    const { train, heldOut } = splitByTime(items);
    const base = shipped[lang] as LinearSentimentModel;
    const anchors = await anchorTexts(
      deps.store,
      lang,
      Math.min(MAX_ANCHORS, ANCHORS_PER_CORRECTION * train.length),
    );
    const layer = fitLayer(base, train, anchors);
    const version = await deps.store.write((conn) =>
      saveLayer(
        conn,
        { lang, baseModel: base.id, createdAt: deps.now().toISOString(), heldOut: heldOut.length },
        layer,
        train.map((e) => [e.source, e.nativeId] as const),
      ),
    );
    result.layers.push({
      lang,
      model: `${base.id}+local${version}`,
      trained: train.length,
      heldOut: heldOut.length,
    });
  }
  if (result.layers.length > 0) result.rescore = await scoreNew(deps, { rescore: true });
  return result;
}

export interface EvalFigures {
  items: number;
  accuracy: number;
  macroF1: number;
}

export interface EvalLanguage {
  lang: ModelLang;
  corrections: number;
  /** Held-out corrections scored here: the newest 20%, minus any the layer was trained on. */
  heldOut: number;
  /** null when nothing is held out yet */
  shipped: (EvalFigures & { model: string }) | null;
  /** null when nothing is held out or there is no layer yet */
  updated: (EvalFigures & { model: string }) | null;
  /** Why a figure is missing (too few corrections, no layer yet). */
  note: string | null;
}

/**
 * Accuracy, and macro-F1 over the classes present in the labels or the answers: a held-out set of
 * corrections often holds one or two classes, and an absent class must not count as an F1 of 0.
 */
function score(model: SentimentModel, items: readonly Corrected[]): EvalFigures {
  const gold = items.map((e) => e.label);
  const predicted = items.map((e) => classOf[model.score(e.text).label]);
  const classes = [...new Set([...gold, ...predicted])];
  const f1 = classes.map((c) => {
    let tp = 0;
    let wrong = 0;
    gold.forEach((g, i) => {
      if (g === c && predicted[i] === c) tp++;
      else if (g === c || predicted[i] === c) wrong++;
    });
    return (2 * tp) / (2 * tp + wrong);
  });
  return {
    items: items.length,
    accuracy: round(predicted.filter((p, i) => p === gold[i]).length / items.length),
    macroF1: round(f1.reduce((a, b) => a + b, 0) / classes.length),
  };
}

/** Shipped vs. updated model on each language's held-out corrections. */
export async function evalCorrections(store: Store): Promise<EvalLanguage[]> {
  const shipped = shippedModels();
  const corrected = await correctedByLanguage(store, shipped);
  const layers = await newestLayers(store);
  const updatedModels = Object.keys(layers).length > 0 ? loadSentimentModels(defaultModelsDir, layers) : null;
  const out: EvalLanguage[] = [];
  for (const lang of MODEL_LANGS) {
    const layer = layers[lang];
    // A re-corrected mention can reach the held-out part after a layer trained on its older label.
    const trainedOn = new Set(
      layer === undefined
        ? []
        : (
            await store.query(
              'SELECT source, native_id FROM sentiment_layer_training WHERE lang = $1 AND version = $2',
              [lang, layer.version],
            )
          ).map((r) => `${r.source}\t${r.native_id}`),
    );
    const heldOut = splitByTime(corrected[lang]).heldOut.filter(
      (e) => !trainedOn.has(`${e.source}\t${e.nativeId}`),
    );
    const figures = (model: SentimentModel) => ({ model: model.id, ...score(model, heldOut) });
    const enough = heldOut.length > 0;
    const updated = updatedModels && layer ? updatedModels[lang] : null;
    out.push({
      lang,
      corrections: corrected[lang].length,
      heldOut: heldOut.length,
      shipped: enough ? figures(shipped[lang]) : null,
      updated: enough && updated ? figures(updated) : null,
      note: !enough
        ? `too few corrections to hold any out: ${corrected[lang].length} (the newest ${HOLD_OUT * 100}% are held out; at least ${Math.ceil(1 / HOLD_OUT)} are needed)`
        : updated === null
          ? 'no local layer yet: run `earshot sentiment learn`'
          : null,
    });
  }
  return out;
}
