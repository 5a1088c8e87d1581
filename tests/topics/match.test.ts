import { describe, expect, it } from 'vitest';
import {
  compileQuery,
  lookedUp,
  MentionDoc,
  type MentionFields,
  matches,
} from '../../pipeline/topics/match.js';
import { KOREAN_PARTICLES, stems, tokenize } from '../../pipeline/topics/text.js';

const m = (text: string, over: Partial<MentionFields> = {}): MentionFields => ({ text, ...over });

/** [query, text, expected] */
type Row = [string, string, boolean];

function check(rows: Row[]): void {
  for (const [query, text, expected] of rows) {
    expect(matches(query, m(text)), `${query} in ${text}`).toBe(expected);
    // Indexing only the words the query looks up (as scoring does) changes no answer.
    const keyed = new MentionDoc(m(text), undefined, lookedUp(query));
    expect(compileQuery(query)(keyed), `${query} in ${text}, looked-up words only`).toBe(expected);
  }
}

describe('matching: folding', () => {
  it('folds case and width', () => {
    check([
      ['acme', 'ＡＣＭＥ launches a new phone', true],
      ['ＡＣＭＥ', 'I love Acme', true],
      ['Acme', 'ACME!!!', true],
      ['acme', 'acmes are nice', false],
      ['"new phone"', 'Acme launches a NEW　PHONE', true],
    ]);
  });

  it('treats NFD Hangul (decomposed jamo) as the composed syllables', () => {
    const nfd = '삼성전자가 신제품을 공개했다'.normalize('NFD');
    expect(nfd).not.toBe('삼성전자가 신제품을 공개했다');
    expect(matches('삼성전자', m(nfd))).toBe(true);
    expect(matches('삼성전자'.normalize('NFD'), m('삼성전자의 실적'))).toBe(true);
    expect(matches('"신제품 공개"'.normalize('NFD'), m('삼성전자가 신제품을 공개했다'))).toBe(false);
    expect(matches('"신제품을 공개했다"', m(nfd))).toBe(true);
  });

  it('splits on word boundaries, not inside words', () => {
    check([
      ['kt', 'KT의 5G 요금제', true],
      ['kt', 'the market is up', false],
      ['acme', '#Acme, @acme_corp and acme-branded', true],
      ['corp', '@acme_corp', true],
    ]);
  });

  it('matches Chinese and Japanese terms as character sequences', () => {
    check([
      ['三星电子', '三星电子发布了新手机', true],
      ['三星', '三星电子发布了新手机', true],
      ['サムスン', '韓国のサムスン電子が発表', true],
      ['三星电子', '三星物产', false],
    ]);
  });
});

