/**
 * npm run bench:sentiment [-- --data /work/shared/data] [--seconds 3]
 *
 * Texts per second on one core, in-process, after the models are loaded: earshot's English model on
 * the SemEval dev split + the VADER tweets, its Korean model on the NSMC + KOTE dev splits, and
 * natural's SentimentAnalyzer (AFINN, no stemmer, with its WordTokenizer: it needs tokens, we take
 * raw text) on the English texts, measured in the same run. Each measurement loops over the texts for
 * at least --seconds after one warm-up pass. Quality columns are on the same texts (dev splits only).
 */
import { parseArgs } from 'node:util';
import { errorMessage } from '../../pipeline/errors.js';
import { loadSentimentModels, type SentimentLabel } from '../../pipeline/sentiment/index.js';
import { macroF1 } from '../../pipeline/sentiment/metrics.js';
import {
  type ClassId,
  type Example,
  kote,
  nsmc,
  semeval,
  vaderTweets,
} from '../../pipeline/sentiment/train-data.js';

function rate(texts: string[], seconds: number, score: (text: string) => unknown): number {
  for (const t of texts) score(t);
  let done = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < seconds * 1000) {
    for (const t of texts) score(t);
    done += texts.length;
    elapsed = performance.now() - started;
  }
  return done / (elapsed / 1000);
}

interface NaturalModule {
  SentimentAnalyzer: new (
    language: string,
    stemmer: null,
    vocabulary: string,
  ) => { getSentiment(words: string[]): number };
  WordTokenizer: new () => { tokenize(text: string): string[] };
}

const classOf: Record<SentimentLabel, ClassId> = { negative: 0, neutral: 1, positive: 2 };
const signClass = (score: number): ClassId => (score > 0 ? 2 : score < 0 ? 0 : 1);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string', default: '../shared/data' },
      seconds: { type: 'string', default: '3' },
    },
  });
  const seconds = Number(values.seconds);
  let en: Example[];
  let ko: Example[];
  try {
    en = [...semeval(values.data).dev, ...vaderTweets(values.data)];
    ko = [...nsmc(values.data).dev, ...kote(values.data).dev];
  } catch (err) {
    process.stderr.write(
      `bench:sentiment needs the labelled sets: ${errorMessage(err)}\nrun: npm run bench:sentiment -- --data /path/to/shared/data\n`,
    );
    process.exitCode = 1;
    return;
  }
  const models = loadSentimentModels();
  process.env.DOTENV_CONFIG_QUIET = 'true';
  // Imported by a name TypeScript does not resolve: natural ships .ts sources that fail our strict build.
  const naturalPackage: string = 'natural';
  const natural = (await import(naturalPackage)) as NaturalModule;
  const analyzer = new natural.SentimentAnalyzer('English', null, 'afinn');
  const tokenizer = new natural.WordTokenizer();
  const naturalScore = (t: string) => analyzer.getSentiment(tokenizer.tokenize(t));

  const enTexts = en.map((e) => e.text);
  const koTexts = ko.map((e) => e.text);
  const rows = [
    {
      name: 'earshot en-linear',
      texts: 'en',
      rate: rate(enTexts, seconds, (t) => models.en.score(t)),
      f1: macroF1(
        en.map((e) => e.label),
        en.map((e) => classOf[models.en.score(e.text).label]),
      ),
    },
    {
      name: 'natural SentimentAnalyzer (afinn)',
      texts: 'en',
      rate: rate(enTexts, seconds, naturalScore),
      f1: macroF1(
        en.map((e) => e.label),
        en.map((e) => signClass(naturalScore(e.text))),
      ),
    },
    {
      name: 'earshot ko-linear',
      texts: 'ko',
      rate: rate(koTexts, seconds, (t) => models.ko.score(t)),
      f1: null,
    },
    {
      name: 'natural SentimentAnalyzer (afinn)',
      texts: 'ko',
      rate: rate(koTexts, seconds, naturalScore),
      f1: null,
    },
  ];
  const natEn = rows[1]?.rate ?? 1;
  const natKo = rows[3]?.rate ?? 1;
  process.stdout.write(
    [
      `sentiment benchmark: one core, in-process, models loaded; ${enTexts.length.toLocaleString('en')} English and ${koTexts.length.toLocaleString('en')} Korean dev texts`,
      '',
      '| scorer | texts | texts/s | vs natural | 3-class macro-F1 (en) |',
      '|---|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.name} | ${r.texts} | ${Math.round(r.rate).toLocaleString('en')} | ${(r.rate / (r.texts === 'en' ? natEn : natKo)).toFixed(2)}x | ${r.f1 === null ? '-' : r.f1.toFixed(4)} |`,
      ),
      '',
      'target: >= 75,000 texts/s per language (natural cannot read Korean: its Korean rate is for reference only)',
      '',
    ].join('\n'),
  );
}

await main();
