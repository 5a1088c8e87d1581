import type { MentionRecord } from '../../collectors/contract.js';
import {
  BRANDS,
  type Brand,
  CRISIS,
  CRISIS_HEADLINES,
  CRISIS_POSTS,
  FEATURES,
  HEADLINES,
  type Lang,
  LEADERS,
  MASTODON_INSTANCES,
  type Mood,
  NAMESAKE,
  NAVER_CAFES,
  NICK_EN,
  NICK_KO,
  OUTLETS,
  type Particle,
  POSTS,
  SUBREDDITS,
  withParticle,
  YOUTUBE_VIDEOS,
} from './world.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
export const DEMO_DAYS = 90;

/** One generated mention and the partition (query, feed, tag, video) a collector would find it in. */
export interface DemoMention {
  source: string;
  partition: string;
  record: MentionRecord;
}

type Rng = () => number;
const pick = <T>(rnd: Rng, list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;

function poisson(rnd: Rng, lambda: number): number {
  // Knuth's method; the demo's hourly rates are small.
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = rnd();
  while (p > limit) {
    k++;
    p *= rnd();
  }
  return k;
}

function gaussian(rnd: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
}

/** People post more in the local afternoon and evening than at night (weights per local hour). */
const DIURNAL = [
  0.35, 0.22, 0.15, 0.1, 0.1, 0.15, 0.3, 0.55, 0.8, 1, 1.1, 1.2, 1.3, 1.2, 1.1, 1.1, 1.15, 1.2, 1.3, 1.4, 1.5,
  1.4, 1, 0.6,
];
const DIURNAL_MEAN = DIURNAL.reduce((a, b) => a + b, 0) / 24;
/** Korean readers live on Seoul time (UTC+9); the English conversation is mostly American (UTC-5). */
const UTC_OFFSET: Record<Lang, number> = { ko: 9, en: -5 };

/** Where each language's mentions are found, with weights. */
const SOURCES: Record<Lang, readonly (readonly [string, number])[]> = {
  ko: [
    ['naver', 0.34],
    ['x', 0.27],
    ['youtube', 0.16],
    ['rss', 0.06],
    ['mastodon', 0.04],
    ['bluesky', 0.05],
    ['reddit', 0.04],
    ['hackernews', 0.0],
  ],
  en: [
    ['x', 0.28],
    ['reddit', 0.16],
    ['youtube', 0.14],
    ['bluesky', 0.14],
    ['mastodon', 0.09],
    ['rss', 0.09],
    ['hackernews', 0.1],
  ],
};

interface Author {
  id: string;
  handle: string;
  name: string;
  followers: number | null;
  /** Relative activity: a few people write most posts. */
  weight: number;
  /** New voices start writing in the last days only. */
  since: number;
}

/** Authors of one source and language, picked by activity (cumulative weights). */
class AuthorPool {
  readonly authors: Author[] = [];
  #cumulative: number[] = [];
  add(a: Author): void {
    this.authors.push(a);
    this.#cumulative.push((this.#cumulative.at(-1) ?? 0) + a.weight);
  }
  pick(rnd: Rng, at: number): Author {
    const total = this.#cumulative.at(-1) ?? 0;
    for (;;) {
      const r = rnd() * total;
      let lo = 0;
      let hi = this.#cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((this.#cumulative[mid] as number) < r) lo = mid + 1;
        else hi = mid;
      }
      const a = this.authors[lo] as Author;
      if (a.since <= at) return a;
    }
  }
}

const FOLLOWED = new Set(['x', 'mastodon', 'bluesky']);

