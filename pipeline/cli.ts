#!/usr/bin/env node
import { existsSync, readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { Argument, Command, Option } from 'commander';
import { importers } from '../collectors/imports/registry.js';
import type { ImportOutcome } from '../collectors/imports/write.js';
import type { PartitionResult, ProgressEvent } from '../collectors/runner.js';
import { renderReport } from './adoption/render.js';
import type { AdoptionReport } from './adoption/report.js';
import type { Alert } from './alerts/records.js';
import type { AuditRecord } from './audit/log.js';
import { readNewPassword } from './auth/prompt.js';
import type { UserRecord } from './auth/users.js';
import type { EraseResult } from './compliance/erase.js';
import type { RetentionResult } from './compliance/retention.js';
import type { XComplianceResult } from './compliance/x.js';
import { type Config, loadConfig } from './config.js';
import { csvCell } from './csv.js';
import { buildDemo, DEFAULT_SEED } from './demo/build.js';
import { ConfigError, UserError } from './errors.js';
import { createLogger, type Logger } from './logger.js';
import { defaultDemoPath, projectRoot } from './paths.js';
import { progressDisplay } from './progress.js';
import { callServer, findServer, uploadImport } from './remote.js';
import type { ScoreResult } from './scoring/score.js';
import { redact } from './secrets.js';
import type { CorrectionResult } from './sentiment/corrections.js';
import type { EvalLanguage, LearnResult } from './sentiment/learn.js';
import { serve } from './serve.js';
import { openServices } from './services.js';
import type { QueryResult } from './sql-guard.js';
import type { listTopics } from './topics/edit.js';
import type { TopicTagResult } from './topics/tag.js';
import { type CheckOutcome, remoteVerbs, type SourceStatus, type VerbName } from './verbs.js';

const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string };

interface Runtime {
  config: Config;
  logger: Logger;
}

function runtime(): Runtime {
  const config = loadConfig();
  return { config, logger: createLogger(config.logLevel) };
}

/**
 * Runs a verb where the database is: through the server that owns the file when one runs (the user
 * never sees a lock error), else by opening the file in this process.
 */
async function runVerb<T>(
  rt: Runtime,
  name: VerbName,
  args: object,
  onProgress?: (e: never) => void,
): Promise<T> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const server = findServer(rt.config.databasePath);
    if (server) {
      const answer = await callServer(server, name, args, onProgress as (e: unknown) => void);
      if (answer) return answer.value as T;
    }
    const controller = new AbortController();
    const interrupt = () => controller.abort(new Error('interrupted'));
    process.once('SIGINT', interrupt);
    process.once('SIGTERM', interrupt);
    let svc: Awaited<ReturnType<typeof openServices>>;
    try {
      svc = await openServices(rt.config, rt.logger, controller.signal);
    } catch (err) {
      // A server may have taken the file between our look and our open: go through it then.
      if (
        err instanceof UserError &&
        err.status === 409 &&
        attempt === 0 &&
        findServer(rt.config.databasePath)
      )
        continue;
      throw err;
    }
    try {
      // biome-ignore lint/suspicious/noExplicitAny: args come from commander, shaped per verb below.
      return (await (remoteVerbs[name].run as any)(svc, args, onProgress)) as T;
    } finally {
      process.off('SIGINT', interrupt);
      process.off('SIGTERM', interrupt);
      await svc.store.closeGracefully();
    }
  }
  throw new UserError('the database is busy; try again');
}

/** Fixed-width columns for terminals; cells are single-line. */
export function formatTable(columns: string[], rows: unknown[][]): string {
  const cell = (v: unknown) =>
    (v instanceof Date ? v.toISOString() : v === null || v === undefined ? '' : String(v)).replace(
      /\s+/g,
      ' ',
    );
  const text = rows.map((r) => r.map(cell));
  const widths = columns.map((c, i) =>
    Math.min(60, Math.max(c.length, ...text.map((r) => r[i]?.length ?? 0))),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) =>
        c.length > (widths[i] ?? 0) ? `${c.slice(0, (widths[i] ?? 1) - 1)}…` : c.padEnd(widths[i] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...text.map(line)].join('\n');
}

/** Who corrects from the command line when --by is not given. */
function localUserName(): string {
  try {
    return userInfo().username || 'local';
  } catch {
    return 'local';
  }
}

let longRunning = false;
const out = (text: string) => process.stdout.write(`${text}\n`);

