/**
 * The demo's fictional world: a smart-home appliance maker, three competitors, the outlets and
 * channels that talk about them, and the sentences people write. Every name here is invented
 * (web addresses use the reserved .example top-level domain) so the demo never shows a real brand.
 */

export type Lang = 'en' | 'ko';
export type Mood = 'positive' | 'negative' | 'neutral';

export interface Brand {
  /** Topic id. */
  id: string;
  en: string;
  ko: string;
  /** Flagship products, English and Korean. */
  products: readonly (readonly [en: string, ko: string])[];
  /** Mentions per day on a quiet weekday, before the diurnal and weekly rhythm. */
  perDay: number;
  /** Share of its mentions in Korean. */
  korean: number;
  /** Chance of positive and negative in ordinary times (the rest is neutral). */
  positive: number;
  negative: number;
}

export const COMPARISON_SET = 'home-appliances';

export const BRANDS: readonly Brand[] = [
  {
    id: 'velnora',
    en: 'Velnora',
    ko: '벨노라',
    products: [
      ['Velnora Aero 2', '벨노라 에어로2'],
      ['Velnora Glide robot vacuum', '벨노라 글라이드 로봇청소기'],
      ['Velnora Home app', '벨노라 홈 앱'],
    ],
    perDay: 150,
    korean: 0.55,
    positive: 0.42,
    negative: 0.2,
  },
  {
    id: 'quorix',
    en: 'Quorix',
    ko: '쿼릭스',
    products: [
      ['Quorix Pure', '쿼릭스 퓨어'],
      ['Quorix S9 vacuum', '쿼릭스 S9 청소기'],
    ],
    perDay: 85,
    korean: 0.45,
    positive: 0.38,
    negative: 0.22,
  },
  {
    id: 'brisko',
    en: 'Brisko',
    ko: '브리스코',
    products: [
      ['Brisko Clean Max', '브리스코 클린맥스'],
      ['Brisko Breeze fan', '브리스코 브리즈 선풍기'],
    ],
    perDay: 60,
    korean: 0.6,
    positive: 0.35,
    negative: 0.25,
  },
  {
    id: 'kestrum',
    en: 'Kestrum',
    ko: '케스트럼',
    products: [
      ['Kestrum Air One', '케스트럼 에어원'],
      ['Kestrum Hub', '케스트럼 허브'],
    ],
    perDay: 40,
    korean: 0.35,
    positive: 0.4,
    negative: 0.18,
  },
];

/**
 * Boolean queries as a comms analyst would write them: Korean names match with their particles
 * (벨노라가, 케스트럼은), a namesake hotel is excluded, product names count for their brand.
 */
export const QUERIES: Readonly<Record<string, string>> = {
  velnora: '(Velnora OR 벨노라 OR "Aero 2" OR 에어로2) NOT (hotel OR 호텔)',
  quorix: 'Quorix OR 쿼릭스',
  brisko: 'Brisko OR 브리스코 OR 클린맥스',
  kestrum: '(Kestrum OR 케스트럼) NOT lang:ja',
};

/** The crisis: a burning smell from one product's filters, a few days before "now". */
export const CRISIS = { brand: 'velnora', product: 0 } as const;

/** Korean particle pairs chosen by whether the word ends in a final consonant (받침). */
const PARTICLES = {
  이: ['이', '가'],
  은: ['은', '는'],
  을: ['을', '를'],
  과: ['과', '와'],
  으로: ['으로', '로'],
  이랑: ['이랑', '랑'],
};
export type Particle = keyof typeof PARTICLES;

export function withParticle(word: string, particle: Particle): string {
  const last = word.charCodeAt(word.length - 1);
  const hangul = last >= 0xac00 && last <= 0xd7a3;
  // No final consonant (or a final ㄹ before 으로) takes the second form.
  const finalConsonant = hangul ? (last - 0xac00) % 28 : 0;
  const vowelForm = finalConsonant === 0 || (particle === '으로' && finalConsonant === 8);
  const [consonantForm, vowel] = PARTICLES[particle];
  return word + (vowelForm ? vowel : consonantForm);
}