function makePools(rnd: Rng, start: number, now: number): Map<string, AuthorPool> {
  const pools = new Map<string, AuthorPool>();
  const sizes: Record<string, number> = {
    x: 900,
    naver: 700,
    youtube: 600,
    bluesky: 350,
    reddit: 450,
    mastodon: 250,
    hackernews: 250,
    rss: 40,
  };
  for (const lang of ['en', 'ko'] as const) {
    for (const [source, size] of Object.entries(sizes)) {
      const pool = new AuthorPool();
      for (let i = 0; i < size; i++) {
        const nick = lang === 'ko' ? `${pick(rnd, NICK_KO)}${pick(rnd, NICK_KO)}` : pick(rnd, NICK_EN);
        const handle =
          lang === 'ko'
            ? `${['haneul', 'byeol', 'choco', 'mint', 'gureum', 'dal', 'bori', 'latte'][i % 8]}_${i}${lang}`
            : `${nick}${pick(rnd, NICK_EN)}${i}`;
        // 7% are new voices: their first mention is in the last ten days.
        const since = rnd() < 0.07 ? now - rnd() * 10 * DAY : start;
        pool.add({
          id: `${source}-${lang}-${i}`,
          handle: source === 'bluesky' ? `${handle}.bsky.social` : handle,
          name: source === 'rss' ? (lang === 'ko' ? `${nick} 기자` : `${capital(nick)} Reporter ${i}`) : nick,
          // Log-normal audiences: a median of ~150 followers, a long tail.
          followers: FOLLOWED.has(source) ? Math.round(Math.exp(5 + 1.6 * gaussian(rnd))) : null,
          weight: 1 / (1 + i) ** 0.8,
          since,
        });
      }
      pools.set(`${source}:${lang}`, pool);
    }
  }
  for (const l of LEADERS) {
    pools.get(`${l.source}:${l.lang}`)?.add({
      id: `${l.source}-leader-${l.handle}`,
      handle: l.handle,
      name: l.name,
      followers: FOLLOWED.has(l.source) ? l.followers : null,
      weight: 0.6,
      since: start,
    });
  }
  return pools;
}

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Fills a template's slots; Korean slots like {b은} or {p이랑} get the right particle form. */
export function fill(template: string, slots: { b: string; p: string; c: string; f: string }): string {
  return template.replace(/\{([bpcf])([^}]*)\}/g, (_, key: 'b' | 'p' | 'c' | 'f', particle: string) =>
    particle ? withParticle(slots[key], particle as Particle) : slots[key],
  );
}

const OPENERS: Record<Lang, readonly string[]> = {
  en: ['', '', '', 'Honestly, ', 'Ok so ', 'PSA: ', 'Update: ', 'Day 3 with it. ', 'Quick note: '],
  ko: ['', '', '', '아 ', '와 ', '진짜 ', '오늘 ', '솔직히 ', '후기) '],
};
const TAILS: Record<Lang, Record<Mood, readonly string[]>> = {
  en: {
    positive: ['', '', ' 😊', ' 👍', ' Would buy again.', ' #smarthome', ' 10/10'],
    negative: ['', '', ' 😡', ' Ugh.', ' #fail', ' Never again.', ' 👎'],
    neutral: ['', '', ' Thanks!', ' #smarthome', ' Any tips?', ' 🤔'],
  },
  ko: {
    positive: ['', '', ' ㅋㅋ', ' ㅎㅎ', ' 👍', ' 추천합니다', ' 😊'],
    negative: ['', '', ' ㅠㅠ', ' 하...', ' 😡', ' 비추', ' ㅡㅡ'],
    neutral: ['', '', ' 궁금해요', ' 🤔', ' 답변 부탁드려요', ' ㅎㅎ'],
  },
};

/** Personal details that make two people's posts differ ({n} is a number). */
const DETAILS: Record<Lang, readonly string[]> = {
  en: [' Had it {n} days now.', ' Bought it {n} weeks ago.', ' We use it in a {n}-room flat.', ' (week {n})'],
  ko: [' {n}일째 쓰는 중', ' {n}주 전에 샀어요', ' {n}평 거실에서 써요', ' 벌써 {n}번째 필터'],
};

interface Ids {
  next(source: string): number;
}

/** When the demo's crisis begins: 10:00 in Seoul, three days before `now`. */
export function crisisStartOf(now: Date): Date {
  const end = Math.floor(now.getTime() / HOUR) * HOUR;
  return new Date(Math.floor((end - 3 * DAY) / DAY) * DAY + HOUR);
}