const program = new Command('earshot')
  .description('social listening and internal-network adoption analytics on DuckDB')
  .version(pkg.version)
  .showHelpAfterError()
  .addHelpText(
    'after',
    '\nEnvironment: EARSHOT_CONFIG, EARSHOT_DB, EARSHOT_HOST, PORT, EARSHOT_SECRETS, EARSHOT_MEMORY_LIMIT, LOG_LEVEL (see README).',
  );

program
  .command('serve')
  .description('run the scheduler and the dashboard (what `npm start` runs)')
  .action(async () => {
    const rt = runtime();
    longRunning = true;
    await serve(rt.config, rt.logger);
  });

program
  .command('demo')
  .description('rebuild the demo database (an invented company, ~90 days of mentions, an adoption data set)')
  .option('--seed <n>', 'random seed: the same seed gives the same data', String(DEFAULT_SEED))
  .option('--out <file>', 'where to write it (default EARSHOT_DEMO_DB or data/demo.duckdb)')
  .action(async (opts: { seed: string; out?: string }) => {
    if (!/^\d+$/.test(opts.seed)) throw new UserError(`--seed: "${opts.seed}" is not a whole number`);
    const rt = runtime();
    // Built in this process, never through a server: the demo is its own file, written whole.
    const r = await buildDemo({
      path: resolve(opts.out ?? rt.config.demoPath ?? defaultDemoPath),
      seed: Number(opts.seed),
      now: new Date(),
      config: rt.config,
      logger: rt.logger,
    });
    out(
      `${r.path}: ${r.mentions} mentions, ${r.alerts} alerts, ${r.employees} employees (seed ${r.seed}, ${r.seconds.toFixed(1)} s)`,
    );
  });

program
  .command('collect')
  .description('collect now: every enabled source, or one')
  .argument('[source]', 'source id, e.g. x, rss, naver')
  .option('--partition <key>', 'only this query/feed/tag of the source')
  .option('--json', 'print the results as JSON')
  .action(async (source: string | undefined, opts: { partition?: string; json?: boolean }) => {
    const rt = runtime();
    const display = progressDisplay();
    let results: PartitionResult[];
    try {
      results = await runVerb<PartitionResult[]>(
        rt,
        'collect',
        { source, partition: opts.partition },
        display.update as (e: ProgressEvent) => void,
      );
    } finally {
      display.stop();
    }
    if (opts.json) out(JSON.stringify(results, null, 2));
    else
      out(
        formatTable(
          ['source', 'partition', 'status', 'rows', 'new', 'quarantined', 'note'],
          results.map((r) => [
            r.source,
            r.partition,
            r.status,
            r.rows,
            r.newRows,
            r.quarantined,
            r.error ?? (r.resumeAfter ? `resumes after ${r.resumeAfter}` : ''),
          ]),
        ),
      );
    if (results.some((r) => r.status === 'error' || r.status === 'aborted')) process.exitCode = 1;
  });

program
  .command('check')
  .description('test each source with one cheap request (credentials, endpoint)')
  .argument('[source]', 'source id')
  .action(async (source: string | undefined) => {
    const rt = runtime();
    const outcomes = await runVerb<CheckOutcome[]>(rt, 'check', { source });
    for (const o of outcomes) out(`${o.source}\t${o.ok ? 'ok' : `FAILED: ${o.reason}`}`);
    if (outcomes.some((o) => !o.ok)) process.exitCode = 1;
  });

program
  .command('status')
  .description('per source: last success, rows, last error, consecutive failures')
  .option('--json', 'print JSON')
  .action(async (opts: { json?: boolean }) => {
    const rt = runtime();
    const sources = await runVerb<SourceStatus[]>(rt, 'status', {});
    if (opts.json) {
      out(JSON.stringify(sources, null, 2));
      return;
    }
    if (sources.length === 0) {
      out('no sources configured yet: add a `sources:` section to the config file (see README, "Configure")');
      return;
    }
    out(
      formatTable(
        [
          'source',
          'enabled',
          'schedule',
          'mentions',
          'last success',
          'last rows',
          'failures',
          'waiting until',
          'last error',
        ],
        sources.map((s) => [
          s.source,
          s.enabled ? 'yes' : 'no',
          s.schedule,
          s.mentions,
          s.lastSuccessAt ?? 'never',
          s.lastRows,
          s.consecutiveFailures,
          s.waitingUntil ?? '',
          s.lastError ?? '',
        ]),
      ),
    );
  });

const topic = program
  .command('topic')
  .description('list, add or edit, and delete topics (edits re-tag stored mentions for that topic only)');