/**
 * Sentences by language and mood. Slots: {b} brand, {p} product, {c} a competitor, {f} a feature;
 * Korean slots carry their particle: {b은}, {p이랑}, {c이} (이 은 을 과 으로 이랑).
 */
export const POSTS: Readonly<Record<Lang, Readonly<Record<Mood, readonly string[]>>>> = {
  en: {
    positive: [
      'Really impressed with the {p}, the {f} is excellent and it is so quiet at night',
      'Switched from {c} to {b} last month and honestly love it. Great {f}',
      'The {p} just works. Best purchase this year, highly recommend',
      '{b} support fixed my issue in ten minutes. Fantastic service',
      'My allergies are so much better since the {p} arrived. Thank you {b}!',
      'Love how the {f} on the {p} handles everything. Smart and simple',
      'Honest review: the {p} beats {c} on {f}. Worth every penny',
      'The new {b} update made the {f} even better, nice work',
      'Got the {p} on sale and I am very happy with it',
      'Amazing value, the {p} is beautiful and the {f} is great',
    ],
    negative: [
      'The {p} stopped working after two weeks. Terrible {f}, very disappointed',
      'Waited 40 minutes for {b} support and nobody answered. Awful',
      'Returning my {p}. The {f} is broken and the app keeps crashing',
      'Why is the {p} so loud? Worst {f} I have had, regret buying it',
      '{b} raised prices again and the quality got worse. Not happy',
      'The {p} app lost my settings again. Frustrating and useless',
      'Do not buy the {p}, the {f} failed and {b} refused a refund',
      'Disappointed with the {f} on my {p}, {c} was better',
    ],
    neutral: [
      'Has anyone compared the {p} with {c}? Looking at the {f}',
      '{b} announced a new version of the {p} for next month',
      'Thinking about the {p} or a {c} model. Which {f} is better for a small flat?',
      'The {p} is on the list for our new apartment, checking the {f} specs',
      'Does the {p} work with other smart home hubs?',
      '{b} posted the filter replacement schedule for the {p}',
      'Reading the {p} manual to set up the {f}',
      'Where do you buy replacement filters for the {p}?',
    ],
  },
  ko: {
    positive: [
      '{p} 써보니까 진짜 조용하고 {f} 최고예요 ㅋㅋ',
      '{c}에서 {b으로} 갈아탔는데 완전 만족합니다',
      '{b} 고객센터 친절하고 빠르네요 감동 ㅠㅠ',
      '{p} 들이고 나서 비염이 많이 좋아졌어요 강추',
      '{p} {f} 진짜 좋아요 ㅎㅎ 돈 아깝지 않음',
      '{b} 업데이트 후에 {f} 더 좋아졌네요 만족',
      '솔직 후기: {p이} {c}보다 {f} 훨씬 좋아요',
      '{p} 디자인도 예쁘고 성능도 좋아서 대만족 ㅋㅋㅋ',
      '부모님 댁에 {p} 선물했는데 너무 좋아하세요',
      '{b은} 역시 믿고 쓰는 브랜드 👍',
    ],
    negative: [
      '{p} 2주 만에 고장났어요 ㅠㅠ 너무 실망입니다',
      '{b} 고객센터 전화 연결이 안 돼요 최악',
      '{p} 소음 너무 심하고 {f} 별로예요 환불하고 싶다',
      '{b} 앱 또 오류... 진짜 짜증나요',
      '{p} 샀다가 후회 중 ㅠㅠ {c이} 나았음',
      '{b} 가격만 올리고 품질은 떨어졌네요 실망',
      '{p} {f} 불량인데 교환도 안 해준대요 황당',
      '{b} 서비스 정말 별로예요 다시는 안 삼',
    ],
    neutral: [
      '{p이랑} {c} 중에 뭐가 나아요? {f} 비교해보신 분 계신가요 감사합니다',
      '{b} 다음 달에 {p} 신모델 나온대요 기대됩니다',
      '{p} 필터 교체 주기 아시는 분 알려주시면 감사하겠습니다',
      '이사 가면서 {p} 살까 고민 중입니다 추천 부탁드려요',
      '{p} 다른 스마트홈 허브랑 연동되나요? 알려주세요 ㅎㅎ',
      '{b} 매장 가서 {p} 구경하고 왔어요 ㅎㅎ',
      '{p} {f} 설정하는 방법 아시는 분?',
      '{b} 공식몰에서 {p} 할인 중이네요',
      '{p} 배송 언제 오나요 기다리는 중',
    ],
  },
};