/**
 * ~90 days of mentions ending at `now`, deterministic for a seed: four brands with a weekly and
 * daily rhythm in English and Korean across every public source, authors with a long-tailed
 * audience (a few opinion leaders, some new voices), retweets and boosts, news syndicated across
 * sites, a namesake the query excludes, and a crisis (a burst of negative mentions) a few days ago.
 */
export function generateMentions(rnd: Rng, now: Date): DemoMention[] {
  const end = Math.floor(now.getTime() / HOUR) * HOUR;
  const start = end - DEMO_DAYS * DAY;
  const crisisStart = crisisStartOf(now).getTime();
  const pools = makePools(rnd, start, end);
  const counters = new Map<string, number>();
  const ids: Ids = {
    next: (source) => {
      const n = (counters.get(source) ?? 0) + 1;
      counters.set(source, n);
      return n;
    },
  };
  const out: DemoMention[] = [];
  const crisisBrand = BRANDS.find((b) => b.id === CRISIS.brand) as Brand;

  for (let hour = start; hour < end; hour += HOUR) {
    const dayIndex = (hour - start) / DAY;
    for (const brand of BRANDS) {
      for (const lang of ['ko', 'en'] as const) {
        const local = new Date(hour + UTC_OFFSET[lang] * HOUR);
        const weekend = local.getUTCDay() === 0 || local.getUTCDay() === 6 ? 0.8 : 1;
        const diurnal = (DIURNAL[local.getUTCHours()] as number) / DIURNAL_MEAN;
        // Slow growth over the quarter, and a product launch 40 days ago for the demo's own brand.
        const growth = 0.85 + (0.25 * dayIndex) / DEMO_DAYS;
        const launch = brand.id === CRISIS.brand && dayIndex >= 50 && dayIndex < 57 ? 1.35 : 1;
        const share = lang === 'ko' ? brand.korean : 1 - brand.korean;
        const lambda = (brand.perDay / 24) * share * weekend * diurnal * growth * launch;
        const afterCrisis = brand.id === CRISIS.brand && hour >= crisisStart;
        for (let k = poisson(rnd, lambda); k > 0; k--) {
          const at = hour + Math.floor(rnd() * HOUR);
          const r = rnd();
          const negative = afterCrisis ? 0.32 : brand.negative;
          const mood: Mood =
            r < negative ? 'negative' : r < negative + brand.positive ? 'positive' : 'neutral';
          emit(rnd, out, pools, ids, { brand, lang, mood, at, launch: launch > 1 });
        }
        // Someone always writes about the hotel that shares the brand's name.
        if (brand.id === 'velnora' && rnd() < 0.02) {
          const at = hour + Math.floor(rnd() * HOUR);
          const source = lang === 'ko' ? 'naver' : 'x';
          out.push(post(rnd, pools, ids, source, lang, at, pick(rnd, NAMESAKE[lang]), brand));
        }
      }
    }
    const sinceCrisis = (hour - crisisStart) / HOUR;
    if (sinceCrisis >= 0 && sinceCrisis < 72) {
      // The burst: dozens an hour at its peak, fading over a day, a tail over the next two.
      const extra =
        sinceCrisis < 24
          ? 110 * Math.exp(-((sinceCrisis - 2.5) ** 2) / 8) + 45 * Math.exp(-sinceCrisis / 8)
          : 3;
      for (let k = poisson(rnd, extra); k > 0; k--) {
        const at = hour + Math.floor(rnd() * HOUR);
        const lang: Lang = rnd() < 0.65 ? 'ko' : 'en';
        emit(rnd, out, pools, ids, { brand: crisisBrand, lang, mood: 'negative', at, crisis: true });
      }
    }
  }
  out.sort(
    (a, b) =>
      a.record.createdAt.getTime() - b.record.createdAt.getTime() ||
      a.source.localeCompare(b.source) ||
      a.record.nativeId.localeCompare(b.record.nativeId),
  );
  return out.filter((m) => m.record.createdAt.getTime() < now.getTime());
}

