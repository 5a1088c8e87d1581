/**
 * The database of `npm run bench:dashboard`: N mentions over one year (30 topics in five comparison
 * sets, English and Korean, eight sources with their own shares, Zipf-like authors, reposts,
 * syndicated copies, crisis spikes, a few hundred user corrections), and a few hundred employees
 * of adoption data imported through the real importers.
 *
 * Fast but exact: the scoring stage's per-text work (language, sentiment, text signature, index
 * terms) and the topic matching run through the pipeline's own functions on a pool of distinct
 * texts; SQL then lays the pool out as mentions, and each mention's scores, terms and tags are
 * those of its text. A text belongs to one source, so no two sources share a text by accident:
 * the only copies are the generated ones (same URL, as the copy detector finds them). The rollups
 * and authors are built by the pipeline's own code (refreshRollups, refreshAuthors), once over
 * the whole year as after a backfill.
 */
import { importFiles } from '../../collectors/imports/write.js';
import { runAlerts } from '../../pipeline/alerts/detect.js';
import type { Config } from '../../pipeline/config.js';
import { appendRows, refreshAuthors } from '../../pipeline/ingest.js';
import { silentLogger } from '../../pipeline/logger.js';
import { seededRandom } from '../../pipeline/random.js';
import { canonicalUrl } from '../../pipeline/scoring/canonical.js';
import { computeScores } from '../../pipeline/scoring/compute.js';
import { refreshRollups } from '../../pipeline/scoring/rollups.js';
import { shippedModels } from '../../pipeline/sentiment/layers.js';
import type { Store } from '../../pipeline/store.js';
import { MentionDoc } from '../../pipeline/topics/match.js';
import { topicMatcher } from '../../pipeline/topics/tag.js';

/** Bump when the generated data changes: the cached database is rebuilt. */
export const GENERATOR_VERSION = 1;
export const TIMEZONE = 'Asia/Seoul';
/** The data ends here; the benchmark's clock stands here. */
export const END = new Date('2026-11-22T00:00:00Z');
const START = new Date(END.getTime() - 365 * 86_400_000);

const BRANDS: Array<[string, string]> = [
  ['acme', '에이크미'],
  ['globex', '글로벡스'],
  ['initech', '이니텍'],
  ['hanbit', '한빛전자'],
  ['umbrella', '엄브렐라'],
  ['stark', '스타크'],
  ['wayne', '웨인'],
  ['cyberdyne', '사이버다인'],
  ['soylent', '소일렌트'],
  ['tyrell', '타이렐'],
  ['hooli', '훌리'],
  ['pied', '파이드'],
  ['vandelay', '반델레이'],
  ['wonka', '웡카'],
  ['oscorp', '오스코프'],
  ['aperture', '애퍼처'],
  ['massive', '매시브'],
  ['gringotts', '그린고츠'],
  ['monarch', '모나크'],
  ['nakatomi', '나카토미'],
  ['oceanic', '오셔닉'],
  ['virtucon', '버추콘'],
  ['dunder', '던더'],
  ['prestige', '프레스티지'],
  ['zorg', '조르그'],
  ['rekall', '리콜사'],
  ['weyland', '웨이랜드'],
  ['bluth', '블루스'],
  ['krusty', '크러스티'],
  ['sirius', '시리우스'],
];
export const SETS = ['phones', 'laptops', 'telecom', 'retail', 'finance'];
export const TOPICS = BRANDS.map(([en, ko], i) => ({
  id: en,
  query: `${en} OR ${ko}`,
  set: SETS[i % SETS.length] as string,
}));

const EN = `battery screen camera update app price service support store delivery order refund launch
  release review quality design speed network signal outage bill plan contract upgrade model version
  feature bug crash login account password security privacy data cloud storage laptop phone tablet
  watch charger cable shipping warranty repair replacement center staff manager call wait hours days
  week month year customer experience announcement event keynote stock shares market earnings report
  growth sales discount deal coupon subscription premium family business enterprise partner recall
  fire safety investigation lawsuit court regulator fine ceo interview strategy ai chip factory
  supply chain shortage delay weather holiday christmas summer winter travel game music video photo
  stream podcast newsletter blog forum thread comment reply community developer api sdk beta`.split(/\s+/);
