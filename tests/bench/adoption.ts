/**
 * npm run bench:adoption [-- --employees N]
 *
 * A synthetic company (default 20,000 employees, 40 departments, 8 locations) over one year
 * (2025-04-01 .. 2026-03-31), generated deterministically: daily activity on three platforms, about
 * 2M interactions, 50k question threads, weekly email/meeting volume, and a second directory export
 * mid-year in which 3% of people moved department. Everything goes through the real importers: the
 * canonical CSV files are written to a temp folder and imported with importFiles, a month per file,
 * as an operator would. Two processes, so each peak RSS is its own:
 *   import  generate + import every file; rows/s, peak RSS, and DuckDB's own memory at the end
 *           then the default report's weeks kept, as an import does when it commits (warmSeconds)
 *   report  the full leadership report by department (every section, privacy planned), then
 *           rendered to HTML, from a freshly opened database: the first report (its weeks kept by
 *           the import), one with nothing kept (cold), and two repeats; wall and CPU seconds each,
 *           plus peak RSS. `--warm` keeps the weeks first, for a database no import warmed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importFiles } from '../../collectors/imports/write.js';
import { renderReport } from '../../pipeline/adoption/render.js';
import { adoptionReport } from '../../pipeline/adoption/report.js';
import { bumpAdoptionData, warmWeekFigures } from '../../pipeline/adoption/week-cache.js';
import { seededRandom as random } from '../../pipeline/random.js';
import { openBenchStore } from './store.js';

const FIRST_DAY = Date.parse('2025-04-01T00:00:00Z');
const DAYS = 365;
const INTERACTIONS = 2_000_000;
const THREADS = 50_000;
const PLATFORMS = ['viva_engage', 'teams', 'slack'] as const;
const DEPARTMENTS = 40;
const LOCATIONS = ['Seoul', 'Busan', 'Incheon', 'Daegu', 'Daejeon', 'Gwangju', 'Ulsan', 'Suwon'];
const LEVELS = ['IC1', 'IC2', 'IC3', 'Manager', 'Director'];

const TIME_ZONE = 'Asia/Seoul';
const day = (n: number) => new Date(FIRST_DAY + n * 86_400_000).toISOString().slice(0, 10);
const id = (i: number) => `E${String(i).padStart(6, '0')}`;

interface Person {
  dept: number;
  loc: number;
  level: number;
  manager: boolean;
  executive: boolean;
  hire: string;
  term: string;
  /** Chance of being active on a platform on a day, and of contributing when active. */
  active: number;
  contributes: number;
}

function company(n: number): Person[] {
  const rnd = random(1);
  return Array.from({ length: n }, (_, i) => {
    const r = rnd();
    const level = Math.floor(rnd() * LEVELS.length);
    return {
      // By number, so a colleague in the same department is easy to pick (same number mod 40).
      dept: i % DEPARTMENTS,
      loc: rnd() < 0.5 ? 0 : 1 + Math.floor(rnd() * (LOCATIONS.length - 1)),
      level,
      manager: level >= 3,
      executive: i % 200 === 0,
      // 2% hired and 2% gone during the year; everyone else long before.
      hire:
        r < 0.02
          ? day(Math.floor(rnd() * DAYS))
          : `20${10 + Math.floor(rnd() * 14)}-0${1 + Math.floor(rnd() * 9)}-15`,
      term: r > 0.98 ? day(Math.floor(rnd() * DAYS)) : '',
      active: r < 0.1 ? 0 : 0.05 + rnd() * 0.35,
      contributes: rnd() < 0.3 ? rnd() * 0.5 : 0,
    };
  });
}

function directoryCsv(people: Person[], asOf: string, moved: (i: number) => boolean): string {
  const lines = [
    'employee_id,email,department,location,level,is_manager,is_executive,manager_id,hire_date,term_date,as_of',
  ];
  people.forEach((p, i) => {
    const dept = moved(i) ? (p.dept + 1) % DEPARTMENTS : p.dept;
    lines.push(
      `${id(i)},${id(i).toLowerCase()}@example.com,Dept ${String(dept).padStart(2, '0')},${LOCATIONS[p.loc]},${LEVELS[p.level]},${p.manager},${p.executive},${id(i - (i % 50))},${p.hire},${p.term},${asOf}`,
    );
  });
  return lines.join('\n');
}