interface Occasion {
  brand: Brand;
  lang: Lang;
  mood: Mood;
  at: number;
  crisis?: boolean;
  launch?: boolean;
}

function weighted(rnd: Rng, list: readonly (readonly [string, number])[]): string {
  const total = list.reduce((a, [, w]) => a + w, 0);
  let r = rnd() * total;
  for (const [v, w] of list) {
    r -= w;
    if (r < 0) return v;
  }
  return (list.at(-1) as readonly [string, number])[0];
}

function slots(rnd: Rng, brand: Brand, lang: Lang, crisis: boolean) {
  const others = BRANDS.filter((b) => b.id !== brand.id);
  const product = crisis
    ? (brand.products[CRISIS.product] as readonly [string, string])
    : pick(rnd, brand.products);
  const name = (b: Brand) => (lang === 'ko' ? b.ko : b.en);
  return {
    b: name(brand),
    p: lang === 'ko' ? product[1] : product[0],
    c: name(pick(rnd, others)),
    f: pick(rnd, FEATURES[lang]),
  };
}

/** One mention (and its reposts or syndicated copies) for the occasion. */
function emit(rnd: Rng, out: DemoMention[], pools: Map<string, AuthorPool>, ids: Ids, o: Occasion): void {
  const source = weighted(rnd, SOURCES[o.lang]);
  const s = slots(rnd, o.brand, o.lang, o.crisis === true);
  const sentence = fill(pick(rnd, o.crisis ? CRISIS_POSTS[o.lang] : POSTS[o.lang][o.mood]), s);
  const headline = () => fill(pick(rnd, o.crisis ? CRISIS_HEADLINES[o.lang] : HEADLINES[o.lang][o.mood]), s);
  const naverNews = source === 'naver' && rnd() < 0.25;
  if (source === 'rss' || naverNews) {
    story(rnd, out, pools, ids, o, headline(), sentence, naverNews);
    return;
  }
  // Some Hacker News and Reddit items are submissions with a title rather than comments.
  if ((source === 'hackernews' && rnd() < 0.15) || (source === 'reddit' && rnd() < 0.1)) {
    out.push(post(rnd, pools, ids, source, o.lang, o.at, sentence, o.brand, headline()));
    return;
  }
  const detail =
    rnd() < 0.75 ? pick(rnd, DETAILS[o.lang]).replace('{n}', String(2 + Math.floor(rnd() * 40))) : '';
  // An English sentence ends before the detail that follows it.
  const stop = o.lang === 'en' && detail && !/[.!?]$/.test(sentence) ? '.' : '';
  const text = `${pick(rnd, OPENERS[o.lang])}${sentence}${stop}${detail}${pick(rnd, TAILS[o.lang][o.mood])}`;
  const m = post(rnd, pools, ids, source, o.lang, o.at, text, o.brand);
  out.push(m);
  reposts(rnd, out, pools, ids, m, o.lang);
}

/**
 * A news story on an outlet's feed (RSS), often syndicated: Korean stories also through Naver news
 * (the outlet's link with tracking parameters), English ones posted to Reddit or Hacker News with
 * the same headline. `naverOnly`: an outlet without a feed, found through Naver news alone.
 */
