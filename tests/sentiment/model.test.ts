import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../pipeline/errors.js';
import {
  defaultModelsDir,
  LinearSentimentModel,
  loadSentimentModels,
  modelLanguageOf,
  modelPath,
  polarLabel,
} from '../../pipeline/sentiment/index.js';
import { readModel } from '../../pipeline/sentiment/model-file.js';
import { tempDir } from '../helpers/store.js';

// The shipped weights (data/models), trained by `npm run train:sentiment`; the texts are ours.
const models = loadSentimentModels();

describe('shipped English sentiment model', () => {
  const label = (text: string) => models.en.score(text).label;
  const score = (text: string) => models.en.score(text).score;

  it('names its weights', () => {
    expect(models.en.id).toBe('en-linear@4');
    expect(models.en.score('great').model).toBe('en-linear@4');
  });

  it.each([
    'I absolutely love my new phone, the camera is amazing!',
    'Great service today, thank you so much :)',
    'Best concert of my life 😍',
    'Congrats to the whole team, well deserved!',
  ])('positive: %s', (text) => expect(label(text)).toBe('positive'));

  it.each([
    'Worst customer service ever, I hate this company',
    'My laptop broke again after two days. Terrible.',
    'so disappointed with the new update :(',
    'This app keeps crashing and nobody answers my emails 😡',
  ])('negative: %s', (text) => expect(label(text)).toBe('negative'));

  it.each(['The store opens at 9am on Monday.', 'Samsung will announce its quarterly results on Thursday'])(
    'neutral: %s',
    (text) => expect(label(text)).toBe('neutral'),
  );

  it('flips under negation and weakens or strengthens with intensifiers', () => {
    expect(score('the battery life is not good')).toBeLessThan(score('the battery life is good'));
    expect(label("I don't like the new design")).toBe('negative');
    expect(score('the update is really really good')).toBeGreaterThan(score('the update is ok'));
  });

  it("moves a text by VADER's valence of a word AFINN lacks", () => {
    // The same weights without the embedded VADER table: the valence feature is all that differs.
    const file = readModel(modelPath(defaultModelsDir, 'en'));
    expect(file.header.valences?.admirable).toBeGreaterThan(0);
    expect(file.header.lexicon.admirable).toBeUndefined();
    expect(file.header.lexicon.angriest).toBeUndefined();
    const without = new LinearSentimentModel({
      header: { ...file.header, valences: undefined },
      weights: file.weights,
    });
    for (const text of ['the staff were admirable', 'the nurse was admirable today']) {
      expect(score(text)).toBeGreaterThan(without.score(text).score);
    }
    expect(score('the angriest customer I met this week')).toBeLessThan(
      without.score('the angriest customer I met this week').score,
    );
  });

  it('reads emoji, emoticons and stretched words', () => {
    expect(label('😍😍😍')).toBe('positive');
    expect(label('😡')).toBe('negative');
    expect(label(':)')).toBe('positive');
    expect(label(':(')).toBe('negative');
    expect(models.en.score('sooooooo goooood')).toEqual(models.en.score('soo good'));
  });

  it('answers neutral 0 when there is no signal', () => {
    for (const text of ['', '   ', '@acme_support https://t.co/x1Yz'])
      expect(models.en.score(text)).toEqual({ label: 'neutral', score: 0, model: 'en-linear@4' });
  });
});