const KO =
  `배터리가 화면이 카메라 업데이트를 앱이 가격이 서비스 고객센터에 매장에서 배송이 주문을 환불을 출시 리뷰
  품질이 디자인이 속도가 네트워크 통신 장애가 요금제 약정 모델 버전 기능이 오류가 로그인 계정 보안 개인정보
  클라우드 노트북을 휴대폰 태블릿 충전기 케이블 수리 교체 직원 상담 대기 시간 이번주 이번달 올해 고객 경험
  발표 행사 주가 실적 성장 판매 할인 쿠폰 구독 프리미엄 기업 협력 리콜을 화재 안전 조사 소송 규제 과징금
  대표 인터뷰 전략 반도체 공장 공급망 부족 지연 여름 겨울 여행 게임 음악 영상 사진 커뮤니티 개발자 베타`.split(
    /\s+/,
  );
const POS_EN = 'great love amazing excellent fast happy best awesome recommend perfect'.split(' ');
const NEG_EN = 'terrible awful broken worst hate slow disappointed useless angry scam'.split(' ');
const POS_KO = '최고 만족 좋아요 추천 빠르다 훌륭 감동 행복'.split(' ');
const NEG_KO = '최악 실망 불만 별로 화나 짜증 느려요 고장'.split(' ');

interface SourceSpec {
  name: string;
  share: number;
  channel: string | null;
  /** Share of Korean texts. */
  ko: number;
  /** Whether the platform tags a post's language. */
  tagged: boolean;
  titled: boolean;
  url: string;
  reposts: boolean;
}
// Shares of original mentions; URL patterns are already canonical (checked when building).
const SOURCES: SourceSpec[] = [
  {
    name: 'x',
    share: 0.4,
    channel: null,
    ko: 0.3,
    tagged: true,
    titled: false,
    url: "'https://x.com/' || handle || '/status/' || native_id",
    reposts: true,
  },
  {
    name: 'reddit',
    share: 0.1,
    channel: null,
    ko: 0.02,
    tagged: false,
    titled: true,
    url: "'https://reddit.com/r/tech/comments/' || native_id",
    reposts: false,
  },
  {
    name: 'mastodon',
    share: 0.05,
    channel: null,
    ko: 0.05,
    tagged: true,
    titled: false,
    url: "'https://mastodon.social/@' || handle || '/' || native_id",
    reposts: true,
  },
  {
    name: 'bluesky',
    share: 0.08,
    channel: null,
    ko: 0.1,
    tagged: true,
    titled: false,
    url: "'https://bsky.app/profile/' || handle || '/post/' || native_id",
    reposts: true,
  },
  {
    name: 'hn',
    share: 0.02,
    channel: null,
    ko: 0,
    tagged: false,
    titled: true,
    url: "'https://news.ycombinator.com/item?id=' || native_id",
    reposts: false,
  },
  {
    name: 'youtube',
    share: 0.08,
    channel: null,
    ko: 0.3,
    tagged: false,
    titled: false,
    url: "'https://youtube.com/watch?lc=' || native_id || '&v=vid' || (hash(native_id) % 5000)",
    reposts: false,
  },
  {
    name: 'rss',
    share: 0.07,
    channel: null,
    ko: 0.4,
    tagged: false,
    titled: true,
    url: "'https://news.example-daily.com/article/' || native_id",
    reposts: false,
  },
  {
    name: 'naver',
    share: 0.2,
    channel: 'blog',
    ko: 1,
    tagged: true,
    titled: true,
    url: "'https://blog.naver.com/' || handle || '/' || native_id",
    reposts: false,
  },
];
const COPY_RATE = 0.3; // of RSS articles, syndicated to Naver news
const REPOST_RATE = 0.12; // of originals on sources with reposts, each reposted 1-3 times
const POOL_PER_MILLION = 8000;

function pick<T>(list: readonly T[], u: number, skew = 1): T {
  return list[Math.min(list.length - 1, Math.floor(list.length * u ** skew))] as T;
}

interface PoolEntry {
  source: number;
  lang: string | null;
  title: string | null;
  text: string;
}

