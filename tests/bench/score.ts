/**
 * npm run bench:score [-- --rows N]
 *
 * 1,000,000 stored mentions (half English, half Korean, 40..280 characters) and 20 topics (single
 * terms, phrases, NEAR/n, NOT, wildcards, Korean terms that must match with particles), then the
 * whole scoring stage end to end in DuckDB: language, sentiment, copy detection, term index, topic
 * tags and rollups. Each phase runs in its own process so peak RSS is its own:
 *   ingest   the mentions written through storeBatch, as collectors write them (the rate to beat)
 *   score-1  scoreNew on the main thread only
 *   score-2  scoreNew with one worker thread computing while the main thread reads and writes
 *   score-3  scoreNew with two worker threads (both cores compute; DuckDB work in between)
 *   ceiling  DuckDB's share alone: score-3's outputs (score rows, term index rows, tags, dirty
 *            hours) written into a copy of the ingested file batch by batch, as the scoring
 *            batches write them, then the real rollup refresh; no language, sentiment, topic or
 *            copy is computed, so no scoring run on this machine can be faster
 * The scoring phases start from copies of the same ingested file. `--phases score-3` runs only
 * the phases named (ingest always runs; ceiling brings score-3 with it).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import pino from 'pino';
import type { MentionRecord } from '../../collectors/contract.js';
import { storeBatch } from '../../pipeline/ingest.js';
import { localHour, refreshRollups } from '../../pipeline/scoring/rollups.js';
import { scoreNew } from '../../pipeline/scoring/score.js';
import { openBenchStore } from './store.js';

const THREADS = { 'score-1': 0, 'score-2': 1, 'score-3': 2 } as const;
type Phase = 'ingest' | keyof typeof THREADS | 'ceiling';
/** Mentions per scoring batch, as scoreNew's default. */
const SCORE_BATCH = 20_000;

/**
 * Copies the outputs of the scored file `from` into `path` (an ingested copy, not scored) as
 * tables numbered by scoring batch, in the order scoring wrote them. Not timed: its own process.
 */
async function stageOutputs(path: string, from: string): Promise<void> {
  const instance = await DuckDBInstance.create(path);
  const conn = await instance.connect();
  await conn.run(`ATTACH '${from.replaceAll("'", "''")}' AS scored (READ_ONLY)`);
  await conn.run(
    `CREATE TABLE stage_scores AS SELECT *, (row_number() OVER () - 1) // ${SCORE_BATCH} AS b
     FROM (SELECT * FROM scored.mention_scores ORDER BY scored_at, rowid)`,
  );
  await conn.run(`CREATE TABLE stage_terms AS SELECT t.*, k.b FROM scored.mention_terms t
    JOIN stage_scores k USING (source, native_id) ORDER BY k.b`);
  await conn.run(`CREATE TABLE stage_topics AS SELECT t.*, k.b FROM scored.mention_topics t
    JOIN stage_scores k USING (source, native_id) ORDER BY k.b`);
  await conn.run(`CREATE TABLE stage_dirty AS SELECT DISTINCT k.b, m.created_at FROM stage_scores k
    JOIN mentions m USING (source, native_id) ORDER BY k.b`);
  await conn.run('DETACH scored');
  await conn.run('CHECKPOINT');
  conn.closeSync();
  instance.closeSync();
}
const T0 = Date.parse('2026-10-01T00:00:00Z');
const BATCH = 1000;
const ORDERED = [
  ['rollup_hourly', 'topic_id', 'hour_start'],
  ['rollup_mentions', 'topic_id', 'created_at'],
  ['rollup_authors_daily', 'topic_id', 'day'],
  ['mention_terms', 'term', 'created_at'],
] as const;

const WORDS_EN =
  `acme acme's phone battery support ticket broken love the update sync app store price cost launch
  great awful today globex refund initech outage server down hanbit hanbitmall umbrella stark wayne wayneco
  customer support service cyberdyne soylent recall tyrell replicant new release review camera screen fast
  slow terrible amazing why is my again finally works thanks team week order shipping delayed`.split(/\s+/);
