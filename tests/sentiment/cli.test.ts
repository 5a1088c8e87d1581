import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSentimentModels } from '../../pipeline/sentiment/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/store.js';

// Through the built CLI (dist/pipeline/cli.js), with a config and database path that do not exist:
// the command must need neither.
const tmp = tempDir('earshot-sentiment-cli-');
afterAll(tmp.cleanup);
const env = { EARSHOT_CONFIG: join(tmp.dir, 'none.yaml'), EARSHOT_DB: join(tmp.dir, 'no', 'such.duckdb') };
const sentiment = (args: string[], input: string) => runCli(['sentiment', ...args], env, 60_000, input);
const models = loadSentimentModels();
const LINE = /^(positive|negative|neutral)\t-?[01]\.\d{4}$/;
/** The CLI's 4 decimals, where a score that rounds to zero is never -0.0000. */
const fmt = (score: number) => (score.toFixed(4) === '-0.0000' ? '0.0000' : score.toFixed(4));

describe('earshot sentiment (stdin -> stdout)', () => {
  it('writes one label<TAB>score line per input line, in order, and nothing else', async () => {
    const texts = [
      'I love this phone!',
      '최악의 서비스 ㅡㅡ',
      '',
      'Terrible update, everything broke',
      '정말 최고예요 ㅋㅋ',
    ];
    const input = `\ufeff${texts[0]}\r\n${texts.slice(1).join('\n')}\n`;
    const r = await sentiment([], input);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(texts.length);
    for (const line of lines) expect(line).toMatch(LINE);
    expect(lines[2]).toBe('neutral\t0.0000');
    // auto: Hangul lines go to the Korean model, the rest to the English one; BOM and CR are not text.
    const expected = [models.en, models.ko, null, models.en, models.ko].map((m, i) => {
      if (m === null) return 'neutral\t0.0000';
      const s = m.score(texts[i] as string);
      return `${s.label}\t${fmt(s.score)}`;
    });
    expect(lines).toEqual(expected);
    expect(lines[0]?.startsWith('positive')).toBe(true);
    expect(lines[1]?.startsWith('negative')).toBe(true);
  });

  it('scores the last line without a newline, and nothing for empty input', async () => {
    expect((await sentiment([], 'great\nawful')).stdout.split('\n')).toHaveLength(3);
    const empty = await sentiment([], '');
    expect(empty).toMatchObject({ code: 0, stdout: '' });
  });

  it('--lang forces one model for every line', async () => {
    const r = await sentiment(['--lang', 'ko'], 'I love this phone!\n');
    const s = models.ko.score('I love this phone!');
    expect(r.stdout).toBe(`${s.label}\t${fmt(s.score)}\n`);
  });

  it('--polar never answers neutral: the sign of the score decides', async () => {
    const texts = ['The store opens at 9am on Monday.', '', 'great', 'awful', '@acme https://t.co/x'];
    const r = await sentiment(['--polar'], `${texts.join('\n')}\n`);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(texts.length);
    for (const line of lines) {
      const [label, score] = line.split('\t');
      expect(label).not.toBe('neutral');
      expect(label).toBe(Number(score) < 0 ? 'negative' : 'positive');
    }
  });

  it('streams a large input in order', async () => {
    const texts = Array.from({ length: 30_000 }, (_, i) =>
      i % 2 ? `great day number ${i}` : `망했다 ${i} ㅠㅠ`,
    );
    const r = await sentiment(['--polar'], `${texts.join('\n')}\n`);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(texts.length);
    lines.forEach((line, i) => {
      const s = (i % 2 ? models.en : models.ko).score(texts[i] as string);
      expect(line).toBe(`${s.score < 0 ? 'negative' : 'positive'}\t${fmt(s.score)}`);
    });
  });

  it('exits 2 with a message on stderr for a bad flag', async () => {
    const bad = await sentiment(['--lang', 'fr'], 'hello\n');
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain("argument 'fr' is invalid");
    const unknown = await sentiment(['--bogus'], 'hello\n');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--bogus');
  });
});