/** Distinct texts, a fixed number per source in proportion to its share. */
function makePool(size: number): PoolEntry[] {
  const rnd = seededRandom(42);
  const out: PoolEntry[] = [];
  SOURCES.forEach((spec, s) => {
    const n = Math.max(200, Math.round(size * spec.share));
    for (let k = 0; k < n; k++) {
      const ko = rnd() < spec.ko;
      const words: string[] = [];
      const len = 5 + Math.floor(rnd() * rnd() * 28);
      for (let w = 0; w < len; w++) words.push(pick(ko ? KO : EN, rnd(), 1.6));
      const brands = rnd() < 0.08 ? 0 : rnd() < 0.85 ? 1 : 2;
      for (let b = 0; b < brands; b++) {
        const brand = pick(BRANDS, rnd(), 2.2);
        const word = ko ? brand[1] + pick(['가', '는', '의', '에서', '를', ''], rnd()) : brand[0];
        words.splice(Math.floor(rnd() * words.length), 0, word);
      }
      const mood = rnd();
      if (mood < 0.3) words.push(pick(ko ? POS_KO : POS_EN, rnd()));
      else if (mood < 0.55) words.push(pick(ko ? NEG_KO : NEG_EN, rnd()));
      const title = spec.titled ? words.slice(0, 8).join(' ') : null;
      out.push({
        source: s,
        lang: spec.tagged ? (ko ? 'ko' : 'en') : null,
        title,
        text: `${words.join(' ')}${rnd() < 0.3 ? ` #${words[0]}` : ''}`,
      });
    }
  });
  return out;
}

/** Scores, terms and tags of every pool text, through the pipeline's own functions, into tables. */
async function loadPool(store: Store, pool: PoolEntry[]): Promise<void> {
  const scores = computeScores(shippedModels(), {
    title: pool.map((p) => p.title),
    text: pool.map((p) => p.text),
    lang: pool.map((p) => p.lang),
    // Every mention's URL is unique, so the URL key never marks a copy by accident.
    url: pool.map(() => null),
  });
  const matchers = TOPICS.map((t) => [t.id, topicMatcher({ query: t.query, keywords: [] })] as const);
  await store.write(async (conn) => {
    await conn.run(`CREATE TABLE bench_pool (p INTEGER, source VARCHAR, lang_tag VARCHAR, title VARCHAR,
      text VARCHAR, lang VARCHAR, lang_origin VARCHAR, sentiment VARCHAR, score DOUBLE, model VARCHAR,
      text_sig VARCHAR, k INTEGER)`);
    await conn.run('CREATE TABLE bench_pool_terms (p INTEGER, term VARCHAR)');
    await conn.run('CREATE TABLE bench_pool_topics (p INTEGER, topic_id VARCHAR)');
    const seen = new Map<number, number>();
    await appendRows(
      conn,
      'bench_pool',
      pool.map((e, p) => {
        const k = seen.get(e.source) ?? 0;
        seen.set(e.source, k + 1);
        return [
          p,
          SOURCES[e.source]?.name ?? '',
          e.lang,
          e.title,
          e.text,
          scores.lang[p] ?? 'other',
          scores.langOrigin[p] ?? 'detected',
          scores.sentiment[p] ?? 'neutral',
          scores.score[p] ?? 0,
          scores.model[p] ?? '',
          scores.textSig[p] ?? null,
          k,
        ];
      }),
    );
    await appendRows(
      conn,
      'bench_pool_terms',
      pool.flatMap((_, p) => (scores.terms[p] ? scores.terms[p].split(' ').map((t) => [p, t]) : [])),
    );
    await appendRows(
      conn,
      'bench_pool_topics',
      pool.flatMap((e, p) => {
        const doc = new MentionDoc({
          text: e.text,
          title: e.title,
          lang: e.lang,
          source: SOURCES[e.source]?.name ?? null,
        });
        return matchers.filter(([, m]) => m(doc)).map(([id]) => [p, id]);
      }),
    );
  });
}

/**
 * Every mention as pool references: originals spread over the year (busier in the day, six crisis
 * days on negative texts), then reposts and Naver copies of some of them.
 */