/** Writes every canonical file into `dir` and returns them in import order. */
function generate(dir: string, n: number): string[] {
  const people = company(n);
  const files: string[] = [];
  const put = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    files.push(join(dir, name));
  };
  put(
    'employees-1.csv',
    directoryCsv(people, day(0), () => false),
  );
  const rnd = random(2);
  const header =
    'activity_date,platform,employee_id,posts,replies,reactions,reads,chat_messages,channel_messages,meetings_attended';
  let lines = [header];
  let monthsWritten = 0;
  for (let d = 0; d <= DAYS; d++) {
    const date = day(d);
    // A month is written when the next begins; the department moves land after the sixth.
    if (d === DAYS || (d > 0 && date.endsWith('-01'))) {
      put(`activity-${day(d - 1).slice(0, 7)}.csv`, lines.join('\n'));
      lines = [header];
      if (++monthsWritten === 6)
        put(
          'employees-2.csv',
          directoryCsv(people, date, (i) => i % 33 === 0),
        );
      if (d === DAYS) break;
    }
    for (let i = 0; i < n; i++) {
      const p = people[i] as Person;
      for (const platform of PLATFORMS) {
        if (rnd() >= p.active / PLATFORMS.length) continue;
        const c = rnd() < p.contributes;
        const posts = c && rnd() < 0.3 ? 1 : 0;
        const replies = c && rnd() < 0.5 ? 1 + Math.floor(rnd() * 3) : 0;
        const reactions = c ? Math.floor(rnd() * 4) : 0;
        const teams = platform === 'teams';
        lines.push(
          `${date},${platform},${id(i)},${posts},${replies},${reactions},${1 + Math.floor(rnd() * 20)},${teams ? Math.floor(rnd() * 30) : 0},0,${teams ? Math.floor(rnd() * 3) : 0}`,
        );
      }
    }
  }

  const span = DAYS * 86_400_000;
  for (let f = 0; f < 12; f++) {
    const lines = ['event_ts,platform,from_employee_id,to_employee_id,interaction_type,thread_id'];
    for (let k = Math.round((f * INTERACTIONS) / 12); k < Math.round(((f + 1) * INTERACTIONS) / 12); k++) {
      const from = Math.floor(rnd() * n);
      // Seven in ten interactions stay in the department: pick a colleague with the same number mod 40.
      const sameDept = rnd() < 0.7;
      let to = sameDept ? (from + DEPARTMENTS * (1 + Math.floor(rnd() * 20))) % n : Math.floor(rnd() * n);
      if (to === from) to = (to + 1) % n;
      const ts = new Date(FIRST_DAY + Math.floor((k * span) / INTERACTIONS)).toISOString();
      lines.push(
        `${ts},${PLATFORMS[k % 3]},${id(from)},${id(to)},${rnd() < 0.6 ? 'reply' : 'reaction'},T${k % THREADS}`,
      );
    }
    put(`interactions-${String(f).padStart(2, '0')}.csv`, lines.join('\n'));
  }

  const threads = [
    'platform,thread_id,group_name,author_id,created_ts,is_question,first_reply_ts,first_reply_by',
  ];
  for (let t = 0; t < THREADS; t++) {
    const created = FIRST_DAY + Math.floor((t * span) / THREADS);
    const answered = rnd() < 0.75;
    const reply = created + Math.floor(rnd() * rnd() * 72 * 3_600_000);
    threads.push(
      `${PLATFORMS[t % 3]},T${t},Group ${t % 300},${id(Math.floor(rnd() * n))},${new Date(created).toISOString()},true,${answered ? new Date(reply).toISOString() : ''},${answered ? id(Math.floor(rnd() * n)) : ''}`,
    );
  }
  put('threads.csv', threads.join('\n'));

  // Weekly volume from 2025-03-03 (four weeks before the network) through the year, by quarter.
  const weeks = Array.from({ length: 57 }, (_, w) =>
    new Date(Date.parse('2025-03-03T00:00:00Z') + w * 7 * 86_400_000).toISOString().slice(0, 10),
  );
  for (let q = 0; q < 4; q++) {
    const lines = ['week_start,employee_id,emails_sent,emails_received,meetings_attended,meeting_hours'];
    for (const week of weeks.slice(q * 15, (q + 1) * 15))
      for (let i = 0; i < n; i++) {
        const p = people[i] as Person;
        const after = week >= '2025-04-01' && p.contributes > 0 ? 0.9 : 1;
        lines.push(
          `${week},${id(i)},${Math.round((30 + rnd() * 30) * after)},${Math.round(100 + rnd() * 60)},${Math.round((8 + rnd() * 8) * after)},${(6 + rnd() * 8).toFixed(1)}`,
        );
      }
    put(`comm-volume-${q}.csv`, lines.join('\n'));
  }
  return files;
}