topic
  .command('list')
  .description('every topic with its query and how many mentions carry it')
  .option('--json', 'print JSON')
  .action(async (opts: { json?: boolean }) => {
    const topics = await runVerb<Awaited<ReturnType<typeof listTopics>>>(runtime(), 'topics', {});
    if (opts.json) out(JSON.stringify(topics, null, 2));
    else
      out(
        formatTable(
          ['id', 'name', 'query (or keywords)', 'origin', 'mentions'],
          topics.map((t) => [t.id, t.name, t.query ?? t.keywords.join(' OR '), t.origin, t.mentions]),
        ),
      );
  });

topic
  .command('save')
  .description('add a topic or replace one, then re-tag the stored mentions for it')
  .argument('<id>', 'stable id: lowercase letters, digits, "-" and "_"')
  .requiredOption('--name <name>', 'display name')
  .requiredOption('--keywords <list>', 'comma-separated search terms the sources collect')
  .option('--query <query>', 'matching query, e.g. \'"Hanbit Electronics" OR 한빛전자 NOT lang:ja\'')
  .option('--set <name>', 'comparison set (our brand vs competitors)')
  .action(async (id: string, opts: { name: string; keywords: string; query?: string; set?: string }) => {
    const result = await runVerb<TopicTagResult>(runtime(), 'topic-save', {
      topic: {
        id,
        name: opts.name,
        keywords: opts.keywords
          .split(',')
          .map((k) => k.trim())
          .filter(Boolean),
        ...(opts.query === undefined ? {} : { query: opts.query }),
        ...(opts.set === undefined ? {} : { comparisonSet: opts.set }),
      },
    });
    out(`${id}: ${result.tagged} of ${result.scanned} stored mentions tagged`);
  });

topic
  .command('delete')
  .description('remove a topic and its tags')
  .argument('<id>', 'topic id')
  .action(async (id: string) => {
    await runVerb(runtime(), 'topic-delete', { id });
    out(`${id}: deleted`);
  });

/** "90m", "6h", "2d" as milliseconds. */
function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(m|h|d)$/.exec(text.trim());
  if (!m)
    throw new UserError(`--for: "${text}" is not a duration; use minutes, hours or days like 90m, 6h, 2d`);
  return Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
}

const alerts = program
  .command('alerts')
  .description('spikes, negative surges and collection failures: list, acknowledge, mute a topic');

alerts
  .command('list', { isDefault: true })
  .description('newest alerts first')
  .option('--topic <id>', 'only this topic')
  .option('--kind <kind>', 'volume_spike, negative_surge or collection_failure')
  .option('--status <status>', 'open, acked or muted')
  .option('--since <time>', 'created at or after, e.g. 2026-11-22T00:00:00Z')
  .option('--limit <n>', 'at most this many', '100')
  .option('--json', 'print JSON')
  .action(
    async (opts: {
      topic?: string;
      kind?: string;
      status?: string;
      since?: string;
      limit: string;
      json?: boolean;
    }) => {
      const { json, limit, ...filters } = opts;
      const list = await runVerb<(Alert & { deliveries: { webhook: string; status: string }[] })[]>(
        runtime(),
        'alerts',
        { ...filters, limit: Number(limit) },
      );
      if (json) out(JSON.stringify(list, null, 2));
      else
        out(
          formatTable(
            ['id', 'created', 'kind', 'status', 'about', 'delivered', 'title'],
            list.map((a) => [
              a.id,
              a.createdAt,
              a.kind,
              a.status,
              a.topicId ?? `${a.source} ${a.partition}`,
              a.deliveries.map((d) => `${d.webhook}:${d.status}`).join(' '),
              a.title,
            ]),
          ),
        );
    },
  );

alerts
  .command('ack')
  .description('acknowledge an alert')
  .argument('<id>', 'alert id (from `earshot alerts`)')
  .action(async (id: string) => {
    if (!/^\d+$/.test(id)) throw new UserError(`alert id "${id}" is not a number`);
    await runVerb<Alert>(runtime(), 'alert-ack', { id: Number(id) });
    out(`alert ${id}: acknowledged`);
  });

alerts
  .command('mute')
  .description("store a topic's alerts as muted (not delivered) for a while")
  .argument('<topic>', 'topic id')
  .requiredOption('--for <duration>', 'how long, e.g. 90m, 6h, 2d')
  .action(async (topic: string, opts: { for: string }) => {
    const until = new Date(Date.now() + parseDuration(opts.for)).toISOString();
    await runVerb(runtime(), 'topic-mute', { topic, until });
    out(`${topic}: muted until ${until}`);
  });