const WORDS_KO =
  `한빛전자가 한빛전자의 한빛전자는 한빛전자 새 노트북 노트북을 배터리 배터리가 불량 서비스 센터 서비스센터 너무
  느려요 만족 가격 대비 출시 업데이트 업데이트가 최고 실망 ㅋㅋ ㅠㅠ 글로벡스를 글로벡스 이니텍이 이니텍 삼성전자에서
  삼성전자 카카오 카카오톡 광고 오늘 진짜 구매 후기 화면 빠르다 고객 상담 리콜 소식 발표 했다`.split(/\s+/);

const TOPICS: Array<[string, string]> = [
  ['acme', 'acme'],
  ['acme-battery', '"acme battery"'],
  ['globex', 'globex NOT refund'],
  ['initech', 'initech NEAR/3 outage'],
  ['hanbit-en', 'hanbit*'],
  ['hanbit-ko', '한빛전자'],
  ['rivals-ko', '글로벡스 OR 이니텍'],
  ['service-center', '"서비스 센터"'],
  ['battery-fault', '배터리 NEAR/2 불량'],
  ['umbrella', 'umbrella AND (price OR cost)'],
  ['stark', 'stark NOT lang:ko'],
  ['samsung', '삼성전자'],
  ['wayne', 'wayne OR wayneco'],
  ['support', '"customer support"'],
  ['laptop', '노트북 AND 한빛전자'],
  ['cyberdyne', 'cyberdyne'],
  ['soylent', 'soylent NEAR/5 recall'],
  ['kakao', '카카오'],
  ['tyrell', 'tyrell*'],
  ['update-ko', '업데이트 NOT 광고'],
];

function textOf(i: number): string {
  const words = i % 2 === 0 ? WORDS_EN : WORDS_KO;
  const target = 40 + ((i * 7919) % 241);
  let text = '';
  for (let k = 0; text.length < target; k++)
    text += `${words[(i * 131 + k * k * 17 + k * 7) % words.length]} `;
  return text.slice(0, target).trimEnd();
}

function mentionOf(i: number): MentionRecord {
  const id = String(1868000000000000000n + BigInt(i));
  const author = i % 50_000;
  return {
    nativeId: id,
    url: `https://x.com/user${author}/status/${id}`,
    title: null,
    text: textOf(i),
    // Like X: most posts carry the platform's tag, some do not.
    lang: i % 5 === 0 ? null : i % 2 === 0 ? 'en' : 'ko',
    channel: null,
    authorId: String(author),
    authorHandle: `user${author}`,
    authorName: `User ${author}`,
    authorFollowers: (author * 37) % 250_000,
    createdAt: new Date(T0 + i * 2000),
    createdAtEstimated: false,
    likes: i % 97,
    reposts: i % 13,
    replies: i % 7,
    views: i % 5000,
    parentId: null,
    conversationId: id,
    repostOf: i % 11 === 0 ? String(1868000000000000000n + BigInt(i + 1)) : null,
    raw: null,
  };
}