describe('shipped Korean sentiment model', () => {
  const label = (text: string) => models.ko.score(text).label;
  const score = (text: string) => models.ko.score(text).score;

  it('names its weights', () => expect(models.ko.id).toBe('ko-linear@1'));

  it.each([
    '이 영화 진짜 최고예요 강추합니다',
    '배송도 빠르고 너무 만족해요 ㅎㅎ',
    '완전 웃기고 재밌어요 ㅋㅋㅋㅋ',
    '직원분들이 친절해서 기분 좋았습니다',
  ])('positive: %s', (text) => expect(label(text)).toBe('positive'));

  it.each([
    '최악의 영화. 시간이 아깝다',
    '서비스가 너무 불친절하고 짜증나요 ㅡㅡ',
    '너무 실망했어요 ㅠㅠ 다시는 안 삽니다',
    '배터리가 하루도 안 가요 환불해 주세요',
  ])('negative: %s', (text) => expect(label(text)).toBe('negative'));

  it('reads spacing-free text like spaced text', () => {
    expect(label('정말재미없었다')).toBe('negative');
    expect(label('정말 재미없었다')).toBe('negative');
    expect(label('완전강추합니다최고')).toBe('positive');
    expect(Math.sign(score('정말재미없었다'))).toBe(Math.sign(score('정말 재미 없었다')));
  });

  it('answers neutral 0 when there is no signal', () => {
    expect(models.ko.score('')).toEqual({ label: 'neutral', score: 0, model: 'ko-linear@1' });
  });
});

describe('model choice and the score range', () => {
  it('picks the Korean model for ko only', () => {
    expect(models.forLanguage('ko')).toBe(models.ko);
    expect(models.forLanguage('en')).toBe(models.en);
    expect(models.forLanguage('ja')).toBe(models.en);
    expect(modelLanguageOf('삼성 갤럭시 최고')).toBe('ko');
    expect(modelLanguageOf('Samsung Galaxy 최고')).toBe('en');
    expect(modelLanguageOf('ㅋㅋㅋㅋ lol')).toBe('ko');
    expect(modelLanguageOf('')).toBe('en');
  });

  it('keeps every score in [-1, 1] and the label consistent with --polar', () => {
    const texts = ['\u0000\uffff', '\ud83d', 'a'.repeat(10_000), '😀'.repeat(500), 'ㅋ', '!!!???', '<3 <3'];
    for (const text of texts)
      for (const model of [models.en, models.ko]) {
        const s = model.score(text);
        expect(Math.abs(s.score)).toBeLessThanOrEqual(1);
        expect(polarLabel(s.score)).toBe(s.score < 0 ? 'negative' : 'positive');
      }
  });
});

describe('loading model files', () => {
  const tmp = tempDir('earshot-models-');
  afterAll(tmp.cleanup);
  const load = () => loadSentimentModels(tmp.dir);
  const copyShipped = () => {
    for (const lang of ['en', 'ko'] as const)
      copyFileSync(modelPath(defaultModelsDir, lang), modelPath(tmp.dir, lang));
  };

  it('loads a good copy', () => {
    copyShipped();
    expect(load().en.score('great').label).toBe(models.en.score('great').label);
  });

  it('names the file that is missing', () => {
    const empty = tempDir('earshot-models-');
    try {
      expect(() => loadSentimentModels(empty.dir)).toThrow(UserError);
      expect(() => loadSentimentModels(empty.dir)).toThrow(`${modelPath(empty.dir, 'en')}: cannot read it`);
    } finally {
      empty.cleanup();
    }
  });

  it('refuses a truncated, a corrupted and a foreign file, naming it', () => {
    const ko = modelPath(tmp.dir, 'ko');
    const good = readFileSync(modelPath(defaultModelsDir, 'ko'));
    copyShipped();
    writeFileSync(ko, good.subarray(0, good.length >> 1));
    expect(load).toThrow(`sentiment model ${ko}: corrupt or truncated`);
    const flipped = Buffer.from(good);
    flipped[flipped.length >> 1] = (flipped[flipped.length >> 1] as number) ^ 0x40;
    writeFileSync(ko, flipped);
    expect(load).toThrow(`sentiment model ${ko}: corrupt or truncated (checksum mismatch)`);
    writeFileSync(ko, 'not a model at all\n');
    expect(load).toThrow(`sentiment model ${ko}: not a sentiment model file`);
    writeFileSync(ko, '');
    expect(load).toThrow(UserError);
  });
});