alerts
  .command('unmute')
  .description("deliver a topic's alerts again")
  .argument('<topic>', 'topic id')
  .action(async (topic: string) => {
    await runVerb(runtime(), 'topic-mute', { topic, until: null });
    out(`${topic}: alerts delivered again`);
  });

const sentiment = program
  .command('sentiment')
  .description(
    'score stdin, one text per line: writes `label<TAB>score` per line (no database needed); or correct, learn, eval',
  )
  .addOption(
    new Option('--lang <lang>', 'model to use; auto picks per line by script')
      .choices(['en', 'ko', 'auto'])
      .default('auto'),
  )
  .option('--polar', 'two classes: the sign of the score decides, never neutral')
  // A bad flag exits 2 (commander's default is 1), as scripts feeding this command expect.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
  .action(async (opts: { lang: 'en' | 'ko' | 'auto'; polar?: boolean }) => {
    const { sentimentCommand } = await import('./sentiment/command.js');
    await sentimentCommand({ lang: opts.lang, polar: opts.polar === true });
  });

// Subcommands beside the stdin scorer: commander runs the scorer when no subcommand name is given.
sentiment
  .command('correct')
  .description("correct a mention's sentiment label (kept with who and when; counts in every metric)")
  .argument('<mention>', 'source:id, e.g. x:1862412345')
  .addArgument(new Argument('<label>', 'the right label').choices(['positive', 'negative', 'neutral']))
  .option('--by <name>', 'who corrects it (default: your user name)')
  .option('--note <text>', 'why, for the record')
  .action(async (mention: string, label: string, opts: { by?: string; note?: string }) => {
    const { parseMentionRef } = await import('./sentiment/corrections.js');
    const ref = parseMentionRef(mention);
    const r = await runVerb<CorrectionResult>(runtime(), 'sentiment-correct', {
      ...ref,
      label,
      by: opts.by ?? localUserName(),
      ...(opts.note === undefined ? {} : { note: opts.note }),
    });
    out(
      `${r.source}:${r.nativeId}: ${r.label} (model said ${r.modelLabel ?? 'nothing yet'}), by ${r.correctedBy} at ${r.correctedAt}`,
    );
  });

sentiment
  .command('learn')
  .description(
    'fit a new local model layer on the corrections (the newest 20% held out) and re-score mentions',
  )
  .option('--json', 'print the outcome as JSON')
  .action(async (opts: { json?: boolean }) => {
    const r = await runVerb<LearnResult>(runtime(), 'sentiment-learn', {});
    if (opts.json) {
      out(JSON.stringify(r, null, 2));
      return;
    }
    for (const l of r.layers)
      out(`${l.lang}: ${l.model} trained on ${l.trained} correction(s), ${l.heldOut} held out`);
    for (const s of r.skipped) out(`${s.lang}: unchanged, ${s.reason}`);
    if (r.rescore) out(`re-scored ${r.rescore.rescored} stored mention(s)`);
  });

sentiment
  .command('eval')
  .description('accuracy on the held-out corrections (newest 20%): shipped vs updated model, per language')
  .option('--json', 'print JSON')
  .action(async (opts: { json?: boolean }) => {
    const rows = await runVerb<EvalLanguage[]>(runtime(), 'sentiment-eval', {});
    if (opts.json) {
      out(JSON.stringify(rows, null, 2));
      return;
    }
    out(
      formatTable(
        [
          'lang',
          'corrections',
          'held out',
          'shipped',
          'accuracy',
          'macro-F1',
          'updated',
          'accuracy',
          'macro-F1',
        ],
        rows.map((r) => [
          r.lang,
          r.corrections,
          r.heldOut,
          r.shipped?.model ?? '',
          r.shipped?.accuracy ?? '',
          r.shipped?.macroF1 ?? '',
          r.updated?.model ?? '',
          r.updated?.accuracy ?? '',
          r.updated?.macroF1 ?? '',
        ]),
      ),
    );
    for (const r of rows) if (r.note) out(`${r.lang}: ${r.note}`);
  });

program
  .command('score')
  .description('score new mentions (language, sentiment, copies), re-tag and refresh rollups; a backfill')
  .option('--rescore', 're-score, in bulk, mentions a previous sentiment model version scored')
  .option('--json', 'print the outcome as JSON')
  .action(async (opts: { rescore?: boolean; json?: boolean }) => {
    const r = await runVerb<ScoreResult>(runtime(), 'score', { rescore: opts.rescore === true });
    if (opts.json) out(JSON.stringify(r, null, 2));
    else
      out(
        `scored ${r.scored} (${r.copies} copies), re-scored ${r.rescored}, tagged ${r.tagged}; ` +
          `rollups: ${r.rollups.days} day(s)${r.rollups.topics.length > 0 ? `, topics ${r.rollups.topics.join(', ')}` : ''}` +
          (r.outdated > 0
            ? `\n${r.outdated} mention(s) scored by an older model: run \`earshot score --rescore\``
            : ''),
      );
  });