function story(
  rnd: Rng,
  out: DemoMention[],
  pools: Map<string, AuthorPool>,
  ids: Ids,
  o: Occasion,
  title: string,
  body: string,
  naverOnly: boolean,
): void {
  const outlets = OUTLETS.filter((x) => x.lang === o.lang && (o.lang === 'en' || x.feed !== naverOnly));
  const outlet = pick(rnd, outlets);
  const n = ids.next('story');
  const url = `https://www.${outlet.host}/news/${new Date(o.at).toISOString().slice(0, 10).replaceAll('-', '/')}/${n}`;
  const author = pools.get(`rss:${o.lang}`)?.pick(rnd, o.at) as Author;
  const base = {
    url,
    title,
    text: `${title}. ${body}`,
    lang: o.lang === 'ko' ? 'ko-KR' : 'en-US',
    authorId: null,
    authorHandle: null,
    authorName: author.name,
    authorFollowers: null,
    createdAt: new Date(o.at),
    createdAtEstimated: false,
    likes: null,
    reposts: null,
    replies: null,
    views: null,
    parentId: null,
    conversationId: null,
    repostOf: null,
    raw: { demo: true },
  };
  if (!naverOnly) {
    out.push({
      source: 'rss',
      partition: `https://www.${outlet.host}/rss.xml`,
      record: { ...base, nativeId: url, channel: outlet.name },
    });
  }
  if (o.lang === 'ko' && (naverOnly || rnd() < 0.4)) {
    const at = o.at + (naverOnly ? 0 : Math.floor(rnd() * 40 * 60_000) + 60_000);
    out.push({
      source: 'naver',
      partition: `news:${o.brand.ko}`,
      record: {
        ...base,
        nativeId: `news:${url}`,
        url: `${url}?utm_source=naver&utm_medium=newsearch`,
        title: `${title} - ${outlet.name}`,
        channel: 'news',
        createdAt: new Date(at),
      },
    });
  }
  if (o.lang === 'en' && rnd() < 0.3) {
    const later = o.at + Math.floor(rnd() * 3 * HOUR) + 600_000;
    const where = rnd() < 0.5 ? 'hackernews' : 'reddit';
    out.push(post(rnd, pools, ids, where, 'en', later, `${title} (${outlet.host})`, o.brand, title));
  }
}

/** A post, comment or blog entry on `source` by an author from its pool. */
function post(
  rnd: Rng,
  pools: Map<string, AuthorPool>,
  ids: Ids,
  source: string,
  lang: Lang,
  at: number,
  text: string,
  brand: Brand,
  title: string | null = null,
): DemoMention {
  const a = (pools.get(`${source}:${lang}`) ?? pools.get(`${source}:en`))?.pick(rnd, at) as Author;
  const n = ids.next(source);
  const audience = a.followers ?? 300;
  const likes = Math.floor(Math.exp(1 + 1.2 * gaussian(rnd)) * Math.sqrt(1 + audience / 500));
  const keyword = lang === 'ko' ? brand.ko : brand.en;
  const base: Omit<MentionRecord, 'nativeId' | 'url' | 'channel'> = {
    title,
    text,
    lang: null,
    authorId: a.id,
    authorHandle: a.handle,
    authorName: a.name,
    authorFollowers: a.followers,
    createdAt: new Date(at),
    createdAtEstimated: false,
    likes,
    reposts: null,
    replies: Math.floor(likes / 4),
    views: null,
    parentId: null,
    conversationId: null,
    repostOf: null,
    raw: { demo: true },
  };
  switch (source) {
    case 'x': {
      const id = snowflake(at, n);
      return {
        source,
        partition: keyword,
        record: {
          ...base,
          nativeId: id,
          url: `https://x.com/${a.handle}/status/${id}`,
          channel: 'post',
          lang,
          reposts: Math.floor(likes / 6),
          views: likes * 40 + Math.floor(rnd() * 500),
        },
      };
    }
    case 'mastodon': {
      const instance = MASTODON_INSTANCES[n % MASTODON_INSTANCES.length] as string;
      const id = String(113_000_000_000_000_000n + BigInt(n));
      return {
        source,
        partition: `${instance}#${brand.en.toLowerCase()}`,
        record: {
          ...base,
          nativeId: `https://${instance}/users/${a.handle}/statuses/${id}`,
          url: `https://${instance}/@${a.handle}/${id}`,
          channel: instance,
          lang,
          reposts: Math.floor(likes / 5),
        },
      };
    }
    case 'bluesky': {
      const rkey = `3l${n.toString(36).padStart(11, '0')}`;
      return {
        source,
        partition: keyword,
        record: {
          ...base,
          nativeId: `at://did:plc:${a.id.replaceAll('-', '')}/app.bsky.feed.post/${rkey}`,
          url: `https://bsky.app/profile/${a.handle}/post/${rkey}`,
          channel: null,
          lang,
          reposts: Math.floor(likes / 6),
        },
      };
    }
    case 'reddit': {
      const sub = lang === 'ko' ? 'korea' : (SUBREDDITS[n % (SUBREDDITS.length - 1)] as string);
      const id = (n * 7919 + 1_000_000).toString(36);
      const kind = title ? 't3' : 't1';
      return {
        source,
        partition: keyword,
        record: {
          ...base,
          nativeId: `${kind}_${id}`,
          url: `https://www.reddit.com/r/${sub}/comments/${id}/`,
          channel: sub,
          authorFollowers: null,
        },
      };
    }
    case 'hackernews': {
      const id = String(42_000_000 + n * 3);
      return {
        source,
        partition: keyword,
        record: { ...base, nativeId: id, url: `https://news.ycombinator.com/item?id=${id}`, channel: null },
      };
    }
    case 'youtube': {
      const video = YOUTUBE_VIDEOS[n % YOUTUBE_VIDEOS.length] as string;
      const id = `Ugx${(n * 104_729).toString(36)}AaABAg`;
      return {
        source,
        partition: video,
        record: {
          ...base,
          nativeId: id,
          url: `https://www.youtube.com/watch?v=${video}&lc=${id}`,
          channel: video,
          lang: null,
          likes: likes * 3,
        },
      };
    }
    default: {
      // Naver: blog posts carry a day only and café posts no date, so both are first-seen times.
      const blog = title !== null || rnd() < 0.45;
      const kind = blog ? 'blog' : 'cafearticle';
      const place = blog ? a.handle : (NAVER_CAFES[n % NAVER_CAFES.length] as string);
      const url = blog
        ? `https://blog.naver.com/${a.handle}/${223_000_000_000 + n}`
        : `https://cafe.naver.com/demo${n % NAVER_CAFES.length}/${n}`;
      return {
        source: 'naver',
        partition: `${kind}:${keyword}`,
        record: {
          ...base,
          nativeId: `${kind}:${url}`,
          url,
          title: title ?? text.slice(0, 30).trim(),
          channel: kind,
          authorId: blog ? a.handle : place,
          authorHandle: blog ? a.handle : place,
          authorName: blog ? a.name : place,
          likes: null,
          replies: null,
          createdAtEstimated: true,
        },
      };
    }
  }
}

