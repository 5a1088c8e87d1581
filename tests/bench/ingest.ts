/**
 * npm run bench:ingest [-- --rows N]
 *
 * 1,000,000 synthetic mentions shaped like the X recent-search fixture (every column filled, ~300
 * bytes of raw JSON, tweet-length texts) into a DuckDB file with the primary key, four ways, each
 * in its own process so peak RSS is its own:
 *   bare    DuckDB's Appender with whole data chunks straight into the table, no dedup (the limit)
 *   naive   one prepared INSERT per row inside one transaction
 *   fresh   the real runner (collectSource) on an empty table
 *   upsert  the real runner again on the same items with new engagement counts
 * Time includes generating the items and closing (checkpointing) the database. The naive way runs
 * on the first 100,000 items only (at under 1,000 rows/s the full million would take over 20
 * minutes); its rate only falls as the table grows, so the sample flatters it.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBTimestampTZValue, type DuckDBValue } from '@duckdb/node-api';
import { z } from 'zod';
import type { Batch, Collector, MentionRecord } from '../../collectors/contract.js';
import { collectSource } from '../../collectors/runner.js';
import { appendRows, mentionRow } from '../../pipeline/ingest.js';
import { silentLogger } from '../../pipeline/logger.js';
import { openBenchStore } from './store.js';

type Phase = 'bare' | 'naive' | 'fresh' | 'upsert';
const PAGE = 100;
const T0 = Date.parse('2026-11-01T00:00:00Z');

const WORDS_EN =
  'acme new phone battery support ticket broken love the update sync app store price launch great awful today'.split(
    ' ',
  );
const WORDS_KO =
  '한빛전자 새 노트북 배터리 서비스센터 너무 느려요 만족 가격 대비 출시 업데이트 최고 실망 ㅋㅋ ㅠㅠ'.split(
    ' ',
  );

/** A tweet-like text of 40..280 characters, deterministic in i. */
function textOf(i: number): string {
  const words = i % 3 === 0 ? WORDS_KO : WORDS_EN;
  const target = 40 + ((i * 7919) % 241);
  let text = '';
  for (let k = 0; text.length < target; k++) text += `${words[(i * 31 + k * 7) % words.length]} `;
  return text.slice(0, target).trimEnd();
}

/** Item i as the X collector would yield it; `round` changes only engagement counts. */
function mentionOf(i: number, round: number): MentionRecord {
  const id = String(1868000000000000000n + BigInt(i));
  const author = i % 100_000;
  const text = textOf(i);
  const created = new Date(T0 + i * 2000);
  const likes = (i % 97) + round * 3;
  const raw = {
    id,
    text: text.slice(0, 80),
    author_id: String(2244994945 + author),
    created_at: created.toISOString(),
    lang: i % 3 === 0 ? 'ko' : 'en',
    conversation_id: id,
    public_metrics: {
      retweet_count: i % 13,
      reply_count: i % 7,
      like_count: likes,
      impression_count: i % 5000,
    },
  };
  return {
    nativeId: id,
    url: `https://x.com/user${author}/status/${id}`,
    title: null,
    text,
    lang: raw.lang,
    channel: null,
    authorId: raw.author_id,
    authorHandle: `user${author}`,
    authorName: `User ${author}`,
    authorFollowers: (author * 37) % 250_000,
    createdAt: created,
    createdAtEstimated: false,
    likes,
    reposts: i % 13,
    replies: i % 7,
    views: i % 5000,
    parentId: i % 5 === 0 ? String(1868000000000000000n + BigInt(i - 1)) : null,
    conversationId: id,
    repostOf: i % 11 === 0 ? String(1868000000000000000n + BigInt(i + 1)) : null,
    raw,
  };
}

/** A source that pages through the synthetic items 100 at a time, like X's max_results. */
function syntheticCollector(
  rows: number,
  round: number,
): Collector<object, { key: string }, { next: number }> {
  return {
    id: 'x',
    defaultBaseUrl: 'http://127.0.0.1',
    configSchema: z.object({}),
    bookmarkSchema: z.object({ next: z.number() }),
    partitions: () => [{ key: 'bench' }],
    check: async () => ({ ok: true }),
    async *read(_config, _partition, bookmark): AsyncGenerator<Batch<{ next: number }>> {
      for (let start = bookmark?.next ?? 0; start < rows; start += PAGE) {
        const records: MentionRecord[] = [];
        for (let i = start; i < Math.min(rows, start + PAGE); i++) records.push(mentionOf(i, round));
        yield { records, bookmark: { next: start + PAGE } };
      }
    },
  };
}