program
  .command('sql')
  .description('run one read-only SELECT against the database')
  .argument('<query>', 'a single SELECT statement')
  .addOption(
    new Option('--format <format>', 'output format').choices(['table', 'csv', 'json']).default('table'),
  )
  .action(async (query: string, opts: { format: 'table' | 'csv' | 'json' }) => {
    const rt = runtime();
    const result = await runVerb<QueryResult>(rt, 'sql', { query });
    if (opts.format === 'json') out(JSON.stringify(result.rows, null, 2));
    else if (opts.format === 'csv') {
      out(result.columns.map(csvCell).join(','));
      for (const row of result.rows) out(result.columns.map((c) => csvCell(row[c])).join(','));
    } else {
      out(
        formatTable(
          result.columns,
          result.rows.map((r) => result.columns.map((c) => r[c])),
        ),
      );
    }
    if (result.truncated) process.stderr.write(`(stopped at ${result.rows.length} rows)\n`);
  });

program
  .command('import')
  .description('import adoption exports: org directory, activity, Graph usage reports (one transaction)')
  .argument('<kind>', 'auto (detect each file from its header) or one of the kinds below')
  .argument('<files...>', 'CSV files; several for formats that come as a set')
  .option('--json', 'print the outcome as JSON')
  .addHelpText(
    'after',
    `\nKinds:\n${importers.map((i) => `  ${i.kind.padEnd(26)} ${i.description}`).join('\n')}\n\n` +
      'Re-importing a file already imported changes nothing; a later export overlapping an earlier one replaces its rows.\n',
  )
  .action(async (kind: string, paths: string[], opts: { json?: boolean }) => {
    const rt = runtime();
    for (const p of paths) {
      let file: boolean;
      try {
        file = statSync(p).isFile();
      } catch (err) {
        throw new UserError(`cannot read ${p}: ${(err as Error).message}`);
      }
      if (!file) throw new UserError(`cannot read ${p}: not a file`);
    }
    // One file to a running server goes as a raw body, a set as base64 JSON; without a server the
    // files are read from disk as streams (paths are accepted in this process only).
    const server = findServer(rt.config.databasePath);
    const [only] = paths;
    const uploaded =
      server && only && paths.length === 1 ? await uploadImport(server, kind, only) : undefined;
    const outcome =
      (uploaded?.value as ImportOutcome | undefined) ??
      (await runVerb<ImportOutcome>(rt, 'import', {
        kind,
        files: paths.map((p) =>
          server
            ? { name: basename(p), content: readFileSync(p).toString('base64') }
            : { name: basename(p), path: p },
        ),
      }));
    if (opts.json) {
      out(JSON.stringify(outcome, null, 2));
      return;
    }
    out(
      formatTable(
        ['file', 'kind', 'rows per table'],
        outcome.files.map((f) => [
          f.file,
          f.kind,
          f.duplicate
            ? 'skipped: already imported (same content)'
            : Object.entries(f.rows)
                .map(([t, n]) => `${t} ${n}`)
                .join(', '),
        ]),
      ),
    );
    if (outcome.unmatched.length > 0) {
      out(
        `\n${outcome.unmatched.length} user key(s) match no employee in the directory (kept, listed in unmatched_identities):`,
      );
      out(
        formatTable(
          ['platform', 'user key', 'rows'],
          outcome.unmatched.map((u) => [u.platform, u.userKey, u.rows]),
        ),
      );
    }
  });