/** The crisis, in words: first reports, anger, then the company's answer. */
export const CRISIS_POSTS: Readonly<Record<Lang, readonly string[]>> = {
  en: [
    'My {p} smells like burning plastic. Unplugged it immediately, this is scary and unacceptable',
    'Anyone else getting a burning smell from the {p} filter? Mine is smoking. Terrible',
    "{b} this is dangerous. The {p} overheated in my kid's room, awful",
    'Terrible. The {p} filter melted and {b} support will not answer',
    'Stop using the {p} now, burning smell and overheating reports everywhere. Worst product',
    'Furious with {b}. My {p} overheated and nobody takes responsibility',
    'Is {b} going to recall the {p}? Mine smells burnt and I am worried. Very disappointed',
    'Awful experience, the {p} filter was scorched. Demanding a refund from {b}',
  ],
  ko: [
    '{p}에서 타는 냄새 나요 ㅠㅠ 바로 껐어요 무섭다',
    '{p} 필터 녹았어요... {b} 이거 리콜해야 하는 거 아님?',
    '{b} 제품 과열 문제 심각하네요 아이 방에 뒀는데 ㅠㅠ',
    '{p} 쓰시는 분들 당장 전원 끄세요 타는 냄새 난대요',
    '{b} 고객센터 연결도 안 되고 최악입니다 화나요',
    '{p} 과열 때문에 불날 뻔 했어요 너무 화가 납니다',
    '{b은} 사과부터 하세요 {p} 필터 타는 거 실화냐',
    '{p} 환불 요청했는데 답이 없네요 진짜 실망',
  ],
};

export const CRISIS_HEADLINES: Readonly<Record<Lang, readonly string[]>> = {
  en: [
    'Owners report burning smell from {p} filters as complaints mount',
    '{b} investigates overheating reports about the {p}',
    '{b} offers free filter replacement after {p} overheating complaints',
  ],
  ko: [
    '{p} 필터 타는 냄새 신고 잇따라… 소비자 불만 확산',
    '{p} 과열 논란… 원인 조사 착수',
    '{p} 필터 무상 교체 결정',
  ],
};

/** News and blog headlines for ordinary days. */
export const HEADLINES: Readonly<Record<Lang, Readonly<Record<Mood, readonly string[]>>>> = {
  en: {
    positive: [
      '{p} review: quiet, smart and a strong {f}',
      '{b} posts record quarter as {p} sales climb',
      'Why the {p} is our favourite home gadget this season',
    ],
    negative: [
      '{b} faces complaints over {p} app outages',
      'Our {p} review: a weak {f} holds it back',
      '{b} price rise draws criticism from long-time customers',
    ],
    neutral: [
      '{b} announces the {p} with a new {f}',
      '{p} versus {c}: how the {f} compares',
      '{b} to open a service centre in Busan next spring',
    ],
  },
  ko: {
    positive: [
      '{p} 사용기: 조용하고 똑똑한 {f}',
      '{p} 판매 호조… 분기 최대 실적',
      '올겨울 인기 가전 {p}, 소비자 만족도 1위',
    ],
    negative: ['{p} 앱 장애에 소비자 불만', '{p} 리뷰: 아쉬운 {f}', '{b} 가격 인상에 소비자 반발'],
    neutral: ['{f} 강화한 {p} 공개', '{p과} {c} 비교: {f} 차이는', '{b}, 내년 봄 부산 서비스센터 연다'],
  },
};