async function runPhase(phase: Phase, path: string, rows: number): Promise<void> {
  const started = performance.now();
  const store = await openBenchStore(path);
  let detail: unknown = null;
  // Taken when the timed work ends: the checks after it are not what is measured.
  let measured = { seconds: 0, peakRssMb: 0, cpuSeconds: 0 };
  const measure = () => {
    const usage = process.resourceUsage();
    measured = {
      seconds: (performance.now() - started) / 1000,
      peakRssMb: usage.maxRSS / 1024,
      // CPU seconds over all threads (ours and DuckDB's): what a busy machine cannot inflate much.
      cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
    };
  };
  if (phase === 'ingest') {
    await store.write(async (conn) => {
      for (const [id, query] of TOPICS) {
        await conn.run(`INSERT INTO topics VALUES ($1, $1, [$1], $2, NULL, 'config', now())`, [id, query]);
      }
    });
    for (let start = 0; start < rows; start += BATCH) {
      const records: MentionRecord[] = [];
      for (let i = start; i < Math.min(rows, start + BATCH); i++) records.push(mentionOf(i));
      await storeBatch(store, {
        source: 'x',
        partition: 'bench',
        runId: 0,
        records,
        quarantine: [],
        bookmark: null,
        budget: new Map(),
        now: new Date(),
      });
    }
  } else if (phase === 'ceiling') {
    const [last] = await store.query('SELECT max(b) AS b FROM stage_scores');
    for (let b = 0; b <= Number(last?.b); b++) {
      await store.write(async (conn) => {
        for (const [table, staged] of [
          ['mention_scores', 'stage_scores'],
          ['mention_terms', 'stage_terms'],
          ['mention_topics', 'stage_topics'],
        ])
          await conn.run(`INSERT INTO ${table} SELECT * EXCLUDE (b) FROM ${staged} WHERE b = $1`, [b]);
        await conn.run(
          `INSERT OR IGNORE INTO rollup_dirty SELECT DISTINCT ${localHour('created_at')} FROM stage_dirty WHERE b = $b`,
          { b, tz: 'Asia/Seoul' },
        );
      });
    }
    const written = (performance.now() - started) / 1000;
    await refreshRollups(store, 'Asia/Seoul');
    store.close();
    measure();
    detail = { writesSeconds: written, rollupSeconds: measured.seconds - written };
  } else {
    // The stage's own timing line (scores, tags, rollups) goes into the report.
    let stages: unknown = null;
    // Each batch's copy look-up, to show how it grows with the scores stored before it.
    const lookups: number[] = [];
    const logger = pino(
      { level: 'debug' },
      {
        write: (line: string) => {
          const entry = JSON.parse(line) as { msg?: string; ms?: unknown; copiesMs?: number };
          if (entry.msg === 'scored mentions') stages = entry.ms;
          if (entry.msg === 'scored batch' && entry.copiesMs !== undefined) lookups.push(entry.copiesMs);
        },
      },
    );
    const result = await scoreNew({
      store,
      timezone: 'Asia/Seoul',
      logger,
      now: () => new Date(),
      threads: THREADS[phase],
    });
    // Closing checkpoints what scoring wrote: part of its cost. The checks read a reopened file.
    store.close();
    measure();
    const after = await openBenchStore(path);
    if (result.scored !== rows) throw new Error(`scored ${result.scored}, expected ${rows}`);
    const [check] = await after.query(
      "SELECT sum(mentions + reposts + copies) AS n FROM rollup_hourly WHERE topic_id = '*'",
    );
    if (Number(check?.n) !== rows) throw new Error(`rollups count ${check?.n}, expected ${rows}`);
    const [tags] = await after.query('SELECT count(*) AS n FROM mention_topics');
    // Rows stored out of the order readers prune by (the refresh skips rewriting tables it knows
    // are in order): must be 0 wherever the refresh compacted or skipped compacting.
    const unordered: Record<string, number> = {};
    for (const [table, a, b] of ORDERED) {
      const [row] = await after.query(
        `SELECT count(*) FILTER (WHERE ${a} < pa OR (${a} = pa AND ${b} < pb)) AS n FROM (
           SELECT ${a}, ${b}, lag(${a}) OVER w AS pa, lag(${b}) OVER w AS pb FROM ${table} WINDOW w AS (ORDER BY rowid))`,
      );
      unordered[table] = Number(row?.n);
    }
    after.close();
    const tenth = Math.max(1, Math.floor(lookups.length / 10));
    const mean = (xs: number[]) => Math.round(xs.reduce((a, x) => a + x, 0) / Math.max(1, xs.length));
    detail = {
      tags: Number(tags?.n),
      copies: result.copies,
      stages,
      // mean ms per batch of the first and the last tenth of the batches
      copyLookups: {
        batches: lookups.length,
        first: mean(lookups.slice(0, tenth)),
        last: mean(lookups.slice(-tenth)),
        each: lookups.map(Math.round),
      },
      unordered,
    };
  }
  if (phase === 'ingest') {
    store.close();
    measure();
  }
  process.stdout.write(JSON.stringify({ phase, rows, ...measured, rate: rows / measured.seconds, detail }));
}

