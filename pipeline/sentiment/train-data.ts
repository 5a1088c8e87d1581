/**
 * Readers for the labelled sets in ../shared/data/sentiment (training and measurement only; nothing at
 * run time reads them) and the fixed, seeded dev splits every figure we report is measured on.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { tokenHash } from './features.js';

/** 0 negative, 1 neutral, 2 positive: the class order of the model file. */
export type ClassId = 0 | 1 | 2;
export interface Example {
  text: string;
  label: ClassId;
}
export interface Split {
  train: Example[];
  dev: Example[];
}

const SPLIT_SEED = 'earshot-sentiment-dev-1';
/** Dev membership depends only on the item's id, so the split is the same on every run and machine. */
function isDev(id: string, percent: number): boolean {
  return (tokenHash(`${SPLIT_SEED}:${id}`) >>> 0) % 100 < percent;
}

function lines(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read ${path}: ${(err as Error).message} (pass --data <folder>)`);
  }
  return text.split('\n').filter((l) => l.trim() !== '');
}

const semevalLabels: Record<string, ClassId> = { negative: 0, neutral: 1, positive: 2 };

/** SemEval 2013-2016 task 4A: all files pooled, one copy per tweet id, 10% dev. */
export function semeval(dataDir: string): Split {
  const dir = join(dataDir, 'sentiment', 'en', 'semeval2013-2016');
  const seen = new Set<string>();
  const split: Split = { train: [], dev: [] };
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.tsv')) continue;
    for (const line of lines(join(dir, file))) {
      const [id, label, ...rest] = line.split('\t');
      const cls = semevalLabels[label?.trim() ?? ''];
      if (id === undefined || cls === undefined || seen.has(id)) continue;
      seen.add(id);
      (isDev(id, 10) ? split.dev : split.train).push({ text: rest.join('\t'), label: cls });
    }
  }
  return split;
}

/**
 * VADER's 4,200 tweets (MIT; Hutto & Gilbert, ICWSM 2014) with its authors' thresholds (positive when
 * mean/4 >= 0.05, negative when <= -0.05, else neutral), 20% dev: the stand-in for "another
 * collection". The train part is in-domain data for the English model; the dev part is never trained on.
 */
export function vaderTweets(dataDir: string): Split {
  const split: Split = { train: [], dev: [] };
  for (const line of lines(join(dataDir, 'sentiment', 'en', 'vader_tweets_GroundTruth.tsv'))) {
    const [id, mean, ...rest] = line.split('\t');
    if (id === undefined || mean === undefined) continue;
    const m = Number(mean) / 4;
    const example: Example = { text: rest.join('\t'), label: m >= 0.05 ? 2 : m <= -0.05 ? 0 : 1 };
    (isDev(`vader:${id}`, 20) ? split.dev : split.train).push(example);
  }
  return split;
}

/** NSMC train file (0 negative, 1 positive), 10% dev. */
export function nsmc(dataDir: string): Split {
  const split: Split = { train: [], dev: [] };
  const all = lines(join(dataDir, 'sentiment', 'ko', 'nsmc', 'ratings_train.tsv'));
  for (const line of all.slice(1)) {
    const [id, text, label] = line.split('\t');
    if (id === undefined || (label !== '0' && label !== '1')) continue;
    (isDev(id, 10) ? split.dev : split.train).push({ text: text ?? '', label: label === '1' ? 2 : 0 });
  }
  return split;
}

// KOTE label ids (0-based, in the order of kote/README.md) -> polarity, per ../shared/data/README.md.
const KOTE_POSITIVE = new Set([1, 2, 4, 7, 8, 13, 14, 16, 28, 32, 40, 42, 43]);
const KOTE_NEGATIVE = new Set([
  0, 3, 5, 6, 9, 10, 12, 18, 19, 20, 21, 22, 23, 25, 26, 27, 30, 31, 33, 34, 35, 36, 37, 41,
]);
/**
 * KOTE comments, 20% dev. Polar classes follow the data README (>= 2 labels of one polarity, none of
 * the other). For training only, a comment with at most one label of each polarity (the raters found
 * no clear polarity) is neutral, so the one Korean model can answer neutral; the dev figure keeps the
 * polar cases only, as specified.
 */
export function kote(dataDir: string): Split & { devNeutral: Example[] } {
  const split = { train: [] as Example[], dev: [] as Example[], devNeutral: [] as Example[] };
  for (const line of lines(join(dataDir, 'sentiment', 'ko', 'kote', 'val.tsv'))) {
    const [id, text, ids] = line.split('\t');
    if (id === undefined || text === undefined || ids === undefined) continue;
    const labels = ids.split(',').map(Number);
    const pos = labels.filter((l) => KOTE_POSITIVE.has(l)).length;
    const neg = labels.filter((l) => KOTE_NEGATIVE.has(l)).length;
    let cls: ClassId | undefined;
    if (pos >= 2 && neg === 0) cls = 2;
    else if (neg >= 2 && pos === 0) cls = 0;
    else if (pos <= 1 && neg <= 1) cls = 1;
    if (cls === undefined) continue;
    const dev = isDev(id, 20);
    if (!dev) split.train.push({ text, label: cls });
    else if (cls === 1) split.devNeutral.push({ text, label: cls });
    else split.dev.push({ text, label: cls });
  }
  return split;
}
