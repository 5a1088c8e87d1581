import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliPath } from '../helpers/cli.js';
import { hnSearch, syntheticHits } from '../helpers/fake-hn.js';
import { type Loopback, startLoopback } from '../helpers/loopback.js';

/** Where a kill can land: the parts of one round of work. */
export type Phase = 'collect' | 'score' | 'import';
export const PHASES: readonly Phase[] = ['collect', 'score', 'import'];

const ITEMS_PER_ROUND = 300;
const EMPLOYEES = 600;
const START = Date.parse('2026-11-22T00:00:00Z');

/**
 * One round: the source shows 300 more stories, `collect hackernews` stores, tags and scores them,
 * then one `import auto` brings the org directory (some employees move department each round), a
 * week of daily activity and the week's interactions in one transaction. Every child gets its
 * round's frozen clock (EARSHOT_NOW), so two runs of the same rounds store the same values.
 */
export interface Workload {
  rounds: number;
  setRound(round: number): void;
  steps(round: number): { args: string[]; phases: Phase[] }[];
  env(db: string, round: number): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

function csv(header: string, rows: Iterable<unknown[]>): string {
  const lines = [header];
  for (const r of rows) lines.push(r.join(','));
  return `${lines.join('\n')}\n`;
}

const day = (round: number, d: number) => new Date(Date.parse('2026-09-07') + (round * 7 + d) * 86_400_000);

function writeImportFiles(dir: string, round: number): string[] {
  const id = (i: number) => `E${String(i).padStart(4, '0')}`;
  const employees = csv(
    'employee_id,email,display_name,department,location,level,is_manager,is_executive,manager_id,hire_date,term_date',
    Array.from({ length: EMPLOYEES }, (_, i) => [
      id(i),
      `user${i}@example.com`,
      `User ${i}`,
      // A few people move each round, so the directory's history grows too.
      `Dept${(i + (i % 50 < round ? 1 : 0)) % 8}`,
      ['Seoul', 'Busan', 'Austin', 'Berlin'][i % 4],
      i % 10 === 0 ? 'Manager' : 'IC',
      i % 10 === 0,
      i === 0,
      i === 0 ? '' : id(Math.floor(i / 10) * 10 === i ? 0 : Math.floor(i / 10) * 10),
      '2020-01-02',
      '',
    ]),
  );
  function* activity() {
    for (let d = 0; d < 7; d++)
      for (let i = 0; i < EMPLOYEES; i++)
        if ((i * 7 + d + round) % 3 !== 0)
          yield [
            day(round, d).toISOString().slice(0, 10),
            'viva_engage',
            id(i),
            (i + d) % 3,
            (i * d) % 4,
            (i + round) % 5,
            (i + d * 3) % 20,
            0,
            0,
            d % 2,
          ];
  }
  function* interactions() {
    for (let k = 0; k < 1500; k++)
      yield [
        new Date(day(round, k % 7).getTime() + k * 1000).toISOString(),
        'viva_engage',
        id((k * 13) % EMPLOYEES),
        id((k * 29 + 1) % EMPLOYEES),
        ['reply', 'reaction', 'mention'][k % 3],
        `T${round}-${k % 500}`,
      ];
  }
  const files = {
    [`employees-${round}.csv`]: employees,
    [`activity-${round}.csv`]: csv(
      'activity_date,platform,employee_id,posts,replies,reactions,reads,chat_messages,channel_messages,meetings_attended',
      activity(),
    ),
    [`interactions-${round}.csv`]: csv(
      'event_ts,platform,from_employee_id,to_employee_id,interaction_type,thread_id',
      interactions(),
    ),
  };
  return Object.entries(files).map(([name, text]) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  });
}

export async function startWorkload(dir: string, rounds: number): Promise<Workload> {
  // Forty authors, so author counts and opinion-leader rollups have something to get wrong.
  const hits = syntheticHits(ITEMS_PER_ROUND * rounds).map((h, i) => ({ ...h, author: `writer${i % 40}` }));
  let visible = hits.slice(0, 0);
  let search = hnSearch(visible);
  // Slow pages of five make a round's collection long enough to be killed in the middle of it; one
  // query (one partition), so "partition done" is the end of the round's collection.
  const api: Loopback = await startLoopback(async (req) => {
    await new Promise((r) => setTimeout(r, 10));
    return search(req);
  });
  const config = join(dir, 'earshot.yaml');
  writeFileSync(
    config,
    `timezone: UTC
topics:
  - {id: acme, name: Acme, keywords: [acme], query: 'acme AND story'}
  - {id: numbers, name: Numbers, keywords: [number], query: 'number NOT acme'}
sources:
  hackernews: {baseUrl: "${api.url}", hitsPerPage: 5, queries: [acme]}
`,
  );
  const files = Array.from({ length: rounds }, (_, r) => writeImportFiles(dir, r));
  return {
    rounds,
    setRound(round) {
      visible = hits.slice(0, ITEMS_PER_ROUND * (round + 1));
      search = hnSearch(visible);
    },
    steps: (round) => [
      { args: ['collect', 'hackernews'], phases: ['collect', 'score'] },
      { args: ['import', 'auto', ...(files[round] ?? [])], phases: ['import'] },
    ],
    env: (db, round) => ({
      EARSHOT_CONFIG: config,
      EARSHOT_DB: db,
      EARSHOT_NOW: new Date(START + round * 3_600_000).toISOString(),
      LOG_LEVEL: 'debug',
    }),
    close: () => api.close(),
  };
}

/** Milliseconds after spawn at which each progress signal was first seen. */
export interface Marks {
  started?: number;
  collected?: number;
  scored?: number;
  exit: number;
}