describe('matching: Korean particles', () => {
  // Sentences in the style of Korean business press, with the company name carrying a particle.
  const positives: Row[] = [
    ['삼성전자', '삼성전자가 올해 3분기 영업이익 9조원을 기록했다고 31일 밝혔다.', true],
    ['삼성전자', '삼성전자의 파운드리 사업부는 2나노 공정 양산을 앞당긴다.', true],
    ['삼성전자', '업계에 따르면 삼성전자는 평택 4공장 투자를 재개한다.', true],
    ['삼성전자', '외국인 투자자들이 삼성전자를 닷새 연속 순매수했다.', true],
    ['삼성전자', '삼성전자에서 분사한 스타트업 5곳이 투자를 유치했다.', true],
    ['삼성전자', '애플이 삼성전자와 이미지센서 공급 계약을 맺었다.', true],
    ['삼성전자', '이 부품은 삼성전자로부터 전량 공급받는다.', true],
    ['삼성전자', '국내 반도체 수출 1위는 여전히 삼성전자입니다.', true],
    ['삼성전자', '삼성전자에서는 이번 인사를 두고 세대교체라는 평가가 나온다.', true],
    ['삼성전자', '삼성전자측은 "사실무근"이라고 밝혔다.', true],
    ['삼성전자', '시가총액 1위 기업은 삼성전자였다.', true],
    ['LG전자', 'LG전자가 북미 가전 시장에서 점유율 1위를 지켰다.', true],
    ['LG전자', 'LG전자는 올레드 TV 신제품을 CES에서 공개한다.', true],
    ['LG전자', '증권가는 LG전자의 인도법인 상장에 주목하고 있다.', true],
    ['SK하이닉스', 'SK하이닉스가 HBM4 샘플을 엔비디아에 공급했다.', true],
    ['SK하이닉스', 'HBM 시장에서 SK하이닉스와 마이크론의 격차가 벌어졌다.', true],
    ['SK하이닉스', 'SK하이닉스를 둘러싼 목표주가 상향이 이어진다.', true],
    ['카카오', '카카오가 2분기 실적 발표에서 AI 전략을 공개했다.', true],
    ['카카오', '카카오의 주가는 장중 5% 넘게 올랐다.', true],
    ['카카오', '금융당국은 카카오에 대한 제재 수위를 확정했다.', true],
    ['카카오', '카카오까지도 서비스 장애에 대해 사과했다.', true],
  ];
  const negatives: Row[] = [
    // Different companies whose names merely start with the term.
    ['삼성전자', '삼성전자렌탈이 가전 구독 상품을 내놨다.', false],
    ['삼성전자', '삼성전자서비스 노조가 파업을 예고했다.', false],
    // The group or another affiliate, not the electronics company.
    ['삼성전자', '삼성 라이온즈가 한국시리즈에 진출했다.', false],
    ['삼성전자', '삼성물산이 건설 수주를 늘렸다.', false],
    ['삼성전자', '삼성의 지배구조 개편이 다시 거론된다.', false],
    ['카카오', '카카오톡 선물하기 거래액이 늘었다.', false],
    ['카카오', '카카오뱅크가 주택담보대출 금리를 내렸다.', false],
    ['카카오', '카카오페이의 해외 결제가 늘었다.', false],
    ['SK하이닉스', 'SK텔레콤이 AI 데이터센터를 짓는다.', false],
    ['LG전자', 'LG에너지솔루션이 배터리 공장을 증설한다.', false],
  ];

  it('matches the term followed by particles and copulas in press sentences', () => {
    expect(positives.length).toBeGreaterThanOrEqual(15);
    check(positives);
  });

  it('does not match other words that start with the term', () => {
    check(negatives);
  });

  it('matches a group name against the group but not its affiliates when particles follow', () => {
    check([
      ['삼성', '삼성의 지배구조 개편이 다시 거론된다.', true],
      ['삼성', '삼성은 이날 사장단 인사를 발표했다.', true],
      ['삼성', '삼성전자가 실적을 발표했다.', false],
      ['삼성*', '삼성전자가 실적을 발표했다.', true],
      // Latin prefixes are their own word, so LG and SK find the affiliates too.
      ['LG', 'LG전자가 실적을 발표했다.', true],
      ['SK', 'SK하이닉스가 실적을 발표했다.', true],
    ]);
  });

  it('drops particles glued to Latin words so they never count as words', () => {
    expect(tokenize('acme가 kt의 samsung과 lg전자')).toEqual(['acme', 'kt', 'samsung', 'lg', '전자']);
    check([
      ['acme', 'Acme가 신제품을 냈다', true],
      ['"acme 신제품을"', 'Acme가 신제품을 냈다', true],
      ['acme NEAR/1 냈다', 'Acme가 신제품을 냈다', true],
    ]);
  });

  it('lists the particles it knows', () => {
    for (const p of [
      '가',
      '이',
      '의',
      '는',
      '은',
      '를',
      '을',
      '에서',
      '와',
      '과',
      '로부터',
      '입니다',
      '에서는',
      '였다',
    ]) {
      expect(KOREAN_PARTICLES.has(p), p).toBe(true);
    }
    expect(KOREAN_PARTICLES.has('렌탈')).toBe(false);
    expect(stems('삼성전자에서는')).toEqual(expect.arrayContaining(['삼성전자에서', '삼성전자']));
    expect(stems('acme')).toEqual([]);
  });
});