program
  .command('report')
  .description('reports for leadership')
  .command('adoption')
  .description(
    'adoption of the internal network: rates against benchmarks, leaders, silos, trend (aggregates only)',
  )
  .option('--window <days>', 'window length, e.g. 28d', '28d')
  .option('--by <dims>', 'break down by department, location, level (comma-separated; combined)')
  .option('--as-of <day>', 'last day of the window, YYYY-MM-DD (default: the latest day with data)')
  .option('--rollout <day>', 'first day the network was in use, for the email/meeting change')
  .addOption(
    new Option('--format <format>', 'output format').choices(['json', 'csv', 'html']).default('json'),
  )
  .addOption(new Option('--lang <lang>', 'language of the sentences').choices(['en', 'ko']).default('en'))
  .addOption(
    new Option(
      '--audience <audience>',
      'leadership: privacy applied; analyst: nothing withheld (you hold the database: earshot sql reads it all)',
    )
      .choices(['leadership', 'analyst'])
      .default('leadership'),
  )
  .action(
    async (opts: {
      window: string;
      by?: string;
      asOf?: string;
      rollout?: string;
      format: 'json' | 'csv' | 'html';
      lang: 'en' | 'ko';
      audience: 'leadership' | 'analyst';
    }) => {
      const m = /^(\d+)d?$/.exec(opts.window.trim());
      if (!m) throw new UserError(`--window: "${opts.window}" is not a number of days; use e.g. 28d`);
      const report = await runVerb<AdoptionReport>(runtime(), 'adoption-report', {
        days: Number(m[1]),
        by: opts.by
          ? opts.by
              .split(',')
              .map((d) => d.trim())
              .filter(Boolean)
          : [],
        asOf: opts.asOf,
        rollout: opts.rollout,
        audience: opts.audience,
      });
      process.stdout.write(renderReport(report, opts.format, opts.lang));
    },
  );

const user = program
  .command('user')
  .description(
    'dashboard users and roles (comms, leadership, analyst, admin); the first admin is added here',
  );

user
  .command('add')
  .description('add a user; the password is asked without echo, or read from the first line of stdin')
  .argument('<name>', 'sign-in name: lowercase letters, digits, ".", "_", "-", "@"')
  .requiredOption('--role <role>', 'comms, leadership, analyst or admin')
  .action(async (name: string, opts: { role: string }) => {
    const password = await readNewPassword();
    const u = await runVerb<UserRecord>(runtime(), 'user-add', {
      name,
      role: opts.role,
      password,
      by: localUserName(),
    });
    out(`${u.name}: added as ${u.role}`);
  });

user
  .command('list')
  .description('every user with role and last sign-in')
  .option('--json', 'print JSON')
  .action(async (opts: { json?: boolean }) => {
    const users = await runVerb<UserRecord[]>(runtime(), 'user-list', {});
    if (opts.json) out(JSON.stringify(users, null, 2));
    else
      out(
        formatTable(
          ['name', 'role', 'created', 'last sign-in'],
          users.map((u) => [u.name, u.role, u.createdAt, u.lastSignInAt ?? 'never']),
        ),
      );
  });

user
  .command('role')
  .description("change a user's role (the last admin stays admin)")
  .argument('<name>', 'user name')
  .argument('<role>', 'comms, leadership, analyst or admin')
  .action(async (name: string, role: string) => {
    const u = await runVerb<UserRecord>(runtime(), 'user-role', { name, role, by: localUserName() });
    out(`${u.name}: now ${u.role}`);
  });

user
  .command('passwd')
  .description("set a user's password (asked without echo, or the first line of stdin); signs them out")
  .argument('<name>', 'user name')
  .action(async (name: string) => {
    const password = await readNewPassword();
    await runVerb<UserRecord>(runtime(), 'user-passwd', { name, password, by: localUserName() });
    out(`${name}: password changed; their sessions were ended`);
  });

user
  .command('remove')
  .description('remove a user and end their sessions (the last admin cannot be removed)')
  .argument('<name>', 'user name')
  .action(async (name: string) => {
    await runVerb(runtime(), 'user-remove', { name, by: localUserName() });
    out(`${name}: removed`);
  });

// Data lifecycle (issue 7): erasure, retention, the audit log, platform compliance.
program
  .command('erase')
  .description(
    "remove one person's data everywhere (mentions, author, identities, activity) and refresh rollups",
  )
  .option('--author <source:handle>', 'a public author, e.g. x:@alice or mastodon:bob@example.social')
  .option('--employee <id|email>', 'an employee, by directory id or email')
  .option('--json', 'print JSON')
  .action(async (opts: { author?: string; employee?: string; json?: boolean }) => {
    const { json, ...who } = opts;
    const r = await runVerb<EraseResult>(runtime(), 'erase', { ...who, actor: `cli:${localUserName()}` });
    if (json) out(JSON.stringify(r, null, 2));
    else
      out(
        `erased ${r.kind}: ${Object.entries(r.counts)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ')}`,
      );
  });