/** A snowflake-like X id: milliseconds since X's epoch, then a sequence number. */
function snowflake(at: number, n: number): string {
  return ((BigInt(at) - 1_288_834_974_657n) * 4_194_304n + BigInt(n % 4096)).toString();
}

/** Retweets and boosts: many for an opinion leader, now and then one for anyone else. */
function reposts(
  rnd: Rng,
  out: DemoMention[],
  pools: Map<string, AuthorPool>,
  ids: Ids,
  m: DemoMention,
  lang: Lang,
): void {
  if (m.source !== 'x' && m.source !== 'mastodon') return;
  const followers = m.record.authorFollowers ?? 0;
  const count = followers > 20_000 ? 3 + Math.floor(rnd() * 10) : rnd() < 0.08 ? 1 : 0;
  for (let i = 0; i < count; i++) {
    const at = m.record.createdAt.getTime() + Math.floor(rnd() * 6 * HOUR) + 60_000;
    const a = pools.get(`${m.source}:${lang}`)?.pick(rnd, at) as Author;
    const n = ids.next(m.source);
    const x = m.source === 'x';
    const id = x ? snowflake(at, n) : `${m.record.nativeId}/reblog/${n}`;
    out.push({
      source: m.source,
      partition: m.partition,
      record: {
        ...m.record,
        nativeId: id,
        url: x ? `https://x.com/${a.handle}/status/${id}` : m.record.url,
        text: x ? `RT @${m.record.authorHandle}: ${m.record.text}` : m.record.text,
        channel: x ? 'retweet' : m.record.channel,
        authorId: a.id,
        authorHandle: a.handle,
        authorName: a.name,
        authorFollowers: a.followers,
        createdAt: new Date(at),
        likes: 0,
        replies: 0,
        reposts: 0,
        views: null,
        repostOf: m.record.nativeId,
      },
    });
  }
}