export const FEATURES: Readonly<Record<Lang, readonly string[]>> = {
  en: [
    'air quality sensor',
    'night mode',
    'filter life',
    'suction',
    'battery',
    'app',
    'auto mode',
    'noise level',
  ],
  ko: ['공기질 센서', '수면 모드', '필터 수명', '흡입력', '배터리', '앱', '자동 모드', '소음'],
};

/** A namesake the Velnora query excludes: a hotel that shares the name. */
export const NAMESAKE: Readonly<Record<Lang, readonly string[]>> = {
  en: [
    'Lovely stay at the Velnora Hotel in Lisbon, great breakfast',
    'Booked the Velnora hotel for our anniversary weekend',
  ],
  ko: ['리스본 벨노라 호텔 조식 맛있어요', '벨노라 호텔 수영장 좋네요'],
};

/** News outlets; `feed: false` is found through Naver news only. */
export const OUTLETS: readonly { name: string; host: string; lang: Lang; feed: boolean }[] = [
  { name: 'Gadget Ledger', host: 'gadgetledger.example', lang: 'en', feed: true },
  { name: 'Home Tech Weekly', host: 'hometechweekly.example', lang: 'en', feed: true },
  { name: 'The Appliance Desk', host: 'appliancedesk.example', lang: 'en', feed: true },
  { name: '서울테크뉴스', host: 'seoultechnews.example', lang: 'ko', feed: true },
  { name: '디지털가전일보', host: 'digitalgajeon.example', lang: 'ko', feed: true },
  { name: '리빙경제', host: 'livingecon.example', lang: 'ko', feed: false },
];

export const SUBREDDITS = ['HomeImprovement', 'AirPurifiers', 'gadgets', 'SmartHome', 'korea'];
export const MASTODON_INSTANCES = ['mastodon.example', 'social.example', 'tech.example'];
export const YOUTUBE_VIDEOS = ['vLn0rAaero2', 'qRx9PureRev', 'bRsk0MaxTst', 'kSTrmAir1uX', 'hMeTechTop5'];
export const NAVER_CAFES = ['가전주부', '스마트홈 클럽', '육아맘 카페'];

/** Syllables that make believable Korean nicknames; English nicknames from word parts. */
export const NICK_KO = [
  '하늘',
  '별빛',
  '초코',
  '민트',
  '구름',
  '달빛',
  '소금',
  '보리',
  '라떼',
  '모카',
  '콩이',
  '뭉치',
];
export const NICK_EN = [
  'quiet',
  'home',
  'tech',
  'dust',
  'clean',
  'maple',
  'river',
  'pixel',
  'north',
  'cozy',
  'urban',
  'amber',
];

/** Opinion leaders: the few accounts with a large audience, by source. */
export const LEADERS: readonly {
  source: string;
  handle: string;
  name: string;
  followers: number;
  lang: Lang;
}[] = [
  { source: 'x', handle: 'homegadgetguru', name: 'Home Gadget Guru', followers: 412_000, lang: 'en' },
  { source: 'x', handle: 'gajeon_review', name: '가전리뷰왕', followers: 268_000, lang: 'ko' },
  { source: 'youtube', handle: 'TechTidyTV', name: 'Tech Tidy TV', followers: 1_150_000, lang: 'en' },
  { source: 'youtube', handle: 'salimking', name: '살림킹', followers: 730_000, lang: 'ko' },
  {
    source: 'bluesky',
    handle: 'cleanairnerd.bsky.social',
    name: 'Clean Air Nerd',
    followers: 58_000,
    lang: 'en',
  },
  {
    source: 'mastodon',
    handle: 'airquality@tech.example',
    name: 'Air Quality Lab',
    followers: 21_000,
    lang: 'en',
  },
];
