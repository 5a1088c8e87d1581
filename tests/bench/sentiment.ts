/**
 * npm run bench:sentiment [-- --data /work/shared/data] [--seconds 3]
 *
 * Texts per second on one core, in-process, after the models are loaded: earshot's English model on
 * the SemEval and VADER dev splits, its Korean model on the NSMC + KOTE dev splits, and
 * natural's SentimentAnalyzer (AFINN, no stemmer, with its WordTokenizer: it needs tokens, we take
 * raw text) on the same texts, measured in the same run. Each measurement loops over the texts for
 * at least --seconds after one warm-up pass. The quality columns are on the same dev texts: English
 * 3-class macro-F1, Korean polar accuracy (sign of the score, as `--polar`).
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

/**
 * Texts per second by the wall clock and per second of this process's CPU time: on a busy machine
 * (other jobs on the same cores) the CPU figure is the closer one to "one core of its own".
 */
function rate(
  texts: string[],
  seconds: number,
  score: (text: string) => unknown,
): { wall: number; cpu: number } {
  for (const t of texts) score(t);
  let done = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < seconds * 1000) {
    for (const t of texts) score(t);
    done += texts.length;
    elapsed = performance.now() - started;
  }
  const used = process.cpuUsage(cpu);
  return { wall: done / (elapsed / 1000), cpu: done / ((used.user + used.system) / 1e6) };
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
  let sets: { semeval: Example[]; vader: Example[]; nsmc: Example[]; kote: Example[] };
  try {
    sets = {
      semeval: semeval(values.data).dev,
      vader: vaderTweets(values.data).dev,
      nsmc: nsmc(values.data).dev,
      kote: kote(values.data).dev,
    };
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
  const imported = (await import(naturalPackage)) as { default?: NaturalModule } & NaturalModule;
  const natural = imported.default ?? imported;
  const analyzer = new natural.SentimentAnalyzer('English', null, 'afinn');
  const tokenizer = new natural.WordTokenizer();
  const naturalScore = (t: string) => analyzer.getSentiment(tokenizer.tokenize(t));
  const earshotEn = (t: string) => models.en.score(t);
  const earshotKo = (t: string) => models.ko.score(t);

  // English: 3-class macro-F1 (natural's label is the sign of its sum); Korean: polar accuracy (sign).
  const f1 = (set: Example[], label: (t: string) => ClassId) =>
    macroF1(
      set.map((e) => e.label),
      set.map((e) => label(e.text)),
    ).toFixed(4);
  const polar = (set: Example[], score: (t: string) => number) =>
    (set.filter((e) => (score(e.text) < 0 ? 0 : 2) === e.label).length / set.length).toFixed(4);
  const enTexts = [...sets.semeval, ...sets.vader].map((e) => e.text);
  const koTexts = [...sets.nsmc, ...sets.kote].map((e) => e.text);
  const rows = [
    {
      name: 'earshot en-linear',
      texts: 'en',
      rate: rate(enTexts, seconds, earshotEn),
      quality: [
        f1(sets.semeval, (t) => classOf[earshotEn(t).label]),
        f1(sets.vader, (t) => classOf[earshotEn(t).label]),
      ],
    },
    {
      name: 'natural SentimentAnalyzer (afinn)',
      texts: 'en',
      rate: rate(enTexts, seconds, naturalScore),
      quality: [
        f1(sets.semeval, (t) => signClass(naturalScore(t))),
        f1(sets.vader, (t) => signClass(naturalScore(t))),
      ],
    },
    {
      name: 'earshot ko-linear',
      texts: 'ko',
      rate: rate(koTexts, seconds, earshotKo),
      quality: [polar(sets.nsmc, (t) => earshotKo(t).score), polar(sets.kote, (t) => earshotKo(t).score)],
    },
    {
      name: 'natural SentimentAnalyzer (afinn)',
      texts: 'ko',
      rate: rate(koTexts, seconds, naturalScore),
      quality: [polar(sets.nsmc, naturalScore), polar(sets.kote, naturalScore)],
    },
  ];
  const natEn = rows[1]?.rate.cpu ?? 1;
  const natKo = rows[3]?.rate.cpu ?? 1;
  process.stdout.write(
    [
      `sentiment benchmark: one core, in-process, models loaded; ${enTexts.length.toLocaleString('en')} English and ${koTexts.length.toLocaleString('en')} Korean dev texts`,
      '',
      '| scorer | texts | texts/s (CPU time) | texts/s (wall) | vs natural (CPU) | en: macro-F1 SemEval dev / VADER dev; ko: polar acc. NSMC dev / KOTE dev |',
      '|---|---|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.name} | ${r.texts} | ${Math.round(r.rate.cpu).toLocaleString('en')} | ${Math.round(r.rate.wall).toLocaleString('en')} | ${(r.rate.cpu / (r.texts === 'en' ? natEn : natKo)).toFixed(2)}x | ${r.quality.join(' / ')} |`,
      ),
      '',
      'target: >= 75,000 texts/s per language (natural cannot read Korean: its Korean rate is for reference only)',
      '',
    ].join('\n'),
  );
}

await main();
