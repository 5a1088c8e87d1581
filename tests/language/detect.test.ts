import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  detectLanguage,
  LANGS,
  type Lang,
  languageOfTag,
  resolveLanguage,
} from '../../pipeline/language/detect.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/language');

describe('detectLanguage', () => {
  const cases: [string, Lang][] = [
    // Plain tweet-length text.
    ['오늘 출시된 갤럭시 카메라 진짜 좋네요', 'ko'],
    ['The new update finally fixed the battery drain', 'en'],
    ['新しいアップデートでバッテリーの減りが直った', 'ja'],
    ['新的更新终于修好了耗电问题', 'zh'],
    ['這次更新終於修好了耗電問題', 'zh'],
    ['Das neue Update hat endlich das Akkuproblem behoben', 'other'],
    ['La nouvelle mise à jour a enfin réglé le problème de batterie', 'other'],
    ['La nueva actualización por fin arregló la batería', 'other'],
    ['Новое обновление наконец исправило батарею', 'other'],
    // Kanji-only Japanese against Chinese: no kana, the n-grams decide.
    ['東京都庁舎', 'ja'],
    ['天気予報', 'ja'],
    ['明日天気', 'ja'],
    ['我今天很高兴', 'zh'],
    ['价格便宜', 'zh'],
    // Korean with English brand names, Japanese with Latin words.
    ['삼성 Galaxy S25 출시', 'ko'],
    ['LG전자 OLED TV 신제품 화질 대박', 'ko'],
    ['iPhone 16の新機能がすごい', 'ja'],
    ['Caps Lock を追加の Num Lock にする', 'ja'],
    ['Samsung 갤럭시 is the best phone I have ever had', 'en'],
    // Korean chat: jamo only, spacing-free.
    ['ㅋㅋㅋㅋㅋ', 'ko'],
    ['ㅠㅠ배송언제와요진짜', 'ko'],
    // Romanised Korean/Japanese/Chinese is not in its own script: other, and not English.
    ['annyeonghaseyo saranghae', 'other'],
    ['arigatou gozaimasu', 'other'],
    ['wo ai ni zhongguo', 'other'],
    // No language evidence at all.
    ['', 'other'],
    ['   ', 'other'],
    ['😂😂😂🔥', 'other'],
    ['👍🏽❤️🇰🇷', 'other'],
    ['https://t.co/AbC123 https://example.com/a?b=c', 'other'],
    ['@samsung_kr @lg_global', 'other'],
    ['12345 !!! ???', 'other'],
  ];
  it.each(cases)('%s -> %s', (text, expected) => {
    expect(detectLanguage(text)).toBe(expected);
  });

  it('ignores handles, URLs, hashtag marks and emoji around the words', () => {
    // Many Latin letters in handles and URLs would outweigh the Hangul if they counted.
    expect(
      detectLanguage(
        '@samsung_electronics_official @galaxy_support_team 배송 언제 와요 https://t.co/abcdefghij',
      ),
    ).toBe('ko');
    expect(detectLanguage('@sony_jp_official_account https://example.com/very/long/path 新作いいね')).toBe(
      'ja',
    );
    // The hashtag's word is kept: it is language.
    expect(detectLanguage('#오늘의날씨 #맑음')).toBe('ko');
    expect(detectLanguage('Love the new phone 😍😍 #galaxy @samsung https://t.co/x')).toBe('en');
  });
});

describe('languageOfTag', () => {
  const tags: [string | null | undefined, Lang | null][] = [
    ['ko', 'ko'],
    ['ko-KR', 'ko'],
    ['KOR', 'ko'],
    ['en', 'en'],
    ['en-US', 'en'],
    ['en_GB', 'en'],
    [' en ', 'en'],
    ['ja', 'ja'],
    ['ja-JP', 'ja'],
    ['zh', 'zh'],
    ['zh-Hant', 'zh'],
    ['zh-Hans-CN', 'zh'],
    ['zh-TW', 'zh'],
    ['cmn', 'zh'],
    ['de', 'other'],
    ['pt-BR', 'other'],
    ['es-419', 'other'],
    ['in', 'other'],
    ['und', null],
    ['zxx', null],
    ['qme', null],
    ['qht', null],
    ['', null],
    [null, null],
    [undefined, null],
    ['english', null],
    ['e', null],
    ['ko KR', null],
  ];
  it.each(tags)('%s -> %s', (tag, expected) => {
    expect(languageOfTag(tag)).toBe(expected);
  });
});