describe('matching: phrases', () => {
  it('matches token sequences with the particle rule on the last token only', () => {
    check([
      ['"갤럭시 S24"', '삼성전자 갤럭시 S24가 출시됐다', true],
      ['"갤럭시 S24"', '갤럭시S24 울트라 리뷰', true],
      ['"삼성전자 노조"', '삼성전자 노조가 파업에 들어갔다', true],
      ['"삼성전자 노조"', '삼성전자의 노조가 파업에 들어갔다', false],
      ['"삼성전자 노조"', '삼성전자 노조원이 늘었다', false],
      ['"data breach"', 'Acme confirms a data breach', true],
      ['"data breach"', 'data about a breach', false],
      ['LG전자', 'LG 전자 부문이 성장했다', true],
    ]);
  });

  it('never runs a phrase from the title into the text', () => {
    expect(matches('"acme phone"', m('phone launch', { title: 'Acme' }))).toBe(false);
    expect(matches('acme AND launch', m('phone launch', { title: 'Acme' }))).toBe(true);
  });
});

describe('matching: NEAR, wildcard, boolean', () => {
  it('NEAR/n allows at most n tokens between the two sides, in either order', () => {
    check([
      ['acme NEAR/2 breach', 'acme had a breach', true],
      ['acme NEAR/1 breach', 'acme had a breach', false],
      ['acme NEAR/2 breach', 'breach at acme', true],
      ['"data breach" NEAR/3 acme', 'a data breach hit acme yesterday', true],
      ['"data breach" NEAR/1 acme', 'a data breach hit big acme yesterday', false],
      ['삼성전자 NEAR/3 노조', '삼성전자가 오늘 노조와 임금 협상을 타결했다', true],
      ['삼성전자 NEAR/1 노조', '삼성전자가 오늘 최대 노조와 협상했다', false],
      ['acme* NEAR/1 recall', 'acmecorp issues recall', true],
      ['acme NEAR/5 acme', 'acme', false],
    ]);
  });

  it('wildcards match any word starting with the prefix', () => {
    check([
      ['acme*', 'AcmeCorp ships', true],
      ['acme*', 'the acme ships', true],
      ['acme*', 'bigacme ships', false],
      ['하이닉*', 'SK하이닉스의 HBM', true],
    ]);
  });

  it('combines AND, OR, NOT and parentheses', () => {
    check([
      ['acme NOT rental', 'acme phone review', true],
      ['acme NOT rental', 'acme rental deals', false],
      ['(acme OR beta) AND phone', 'beta phone', true],
      ['(acme OR beta) AND phone', 'beta tablet', false],
      ['acme OR beta phone', 'acme tablet', true],
      ['삼성전자 NOT (렌탈 OR 서비스)', '삼성전자가 렌탈 사업을 키운다', false],
      ['삼성전자 NOT (렌탈 OR 서비스)', '삼성전자가 반도체 투자를 늘린다', true],
    ]);
  });

  it('applies lang, source and author filters', () => {
    const doc = m('Acme rocks', { lang: 'en-US', source: 'reddit', authorHandle: '@Alice' });
    expect(matches('acme lang:en', doc)).toBe(true);
    expect(matches('acme lang:ko', doc)).toBe(false);
    expect(matches('acme source:Reddit', doc)).toBe(true);
    expect(matches('acme source:x', doc)).toBe(false);
    expect(matches('acme author:alice', doc)).toBe(true);
    expect(matches('acme author:@ALICE', doc)).toBe(true);
    expect(matches('acme NOT author:alice', doc)).toBe(false);
    expect(matches('acme author:bob', doc)).toBe(false);
    expect(matches('acme lang:en', m('Acme rocks'))).toBe(false);
    expect(matches('acme author:bob', m('Acme', { authorHandle: 'bob@mastodon.social' }))).toBe(true);
  });

  it('compiles once and matches many prepared mentions', () => {
    const matcher = compileQuery('(삼성전자 OR samsung) NOT 렌탈');
    const docs = ['삼성전자가 상승했다', 'Samsung shares rose', '삼성전자 렌탈', '카카오'].map(
      (text) => new MentionDoc({ text }),
    );
    expect(docs.map(matcher)).toEqual([true, true, false, false]);
    expect(matches(matcher, docs[0] as MentionDoc)).toBe(true);
  });
});