program
  .command('retention')
  .description('data retention (the `retention:` section of the config)')
  .command('run')
  .description('remove what the retention policies no longer keep, and say per kind what went')
  .option('--dry-run', 'only count what would be removed')
  .option('--json', 'print JSON')
  .action(async (opts: { dryRun?: boolean; json?: boolean }) => {
    const r = await runVerb<RetentionResult>(runtime(), 'retention-run', {
      dryRun: opts.dryRun === true,
      actor: `cli:${localUserName()}`,
    });
    if (opts.json) out(JSON.stringify(r, null, 2));
    else
      out(
        formatTable(
          ['kind', 'kept days', 'older than', r.dryRun ? 'would remove' : 'removed'],
          r.kinds.map((k) => [k.kind, k.days ?? 'forever', k.before ?? '', k.removed]),
        ),
      );
  });

program
  .command('compliance')
  .description('platform terms: remove stored posts their platform says were deleted')
  .command('x')
  .description(
    "check every stored X post with X's batch compliance job and purge deleted, suspended or protected ones",
  )
  .option('--json', 'print JSON')
  .action(async (opts: { json?: boolean }) => {
    const r = await runVerb<XComplianceResult>(runtime(), 'compliance-x', {
      actor: `cli:${localUserName()}`,
    });
    if (opts.json) out(JSON.stringify(r, null, 2));
    else {
      const why = Object.entries(r.reasons)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ');
      out(
        `checked ${r.checked} X post(s) in ${r.jobs.length} job(s): removed ${r.purged.mentions}${why ? ` (${why})` : ''}, ` +
          `${r.purged.reposts} repost(s) of them; location dropped from ${r.scrubbedGeo}`,
      );
    }
  });

const audit = program
  .command('audit')
  .description('the audit log: who changed, erased, exported or signed in, and when');

audit
  .command('list', { isDefault: true })
  .description('newest entries first')
  .option('--action <action>', 'an action or its prefix, e.g. erase. or topic.save')
  .option('--limit <n>', 'at most this many (1-1000)', '100')
  .option('--json', 'print JSON')
  .action(async (opts: { action?: string; limit: string; json?: boolean }) => {
    if (!/^\d+$/.test(opts.limit)) throw new UserError(`--limit: "${opts.limit}" is not a number`);
    const list = await runVerb<AuditRecord[]>(runtime(), 'audit-list', {
      ...(opts.action === undefined ? {} : { action: opts.action }),
      limit: Number(opts.limit),
    });
    if (opts.json) out(JSON.stringify(list, null, 2));
    else
      out(
        formatTable(
          ['id', 'at', 'actor', 'action', 'target', 'detail'],
          list.map((e) => [
            e.id,
            e.at,
            e.actor,
            e.action,
            e.target,
            e.detail ? JSON.stringify(e.detail) : '',
          ]),
        ),
      );
  });

audit
  .command('verify')
  .description('check the hash chain: exits 1 naming the first entry that was altered or removed')
  .action(async () => {
    const r = await runVerb<{ entries: number; brokenAt: number | null }>(runtime(), 'audit-verify', {});
    if (r.brokenAt !== null)
      throw new UserError(
        `the audit log was altered: entry ${r.brokenAt} does not match the chain (${r.entries} entries)`,
      );
    out(`the audit log is intact: ${r.entries} entries`);
  });

// Backups and Parquet exports (issue 7, parts 7-9). Paths are resolved here: the server may run
// elsewhere in the file system. Restore and decrypt need no database, so they run in this process.
const cliActor = () => `cli:${localUserName()}`;

program
  .command('backup')
  .description(
    'a consistent copy of the database into a new folder of <dir>, encrypted when EARSHOT_BACKUP_KEY is set; backups older than backup.keepDays are removed',
  )
  .argument('<dir>', 'an existing folder that keeps the backups')
  .option('--json', 'print the outcome as JSON')
  .action(async (dir: string, opts: { json?: boolean }) => {
    const rt = runtime();
    const r = await runVerb<import('./backup/backup.js').BackupResult>(rt, 'backup', {
      dir: resolve(dir),
      keyId: rt.config.backup?.key?.id ?? null,
      actor: cliActor(),
    });
    if (opts.json) {
      out(JSON.stringify(r, null, 2));
      return;
    }
    const rows = Object.values(r.manifest.tables).reduce((a, b) => a + b, 0);
    out(
      `backup ${r.folder}: ${Object.keys(r.manifest.tables).length} tables, ${rows} rows, ${r.manifest.bytes} bytes, ` +
        (r.manifest.encrypted
          ? `encrypted (key id ${r.manifest.keyId})`
          : 'NOT encrypted (no EARSHOT_BACKUP_KEY)'),
    );
    if (r.pruned.length > 0) out(`removed ${r.pruned.length} expired backup(s): ${r.pruned.join(', ')}`);
  });