describe('resolveLanguage', () => {
  it('trusts a usable platform tag, even where detection would say otherwise', () => {
    expect(resolveLanguage('en', 'Samsung Galaxy S25')).toEqual({ lang: 'en', origin: 'platform' });
    expect(resolveLanguage('ja', '本日休業')).toEqual({ lang: 'ja', origin: 'platform' });
    expect(resolveLanguage('zh-Hant', '東京都庁舎')).toEqual({ lang: 'zh', origin: 'platform' });
    expect(resolveLanguage('de', 'Das ist gut')).toEqual({ lang: 'other', origin: 'platform' });
    expect(resolveLanguage('ko', 'ㅋㅋ')).toEqual({ lang: 'ko', origin: 'platform' });
  });

  it('detects when the tag is missing or says nothing', () => {
    expect(resolveLanguage(null, '배송이 너무 늦어요')).toEqual({ lang: 'ko', origin: 'detected' });
    expect(resolveLanguage(undefined, 'The delivery is late again')).toEqual({
      lang: 'en',
      origin: 'detected',
    });
    expect(resolveLanguage('und', '新しいアップデートが来た')).toEqual({ lang: 'ja', origin: 'detected' });
    expect(resolveLanguage('qme', 'https://t.co/x')).toEqual({ lang: 'other', origin: 'detected' });
    expect(resolveLanguage('not a tag!', '新的更新终于来了')).toEqual({ lang: 'zh', origin: 'detected' });
  });

  it('lets an overwhelming script overrule a tag whose language is not written in it', () => {
    expect(resolveLanguage('en', '오늘 배송 온다더니 아직도 안 왔어요')).toEqual({
      lang: 'ko',
      origin: 'detected',
    });
    expect(resolveLanguage('ko', 'The delivery was supposed to arrive today')).toEqual({
      lang: 'en',
      origin: 'detected',
    });
    expect(resolveLanguage('zh', '新しいアップデートが来た')).toEqual({ lang: 'ja', origin: 'detected' });
    expect(resolveLanguage('ja', 'Новое обновление вышло сегодня')).toEqual({
      lang: 'other',
      origin: 'detected',
    });
    expect(resolveLanguage('de', '오늘 배송 온다더니 아직도 안 왔어요')).toEqual({
      lang: 'ko',
      origin: 'detected',
    });
  });

  it('keeps the tag when the text is mixed or too short to overrule it', () => {
    expect(resolveLanguage('en', 'I love 김치')).toEqual({ lang: 'en', origin: 'platform' });
    expect(resolveLanguage('ko', '삼성 Galaxy S25 출시')).toEqual({ lang: 'ko', origin: 'platform' });
    expect(resolveLanguage('en', '좋아요')).toEqual({ lang: 'en', origin: 'platform' });
  });
});

describe('accuracy on the committed sample', () => {
  // Measured on these files when the detector was written: ko 100, en 100, ja 100, zh 99.5,
  // other 100 (%). The floors leave room for a library patch release, not for a regression.
  const FLOOR: Record<Lang, number> = { ko: 0.98, en: 0.97, ja: 0.98, zh: 0.97, other: 0.97 };
  const sample = (lang: Lang) =>
    readFileSync(join(FIXTURES, `${lang}.txt`), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '');

  it.each(LANGS.map((l) => [l]))('%s is detected above its floor', (lang) => {
    const texts = sample(lang);
    expect(texts.length).toBeGreaterThanOrEqual(200);
    const wrong = texts.filter((t) => detectLanguage(t) !== lang);
    const accuracy = 1 - wrong.length / texts.length;
    expect(accuracy, `misdetected: ${wrong.slice(0, 10).join(' | ')}`).toBeGreaterThanOrEqual(FLOOR[lang]);
  });

  it('exports the labels in a fixed order', () => {
    expect(LANGS).toEqual(['ko', 'en', 'ja', 'zh', 'other']);
  });
});