async function runImport(db: string, dir: string, n: number): Promise<void> {
  const started = performance.now();
  const files = generate(dir, n);
  const generated = (performance.now() - started) / 1000;
  const store = await openBenchStore(db);
  const rows: Record<string, number> = {};
  let importSeconds = 0;
  for (const path of files) {
    const t0 = performance.now();
    const outcome = await importFiles(store, {
      kind: 'auto',
      files: [{ name: basename(path), content: readFileSync(path) }],
      now: new Date('2026-04-01T00:00:00Z'),
    });
    importSeconds += (performance.now() - t0) / 1000;
    for (const f of outcome.files)
      for (const [table, k] of Object.entries(f.rows)) rows[table] = (rows[table] ?? 0) + k;
    rmSync(path);
  }
  // What an import adds after it commits: the default report's weeks, computed and kept.
  const warmSeconds = await timed(() => warmWeekFigures(store, TIME_ZONE));
  // What DuckDB holds at the end (buffer pool, primary-key indexes), apart from the JS heap.
  const [held] = await store.query('SELECT sum(memory_usage_bytes) AS b FROM duckdb_memory()');
  await store.closeGracefully();
  const total = Object.values(rows).reduce((a, b) => a + b, 0);
  process.stdout.write(
    JSON.stringify({
      phase: 'import',
      generatedSeconds: generated,
      importSeconds,
      warmSeconds,
      rows,
      rowsPerSecond: total / importSeconds,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      duckdbMemoryMb: Number(held?.b) / 2 ** 20,
    }),
  );
}

async function runReport(db: string, warm: boolean): Promise<void> {
  const store = await openBenchStore(db);
  const [departments] = await store.query('SELECT count(DISTINCT department) AS n FROM employees');
  // As the end of an import does (a database the import phase made is warmed already).
  const warmSeconds = warm ? await timed(() => warmWeekFigures(store, TIME_ZONE)) : undefined;
  const runs: { run: string; seconds: number; cpuSeconds: number }[] = [];
  let groups = 0;
  let html = 0;
  const report = async (run: string) => {
    const t0 = performance.now();
    // CPU of this process (JS and DuckDB's threads): steadier than wall time on a shared, loaded machine.
    const cpu0 = process.cpuUsage();
    const r = await adoptionReport(store, { timezone: TIME_ZONE, minGroupSize: 5 }, { by: ['department'] });
    html = renderReport(r, 'html', 'en').length;
    const cpu = process.cpuUsage(cpu0);
    runs.push({ run, seconds: (performance.now() - t0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 });
    groups = r.groups.length;
  };
  // The first report after opening: its weeks kept by the import when it warmed them.
  await report('first');
  // Then with nothing kept (as after a write that did not warm, say an erasure), then repeats.
  await store.write(bumpAdoptionData);
  await report('cold');
  await report('repeat');
  await report('repeat');
  store.close();
  process.stdout.write(
    JSON.stringify({
      phase: 'report',
      departments: Number(departments?.n),
      groups,
      htmlBytes: html,
      warmSeconds,
      runs,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    }),
  );
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

function main(): void {
  const args = process.argv.slice(2);
  const arg = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const n = Number(arg('--employees') ?? 20_000);
  const phase = arg('--phase');
  const db = arg('--db') as string;
  if (phase === 'import') {
    void runImport(db, arg('--dir') as string, n);
    return;
  }
  if (phase === 'report') {
    void runReport(db, args.includes('--warm'));
    return;
  }
  const self = fileURLToPath(import.meta.url);
  const dir = join(tmpdir(), `earshot-bench-adoption-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  try {
    for (const p of ['import', 'report']) {
      process.stderr.write(`${p}: ${n.toLocaleString('en')} employees...\n`);
      const out = execFileSync(
        process.execPath,
        [self, '--phase', p, '--db', join(dir, 'a.duckdb'), '--dir', dir, '--employees', String(n)],
        {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      process.stdout.write(`${out}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