async function runPhase(phase: Phase, path: string, rows: number): Promise<void> {
  const started = performance.now();
  const store = await openBenchStore(path);
  const now = new DuckDBTimestampTZValue(BigInt(Date.now()) * 1000n);
  if (phase === 'bare') {
    for (let start = 0; start < rows; start += 20_000) {
      const batch: DuckDBValue[][] = [];
      for (let i = start; i < Math.min(rows, start + 20_000); i++)
        batch.push(mentionRow('x', 'bench', mentionOf(i, 0), now));
      await store.write((conn) => appendRows(conn, 'mentions', batch));
    }
  } else if (phase === 'naive') {
    await store.write(async (conn) => {
      const insert = await conn.prepare(
        `INSERT INTO mentions VALUES (${Array.from({ length: 25 }, (_, k) => `$${k + 1}`).join(', ')})`,
      );
      for (let i = 0; i < rows; i++) {
        insert.bind(mentionRow('x', 'bench', mentionOf(i, 0), now));
        await insert.run();
      }
    });
  } else {
    if (phase === 'upsert') await store.write((conn) => conn.run('DELETE FROM bookmarks'));
    const results = await collectSource(
      { id: 'x', enabled: true, schedule: '* * * * *', baseUrl: 'http://127.0.0.1', settings: {} },
      {
        store,
        logger: silentLogger,
        fetch,
        now: () => new Date(),
        sleep: async () => undefined,
        signal: new AbortController().signal,
        maxRateLimitWaitMs: 0,
      },
      {},
      syntheticCollector(rows, phase === 'upsert' ? 1 : 0),
    );
    const r = results[0];
    const expectedNew = phase === 'fresh' ? rows : 0;
    if (r?.status !== 'ok' || r.rows !== rows || r.newRows !== expectedNew) {
      throw new Error(`runner did not store what it should: ${JSON.stringify(r)}`);
    }
  }
  const [count] = await store.query('SELECT count(*) AS n FROM mentions');
  store.close();
  const seconds = (performance.now() - started) / 1000;
  if (Number(count?.n) !== rows) throw new Error(`${phase}: ${count?.n} rows stored, expected ${rows}`);
  process.stdout.write(
    JSON.stringify({
      phase,
      rows,
      seconds,
      rate: rows / seconds,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    }),
  );
}

function main(): void {
  const args = process.argv.slice(2);
  const rowsArg = args.indexOf('--rows');
  const rows = rowsArg >= 0 ? Number(args[rowsArg + 1]) : 1_000_000;
  const naiveRows = Math.min(rows, 100_000);
  const phaseArg = args.indexOf('--phase');
  if (phaseArg >= 0) {
    void runPhase(args[phaseArg + 1] as Phase, args[args.indexOf('--db') + 1] as string, rows);
    return;
  }
  const self = fileURLToPath(import.meta.url);
  const dir = join(tmpdir(), `earshot-bench-${process.pid}`);
  const file = (name: string) => join(dir, `${name}.duckdb`);
  const results: Record<string, { rows: number; rate: number; peakRssMb: number; seconds: number }> = {};
  for (const [phase, db, n] of [
    ['bare', file('bare'), rows],
    ['fresh', file('runner'), rows],
    ['upsert', file('runner'), rows],
    ['naive', file('naive'), naiveRows],
  ] as const) {
    process.stderr.write(`${phase}: ${n.toLocaleString('en')} mentions...\n`);
    const out = execFileSync(process.execPath, [self, '--phase', phase, '--db', db, '--rows', String(n)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1024 * 1024,
    });
    results[phase] = JSON.parse(out);
  }
  rmSync(dir, { recursive: true, force: true });
  const bare = results.bare?.rate ?? 1;
  const line = (label: string, phase: string) => {
    const r = results[phase];
    if (!r) return '';
    return `| ${label} | ${r.rows.toLocaleString('en')} | ${Math.round(r.rate).toLocaleString('en')} | ${(r.rate / bare).toFixed(2)}x | ${r.seconds.toFixed(1)} s | ${Math.round(r.peakRssMb)} MB |`;
  };
  process.stdout.write(
    [
      `ingest benchmark: ${rows.toLocaleString('en')} mentions, DuckDB file with PRIMARY KEY (source, native_id)`,
      '',
      '| way | mentions | mentions/s | vs bare limit | time | peak RSS |',
      '|---|---|---|---|---|---|',
      line('bare limit: Appender, whole data chunks, no dedup', 'bare'),
      line('earshot runner, fresh inserts', 'fresh'),
      line('earshot runner, re-run (upserts)', 'upsert'),
      line('naive: prepared INSERT per row, one transaction', 'naive'),
      '',
      'targets: fresh >= 45,000/s and >= 0.80x bare; upserts >= 30,000/s; peak RSS < 1 GB',
      '',
    ].join('\n'),
  );
}

main();