program
  .command('restore')
  .description('restore a backup into a NEW database file, verifying its checksum and every row count')
  .argument('<dir>', 'a backup folder, or a folder of backups (the newest is taken)')
  .option(
    '--to <file>',
    'the new database file (default: earshot-restored-<time>.duckdb beside the database)',
  )
  .action(async (dir: string, opts: { to?: string }) => {
    const config = loadConfig();
    const { restoreBackup } = await import('./backup/restore.js');
    const { storeFolders } = await import('./store.js');
    const now = new Date();
    const to = opts.to
      ? resolve(opts.to)
      : join(
          dirname(storeFolders(config.databasePath).backups),
          `earshot-restored-${now.toISOString().replace(/[-:.]/g, '')}.duckdb`,
        );
    const r = await restoreBackup({
      dir: resolve(dir),
      to,
      key: config.backup?.key ?? null,
      actor: cliActor(),
      now,
    });
    const counts = Object.entries(r.tables);
    out(
      `restored ${r.from} (taken ${r.createdAt}${r.encrypted ? ', decrypted' : ''}) into ${r.to}: ` +
        `${counts.length} tables, ${counts.reduce((a, [, n]) => a + n, 0)} rows, checksum and row counts verified`,
    );
    out(`to use it, stop earshot and point EARSHOT_DB (or \`database:\` in the config) at ${r.to}`);
  });

program
  .command('export')
  .description(
    'Hive-partitioned Parquet of mentions (by date and source) and adoption facts (by ISO week), incremental; .parquet.enc when EARSHOT_BACKUP_KEY is set (read back with `earshot decrypt`)',
  )
  .requiredOption('--parquet <dir>', 'an existing folder; later exports rewrite only what changed')
  .option('--json', 'print the outcome as JSON')
  .action(async (opts: { parquet: string; json?: boolean }) => {
    const rt = runtime();
    const r = await runVerb<import('./export/parquet.js').ExportResult>(rt, 'export-parquet', {
      dir: resolve(opts.parquet),
      keyId: rt.config.backup?.key?.id ?? null,
      actor: cliActor(),
    });
    if (opts.json) {
      out(JSON.stringify(r, null, 2));
      return;
    }
    out(
      formatTable(
        ['dataset', 'partitions', 'rows', 'written', 'deleted'],
        Object.entries(r.datasets).map(([name, d]) => [
          name,
          d.partitions,
          d.rows,
          d.written.length,
          d.deleted.length,
        ]),
      ),
    );
    out(
      `${r.dir}: ${r.encrypted ? 'encrypted (.parquet.enc; `earshot decrypt <file>` gives the .parquet)' : 'not encrypted'}`,
    );
  });

program
  .command('decrypt')
  .description(
    'decrypt a file earshot encrypted (a .parquet.enc of an export, a backup) with EARSHOT_BACKUP_KEY',
  )
  .argument('<file>', 'the encrypted file, e.g. part-0.parquet.enc')
  .option('--out <file>', 'where to write (default: the same name without .enc); never overwritten')
  .action(async (file: string, opts: { out?: string }) => {
    const config = loadConfig();
    const { decryptFile, ENCRYPTED_SUFFIX } = await import('./backup/crypto.js');
    const source = resolve(file);
    if (!existsSync(source)) throw new UserError(`${source} does not exist`);
    if (!opts.out && !source.endsWith(ENCRYPTED_SUFFIX))
      throw new UserError(`${source} does not end in ${ENCRYPTED_SUFFIX}: say where to write with --out`);
    const target = opts.out ? resolve(opts.out) : source.slice(0, -ENCRYPTED_SUFFIX.length);
    if (existsSync(target)) throw new UserError(`${target} already exists: choose another with --out`, 409);
    await decryptFile(source, target, config.backup?.key ?? null);
    out(`decrypted ${source} into ${target}`);
  });

try {
  await program.parseAsync();
} catch (err) {
  const message = redact(err instanceof Error ? err.message : String(err));
  process.stderr.write(`earshot: ${message}\n`);
  if (!(err instanceof ConfigError || err instanceof UserError) && process.env.LOG_LEVEL === 'debug') {
    process.stderr.write(`${redact(String((err as Error)?.stack))}\n`);
  }
  process.exitCode = err instanceof ConfigError ? 2 : 1;
}
// Idle keep-alive sockets must not hold a finished command open.
if (!longRunning) process.exit(process.exitCode ?? 0);