async function layOut(store: Store, originals: number): Promise<void> {
  const u = (i: string, k: number) => `((hash(${i} * 131 + ${k}) % 1000000007) / 1000000007.0)`;
  const shares = SOURCES.map((s) => s.share);
  const total = shares.reduce((a, b) => a + b, 0);
  let acc = 0;
  const sourceCase = SOURCES.map((s, n) => {
    acc += s.share / total;
    return n === SOURCES.length - 1 ? `ELSE '${s.name}'` : `WHEN ${u('i', 1)} < ${acc} THEN '${s.name}'`;
  }).join(' ');
  await store.write(async (conn) => {
    await conn.run(
      `CREATE TABLE bench_counts AS SELECT source, count(*) AS n, min(p) AS first FROM bench_pool GROUP BY source`,
    );
    await conn.run(`CREATE TABLE bench_crisis AS
      SELECT t.topic_id, row_number() OVER (PARTITION BY t.topic_id ORDER BY p.p) - 1 AS k, p.p, p.source
      FROM bench_pool p JOIN bench_pool_topics t USING (p)
      WHERE p.sentiment = 'negative' AND t.topic_id IN ('acme', 'globex', 'initech')`);
    // Originals: day by position, hour skewed to the working day, a second within the hour.
    await conn.run(
      `CREATE TABLE bench_rows AS
       WITH r AS (
         SELECT i, CASE ${sourceCase} END AS source,
           ${u('i', 2)} AS pick, ${u('i', 3)} AS crisis, ${u('i', 4)} AS h1, ${u('i', 5)} AS h2, ${u('i', 6)} AS sec,
           ${u('i', 7)} AS who
         FROM range(${originals}) t(i)),
       placed AS (
         SELECT r.*,
           CASE WHEN crisis < 0.012 THEN (ARRAY['acme', 'globex', 'initech'])[1 + (i % 3)::INTEGER] END AS crisis_topic,
           $start::TIMESTAMPTZ + to_days(CASE WHEN crisis < 0.012 THEN (ARRAY[40, 120, 200, 300, 350, 362])[1 + (i % 6)::INTEGER]
             ELSE (i * 365 // ${originals})::INTEGER END)
             + to_hours(CASE WHEN crisis < 0.012 THEN 2 + (h1 * 6)::INTEGER WHEN h2 < 0.6 THEN (h1 * 12)::INTEGER ELSE (h1 * 24)::INTEGER END)
             + to_seconds((sec * 3600)::INTEGER) AS created_at
         FROM r)
       SELECT i, created_at,
         coalesce(cr.source, x.source) AS source,
         coalesce(cr.p, c.first + floor(c.n * pow(x.pick, 1.3))::INTEGER) AS p,
         false AS is_repost, NULL::VARCHAR AS repost_of_i, NULL::BIGINT AS copy_of_i, x.who
       FROM placed x JOIN bench_counts c USING (source)
       LEFT JOIN (SELECT topic_id, count(*) AS n FROM bench_crisis GROUP BY ALL) cn ON cn.topic_id = x.crisis_topic
       LEFT JOIN bench_crisis cr ON cr.topic_id = x.crisis_topic AND cr.k = (x.i % cn.n)`,
      { start: START.toISOString() },
    );
    // Reposts: same source and text, another author, minutes to hours later.
    await conn.run(
      `INSERT INTO bench_rows
       SELECT ${originals} + row_number() OVER (ORDER BY o.i, n.k) AS i,
         o.created_at + to_minutes(1 + ((hash(o.i * 17 + n.k) % 600))::INTEGER), o.source, o.p, true, o.i::VARCHAR,
         NULL, ${u('o.i * 3 + n.k', 9)}
       FROM bench_rows o, range(3) n(k)
       WHERE o.source IN (${SOURCES.filter((s) => s.reposts)
         .map((s) => `'${s.name}'`)
         .join(', ')})
         AND ${u('o.i', 8)} < ${REPOST_RATE} AND n.k < 1 + floor(${u('o.i', 10)} * 3)`,
    );
    // Copies: an RSS article carried by Naver news with the same URL, later.
    await conn.run(
      `INSERT INTO bench_rows
       SELECT (SELECT max(i) FROM bench_rows) + row_number() OVER (ORDER BY o.i) AS i,
         o.created_at + to_minutes(5 + (hash(o.i * 29) % 115)::INTEGER), 'naver', o.p, false, NULL, o.i, 0
       FROM bench_rows o WHERE o.source = 'rss' AND NOT o.is_repost AND ${u('o.i', 11)} < ${COPY_RATE}`,
    );
  });
}