function main(): void {
  const args = process.argv.slice(2);
  const rowsArg = args.indexOf('--rows');
  const rows = rowsArg >= 0 ? Number(args[rowsArg + 1]) : 1_000_000;
  const phaseArg = args.indexOf('--phase');
  const db = args[args.indexOf('--db') + 1] as string;
  if (phaseArg >= 0 && args[phaseArg + 1] === 'stage') {
    void stageOutputs(db, args[args.indexOf('--from') + 1] as string);
    return;
  }
  if (phaseArg >= 0) {
    void runPhase(args[phaseArg + 1] as Phase, db, rows);
    return;
  }
  const self = fileURLToPath(import.meta.url);
  const dir = join(tmpdir(), `earshot-bench-score-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const ingested = join(dir, 'ingested.duckdb');
  const results: Record<
    string,
    { rows: number; rate: number; peakRssMb: number; seconds: number; cpuSeconds: number; detail: unknown }
  > = {};
  const phasesArg = args.indexOf('--phases');
  const wanted =
    phasesArg >= 0 ? String(args[phasesArg + 1]).split(',') : [...Object.keys(THREADS), 'ceiling'];
  if (wanted.includes('ceiling') && !wanted.includes('score-3')) wanted.push('score-3');
  const run = (phase: string, db: string, extra: string[] = []) =>
    execFileSync(process.execPath, [self, '--phase', phase, '--db', db, '--rows', String(rows), ...extra], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
  const phases: Phase[] = ['ingest', 'score-1', 'score-2', 'score-3', 'ceiling'];
  for (const phase of phases.filter((p) => p === 'ingest' || wanted.includes(p))) {
    const db = phase === 'ingest' ? ingested : join(dir, `${phase}.duckdb`);
    if (phase !== 'ingest') copyFileSync(ingested, db);
    if (phase === 'ceiling') run('stage', db, ['--from', join(dir, 'score-3.duckdb')]);
    process.stderr.write(`${phase}: ${rows.toLocaleString('en')} mentions...\n`);
    results[phase] = JSON.parse(run(phase, db));
  }
  rmSync(dir, { recursive: true, force: true });
  const line = (label: string, phase: string) => {
    const r = results[phase];
    if (!r) return '';
    return `| ${label} | ${r.rows.toLocaleString('en')} | ${Math.round(r.rate).toLocaleString('en')} | ${r.seconds.toFixed(1)} s | ${r.cpuSeconds.toFixed(1)} s | ${Math.round(r.peakRssMb)} MB |`;
  };
  process.stdout.write(
    [
      `scoring benchmark: ${rows.toLocaleString('en')} mentions (half English, half Korean), ${TOPICS.length} topics, reporting zone Asia/Seoul`,
      '',
      '| phase | mentions | mentions/s | time | CPU time | peak RSS |',
      '|---|---|---|---|---|---|',
      ...[
        line('ingest: storeBatch, 1,000 per batch (for comparison)', 'ingest'),
        line('score: language + sentiment + copies + terms + tags + rollups, main thread only', 'score-1'),
        line('score: the same, one worker thread computing, the main thread reading and writing', 'score-2'),
        line('score: the same, two worker threads computing', 'score-3'),
        line(
          `ceiling: score-3's outputs written and rolled up with nothing computed (DuckDB's share)`,
          'ceiling',
        ),
      ].filter((l) => l !== ''),
      '',
      ...[...Object.keys(THREADS), 'ceiling']
        .filter((p) => results[p])
        .map((p) => `${p}: ${JSON.stringify(results[p]?.detail)}`),
      'target: score >= 50,000 mentions/s, peak RSS < 1.5 GB',
      '',
    ].join('\n'),
  );
}

main();
