import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { loadSentimentModels, modelLanguageOf, polarLabel, type SentimentModels } from './index.js';

export interface SentimentCommandOptions {
  lang: 'en' | 'ko' | 'auto';
  polar: boolean;
}

const FLUSH_AT = 64 * 1024;

/** "0.1234"; a score that rounds to zero prints as 0.0000, never -0.0000. */
function formatScore(score: number): string {
  const text = score.toFixed(4);
  return text === '-0.0000' ? '0.0000' : text;
}

/**
 * `earshot sentiment`: one `label<TAB>score` line per input line, in order, and nothing else.
 * Streams: reads stdin as it comes, writes in 64 KB blocks and waits when stdout is full, so any
 * input size runs in constant memory. A BOM and a CR are stripped from each line; an empty line is
 * neutral 0 (with --polar, positive 0: --polar never answers neutral).
 */
export async function scoreLines(
  models: SentimentModels,
  opts: SentimentCommandOptions,
  input: Readable,
  output: Writable,
): Promise<void> {
  const fixed = opts.lang === 'auto' ? null : models.forLanguage(opts.lang);
  let pending = '';
  let carry = '';
  const scoreLine = (raw: string) => {
    let line = raw;
    if (line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    if (line.charCodeAt(line.length - 1) === 0x0d) line = line.slice(0, -1);
    if (line === '') {
      pending += opts.polar ? 'positive\t0.0000\n' : 'neutral\t0.0000\n';
      return;
    }
    const s = (fixed ?? models.forLanguage(modelLanguageOf(line))).score(line);
    pending += `${opts.polar ? polarLabel(s.score) : s.label}\t${formatScore(s.score)}\n`;
  };
  const flush = async () => {
    const text = pending;
    pending = '';
    if (!output.write(text)) await once(output, 'drain');
  };
  input.setEncoding('utf8');
  for await (const chunk of input as AsyncIterable<string>) {
    let start = 0;
    const text = carry + chunk;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      scoreLine(text.slice(start, nl));
      start = nl + 1;
    }
    carry = text.slice(start);
    if (pending.length >= FLUSH_AT) await flush();
  }
  if (carry !== '') scoreLine(carry);
  if (pending !== '') await flush();
}

export async function sentimentCommand(opts: SentimentCommandOptions): Promise<void> {
  const models = loadSentimentModels();
  // A reader that stops early (`| head`) closes the pipe: that ends the job, it is not a failure.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  await scoreLines(models, opts, process.stdin, process.stdout);
}