export interface StepOutcome {
  code: number | null;
  killed: boolean;
  /** Which part of the step the process was in when it was killed, from the signals it had sent. */
  landed: Phase | 'startup' | 'after scoring' | null;
  killedAtMs: number | null;
  marks: Marks;
  stderr: string;
}

/** The log lines that open each phase (debug level). */
const SIGNALS: Array<[keyof Marks, string]> = [
  ['started', 'partition started'],
  ['collected', 'partition done'],
  ['scored', 'scored mentions'],
];

/**
 * Runs one CLI step as a real child. With `kill`, SIGKILLs it `delayMs` after its phase began: the
 * collect phase at "partition started", scoring at "partition done", an import at spawn.
 */
export function runStep(
  args: string[],
  env: NodeJS.ProcessEnv,
  kill?: { phase: Phase; delayMs: number },
): Promise<StepOutcome> {
  const child = spawn(process.execPath, [cliPath, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const t0 = performance.now();
  const marks: Partial<Marks> = {};
  let stderr = '';
  let killedAtMs: number | null = null;
  let landed: StepOutcome['landed'] = null;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    timer = setTimeout(() => {
      killedAtMs = Math.round(performance.now() - t0);
      landed =
        args[0] === 'import'
          ? 'import'
          : marks.scored !== undefined
            ? 'after scoring'
            : marks.collected !== undefined
              ? 'score'
              : marks.started !== undefined
                ? 'collect'
                : 'startup';
      child.kill('SIGKILL');
    }, kill?.delayMs);
  };
  if (kill?.phase === 'import') arm();
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    for (const [mark, text] of SIGNALS) {
      if (marks[mark] === undefined && stderr.includes(`"msg":"${text}"`)) {
        marks[mark] = Math.round(performance.now() - t0);
        if (
          timer === undefined &&
          ((kill?.phase === 'collect' && mark === 'started') ||
            (kill?.phase === 'score' && mark === 'collected'))
        )
          arm();
      }
    }
  });
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const killed = signal === 'SIGKILL';
      resolve({
        code,
        killed,
        landed: killed ? landed : null,
        killedAtMs: killed ? killedAtMs : null,
        marks: { ...marks, exit: Math.round(performance.now() - t0) },
        stderr,
      });
    });
  });
}

export interface Kill {
  round: number;
  aimedAt: Phase;
  landed: StepOutcome['landed'];
  afterMs: number;
}

/** How long each phase took in the uninterrupted run, per round (the kills' delays scale to them). */
export type Durations = Array<Record<Phase, number> & { startup: number }>;

/** The uninterrupted run: every step once, in order, timed. */
export async function runClean(w: Workload, db: string): Promise<Durations> {
  const durations: Durations = [];
  for (let round = 0; round < w.rounds; round++) {
    w.setRound(round);
    const [collect, load] = w.steps(round);
    const c = await runStep(collect?.args ?? [], w.env(db, round));
    const i = await runStep(load?.args ?? [], w.env(db, round));
    for (const o of [c, i]) if (o.code !== 0) throw new Error(`clean run failed: ${o.stderr}`);
    const m = c.marks;
    if (m.started === undefined || m.collected === undefined || m.scored === undefined)
      throw new Error(`collect sent no progress signals: ${c.stderr.slice(0, 2000)}`);
    durations.push({
      startup: m.started,
      collect: m.collected - m.started,
      score: m.scored - m.collected,
      import: i.marks.exit,
    });
  }
  return durations;
}

/**
 * The same rounds with `kills` SIGKILLs spread over the three phases: in each round, each phase
 * still owed a kill gets one, at a seeded random point within the time that phase took in the
 * clean run; a killed step is restarted (its next phase may then be killed) until it exits on its
 * own. Load on the machine changes how long phases take, so a kill that came too late (the phase
 * or the whole step had ended) makes that phase's next delays half as long; a phase owed a kill
 * tries again next round.
 */
export async function runKilled(
  w: Workload,
  db: string,
  durations: Durations,
  kills: number,
  random: () => number,
): Promise<Kill[]> {
  const done: Kill[] = [];
  const owed = Object.fromEntries(
    PHASES.map((p, i) => [p, Math.floor(kills / PHASES.length) + (i < kills % PHASES.length ? 1 : 0)]),
  ) as Record<Phase, number>;
  const scale: Record<Phase, number> = { collect: 0.8, score: 0.8, import: 1 };
  for (let round = 0; round < w.rounds; round++) {
    w.setRound(round);
    const d = durations[round] ?? durations[durations.length - 1];
    if (!d) throw new Error('no durations measured');
    for (const step of w.steps(round)) {
      const slots = [...step.phases];
      for (;;) {
        let phase: Phase | undefined;
        while (phase === undefined && slots.length > 0 && done.length < kills) {
          const next = slots.shift() as Phase;
          if (owed[next] > 0) phase = next;
        }
        // Imports are timed from spawn: past most of the start-up, into parsing and the transaction.
        const delayMs =
          phase === 'import'
            ? scale.import * (d.startup * 0.8 + random() * (d.import - d.startup * 0.8))
            : phase
              ? scale[phase] * random() * d[phase]
              : 0;
        const o = await runStep(step.args, w.env(db, round), phase ? { phase, delayMs } : undefined);
        if (phase && (!o.killed || o.landed !== phase)) scale[phase] /= 2;
        if (o.killed && phase) {
          done.push({ round, aimedAt: phase, landed: o.landed, afterMs: o.killedAtMs ?? 0 });
          if (o.landed === 'collect' || o.landed === 'score' || o.landed === 'import') owed[o.landed]--;
          continue;
        }
        if (o.code !== 0) throw new Error(`${step.args.join(' ')} failed after restart: ${o.stderr}`);
        break;
      }
    }
  }
  return done;
}