/** The mentions of bench_rows in [lo, hi), with scores, terms, tags and a few corrections. */
async function insertChunk(store: Store, lo: Date, hi: Date): Promise<void> {
  await store.write(async (conn) => {
    const params = { lo: lo.toISOString(), hi: hi.toISOString() };
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE chunk AS
       WITH a AS (
         SELECT r.*, b.title, b.text, b.lang_tag, b.lang, b.lang_origin, b.sentiment, b.score, b.model, b.text_sig,
           lpad((1800000000000 + r.i)::VARCHAR, 13, '0') AS native_id,
           -- a Zipf-like author: few loud accounts, a long tail
           floor(pow(r.who, 3) * greatest(1000, ${'(SELECT count(*) FROM bench_rows)'} // 25))::BIGINT AS author_rank
         FROM bench_rows r JOIN bench_pool b USING (p)
         WHERE r.created_at >= $lo::TIMESTAMPTZ AND r.created_at < $hi::TIMESTAMPTZ)
       SELECT a.*, CASE WHEN a.copy_of_i IS NULL THEN 'user' || author_rank END AS handle,
         CASE WHEN a.copy_of_i IS NULL THEN floor(exp(2 + (hash(a.source || author_rank) % 1000) / 1000.0 * 11))::BIGINT END AS followers,
         o.source AS copy_source, lpad((1800000000000 + a.copy_of_i)::VARCHAR, 13, '0') AS copy_id,
         lpad((1800000000000 + a.repost_of_i::BIGINT)::VARCHAR, 13, '0') AS repost_of
       FROM a LEFT JOIN bench_rows o ON o.i = a.copy_of_i`,
      params,
    );
    const urlCase = SOURCES.map((s) => `WHEN '${s.name}' THEN ${s.url}`).join(' ');
    // The URL once here: scores below take it from the chunk, not by joining every mention stored.
    await conn.run(
      `ALTER TABLE chunk ADD COLUMN url VARCHAR;
       UPDATE chunk SET url = CASE WHEN copy_source IS NOT NULL THEN 'https://news.example-daily.com/article/' || copy_id
         ELSE CASE source ${urlCase} END END`,
    );
    await conn.run(
      `INSERT INTO mentions
       SELECT source, native_id, 'bench', CASE WHEN copy_source IS NOT NULL THEN 'news' ELSE ${`CASE source ${SOURCES.map((s) => `WHEN '${s.name}' THEN ${s.channel === null ? 'NULL' : `'${s.channel}'`}`).join(' ')} END`} END,
         url, title, text, lang_tag, CASE WHEN handle IS NOT NULL THEN source || ':' || author_rank END, handle,
         CASE WHEN handle IS NOT NULL THEN 'User ' || author_rank END, followers,
         created_at, false, created_at + INTERVAL 5 MINUTE, created_at + INTERVAL 5 MINUTE,
         CASE WHEN is_repost THEN 0 ELSE floor(coalesce(followers, 100) * ((hash(i) % 1000) / 100000.0))::BIGINT END,
         CASE WHEN is_repost THEN 0 ELSE (hash(i * 3) % 20)::BIGINT END,
         CASE WHEN is_repost THEN 0 ELSE (hash(i * 5) % 12)::BIGINT END,
         NULL, NULL, NULL, is_repost, repost_of, NULL
       FROM chunk ORDER BY created_at`,
    );
    await conn.run(
      `INSERT INTO mention_scores
       SELECT source, native_id, lang, lang_origin, sentiment, score, model, copy_source, copy_id, url, text_sig,
         created_at + INTERVAL 5 MINUTE
       FROM chunk`,
    );
    await conn.run(
      'INSERT INTO mention_terms SELECT t.term, c.source, c.native_id, c.created_at FROM chunk c JOIN bench_pool_terms t USING (p)',
    );
    await conn.run(
      'INSERT INTO mention_topics SELECT c.source, c.native_id, t.topic_id FROM chunk c JOIN bench_pool_topics t USING (p)',
    );
    await conn.run(
      `INSERT INTO sentiment_corrections (source, native_id, label, corrected_by, corrected_at)
       SELECT source, native_id, CASE sentiment WHEN 'negative' THEN 'neutral' ELSE 'negative' END, 'analyst',
         created_at + INTERVAL 1 DAY
       FROM chunk WHERE NOT is_repost AND copy_source IS NULL AND hash(i * 37) % 20000 = 0`,
    );
    const state = `SELECT max(collected_at) FROM mentions`;
    await conn.run(`INSERT OR REPLACE INTO pipeline_state SELECT 'scores', '*', (${state})`);
    await conn.run(`INSERT OR REPLACE INTO pipeline_state SELECT 'topics', '*', (${state})`);
    await conn.run('DROP TABLE chunk');
  });
}

/** A few hundred employees over 90 days, through the real importers (canonical CSV files). */
async function adoption(store: Store): Promise<void> {
  const rnd = seededRandom(7);
  const n = 300;
  const depts = ['Sales', 'Engineering', 'Marketing', 'Finance', 'Support', 'Operations', 'HR', 'Legal'];
  const locs = ['Seoul', 'Busan', 'Incheon', 'Daejeon'];
  const id = (i: number) => `E${String(i).padStart(4, '0')}`;
  const day = (d: number) => new Date(END.getTime() - (90 - d) * 86_400_000).toISOString().slice(0, 10);
  const employees = [
    'employee_id,email,display_name,department,location,level,is_manager,is_executive,manager_id,hire_date,term_date',
  ];
  for (let i = 0; i < n; i++) {
    const manager = i % 10 === 0;
    employees.push(
      `${id(i)},u${i}@example.com,User ${i},${depts[i % depts.length]},${locs[Math.floor(i / 8) % locs.length]},${manager ? 'Manager' : 'IC'},${manager},${i % 60 === 0},${id(i - (i % 10))},2020-01-0${1 + (i % 9)},`,
    );
  }
  const activity = [
    'activity_date,platform,employee_id,posts,replies,reactions,reads,chat_messages,channel_messages,meetings_attended',
  ];
  const interactions = ['event_ts,platform,from_employee_id,to_employee_id,interaction_type,thread_id'];
  const threads = [
    'platform,thread_id,group_name,author_id,created_ts,is_question,first_reply_ts,first_reply_by',
  ];
  const volume = ['week_start,employee_id,emails_sent,emails_received,meetings_attended,meeting_hours'];
  for (let d = 0; d < 90; d++) {
    for (let i = 0; i < n; i++) {
      if (rnd() > 0.45) continue;
      const c = rnd() < 0.35;
      activity.push(
        `${day(d)},viva_engage,${id(i)},${c && rnd() < 0.3 ? 1 : 0},${c ? Math.floor(rnd() * 3) : 0},${c ? Math.floor(rnd() * 4) : 0},${1 + Math.floor(rnd() * 15)},0,0,0`,
      );
    }
    for (let k = 0; k < 60; k++) {
      const from = Math.floor(rnd() * n);
      const to =
        rnd() < 0.7 ? (from + depts.length * (1 + Math.floor(rnd() * 30))) % n : Math.floor(rnd() * n);
      const ts = new Date(
        Date.parse(`${day(d)}T09:00:00Z`) + Math.floor(rnd() * 8 * 3_600_000),
      ).toISOString();
      interactions.push(
        `${ts},viva_engage,${id(from)},${id(to === from ? (to + 1) % n : to)},${rnd() < 0.6 ? 'reply' : 'reaction'},T${d}-${k % 12}`,
      );
    }
    for (let t = 0; t < 12; t++) {
      const created = Date.parse(`${day(d)}T08:00:00Z`) + t * 1_800_000;
      const answered = rnd() < 0.7;
      threads.push(
        `viva_engage,T${d}-${t},Group ${t % 6},${id(Math.floor(rnd() * n))},${new Date(created).toISOString()},${t % 3 === 0},${answered ? new Date(created + Math.floor(rnd() * 30 * 3_600_000)).toISOString() : ''},${answered ? id(Math.floor(rnd() * n)) : ''}`,
      );
    }
    if (d % 7 === 0)
      for (let i = 0; i < n; i++)
        volume.push(
          `${day(d)},${id(i)},${30 + Math.floor(rnd() * 30)},${100 + Math.floor(rnd() * 60)},${8 + Math.floor(rnd() * 8)},${(6 + rnd() * 8).toFixed(1)}`,
        );
  }
  const files = [
    ['employees.csv', employees],
    ['activity_daily.csv', activity],
    ['interactions.csv', interactions],
    ['threads.csv', threads],
    ['comm_volume_weekly.csv', volume],
  ] as const;
  for (const [name, lines] of files) {
    await importFiles(store, {
      kind: 'auto',
      files: [{ name, content: Buffer.from(lines.join('\n')) }],
      now: END,
    });
  }
}

/** Builds everything into `store` (freshly created); `log` reports progress. */
export async function buildDashboardData(
  store: Store,
  config: Config,
  mentions: number,
  log: (line: string) => void,
): Promise<void> {
  const started = performance.now();
  const step = (what: string) => log(`  ${((performance.now() - started) / 1000).toFixed(0)} s: ${what}`);
  await store.write(async (conn) => {
    for (const t of TOPICS) {
      await conn.run(`INSERT INTO topics VALUES ($1, $1, [$1], $2, $3, 'config', $4::TIMESTAMPTZ)`, [
        t.id,
        t.query,
        t.set,
        START.toISOString(),
      ]);
    }
  });
  // Empty rollups first: they learn the time zone and every topic's version, so the refresh
  // below adds days (as in production) instead of rebuilding every topic as well.
  await refreshRollups(store, TIMEZONE);
  const pool = makePool(Math.max(4000, Math.round((mentions / 1e6) * POOL_PER_MILLION)));
  await loadPool(store, pool);
  step(`${pool.length.toLocaleString('en')} distinct texts scored and tagged`);
  const social = SOURCES.filter((s) => s.reposts).reduce((a, s) => a + s.share, 0);
  const rss = SOURCES.find((s) => s.name === 'rss')?.share ?? 0;
  await layOut(store, Math.round(mentions / (1 + social * REPOST_RATE * 1.5 + rss * COPY_RATE)));
  step('mentions laid out');
  for (let m = 0; m < 13; m++) {
    const lo = new Date(START.getTime() + m * 30 * 86_400_000);
    const hi =
      m === 12 ? new Date(END.getTime() + 86_400_000) : new Date(START.getTime() + (m + 1) * 30 * 86_400_000);
    await insertChunk(store, lo, hi);
    step(`month ${m + 1} of 13 stored`);
  }
  // One refresh over the year, as the first scoring run after a backfill does (it cuts the days
  // into transactions of bounded size itself), instead of thirteen that each rewrite what the
  // last one compacted.
  await refreshRollups(store, TIMEZONE);
  step('rolled up');
  for (const s of SOURCES) await store.write((conn) => refreshAuthors(conn, s.name));
  const sample = await store.query(
    'SELECT m.url, s.canonical_url FROM mention_scores s JOIN mentions m USING (source, native_id) USING SAMPLE 2000 ROWS',
  );
  for (const r of sample) {
    if (canonicalUrl(String(r.url)) !== r.canonical_url)
      throw new Error(`generator bug: ${r.url} is not in canonical form`);
  }
  await runAlerts({ store, config, logger: silentLogger, now: () => END });
  await adoption(store);
  await store.write(async (conn) => {
    for (const t of [
      'bench_rows',
      'bench_pool_terms',
      'bench_pool_topics',
      'bench_counts',
      'bench_crisis',
      'bench_pool',
    ])
      await conn.run(`DROP TABLE ${t}`);
  });
  step('authors, alerts and adoption set done');
}
