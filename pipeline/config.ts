import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import cron from 'node-cron';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { collectors } from '../collectors/registry.js';
import { type AlertRules, alertRulesSchema, type Webhook, webhookSchema } from './alerts/config.js';
import { ConfigError } from './errors.js';
import { defaultConfigPath, defaultDatabasePath, defaultDemoPath, projectRoot } from './paths.js';
import { SecretSource } from './secrets.js';
import type { QueryLimits } from './sql-guard.js';
import { parseQuery, QuerySyntaxError } from './topics/query.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const cronSchedule = z.string().refine((s) => cron.validate(s), {
  message: 'is not a cron expression; use five fields like "*/15 * * * *" (every 15 minutes)',
});

const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'is not an IANA time zone; use a name like "Asia/Seoul" or "UTC"' },
);

export const topicSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]*$/, 'use lowercase letters, digits, "-" and "_" (it is a stable id)'),
  name: z.string().min(1),
  /** Terms every search source collects for this topic. */
  keywords: z.array(z.string().trim().min(1)).min(1, 'list at least one keyword to collect'),
  /** Boolean matching query; defaults to the keywords OR-ed. Checked here so a typo names its place. */
  query: z
    .string()
    .superRefine((query, ctx) => {
      try {
        parseQuery(query);
      } catch (err) {
        if (!(err instanceof QuerySyntaxError)) throw err;
        ctx.addIssue({ code: 'custom', message: `${err.message} (in "${query}")` });
      }
    })
    .optional(),
  comparisonSet: z.string().optional(),
});

/** Keys every source section may carry; the rest belongs to the collector's own schema. */
const sourceCommonSchema = z.object({
  enabled: z.boolean().default(true),
  schedule: cronSchedule.optional(),
  baseUrl: z.url({ message: 'must be an http(s) URL like "https://api.example.com"' }).optional(),
});
const COMMON_KEYS = ['enabled', 'schedule', 'baseUrl'];

/** DuckDB's memory_limit: a size like 1GB or 512MB. */
const MEMORY_LIMIT = /^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i;
const memoryLimit = z.string().regex(MEMORY_LIMIT, 'must be a size like "1GB" or "512MB"');

const fileSchema = z.strictObject({
  database: z.string().optional(),
  /** How much memory DuckDB may hold (default: DuckDB's, 80% of RAM); spills to disk beyond it. */
  memoryLimit: memoryLimit.optional(),
  server: z
    .strictObject({
      host: z.string().min(1).optional(),
      port: z.number().int().min(0).max(65535).optional(),
    })
    .optional(),
  timezone: timeZone.optional(),
  logLevel: z.enum(LOG_LEVELS).optional(),
  topics: z.array(topicSchema).default([]),
  sources: z.record(z.string(), z.record(z.string(), z.unknown()).nullable()).default({}),
  collection: z
    .strictObject({
      /** Longest a 429 is waited out inside a run, in seconds; a later reset reschedules the partition. */
      maxRateLimitWaitSeconds: z.number().int().min(0).max(86_400).default(900),
    })
    .default({ maxRateLimitWaitSeconds: 900 }),
  // Alerts: rules, where they are delivered (URLs are secrets, resolved below), where links point.
  alerts: alertRulesSchema.prefault({}),
  webhooks: z.array(z.record(z.string(), z.unknown())).default([]),
  dashboard: z
    .strictObject({
      publicUrl: z.url({ message: 'must be an http(s) URL like "https://earshot.example.com"' }),
    })
    .partial()
    .optional(),
  privacy: z
    .strictObject({
      /** Figures about fewer people than this are withheld (DESIGN.md section 6); never below 5. */
      minGroupSize: z
        .number()
        .int()
        .min(5, 'must be 5 or more: smaller groups let a reader single people out (DESIGN.md section 6)')
        .default(5),
    })
    .default({ minGroupSize: 5 }),
  /** The dashboard's SQL console (DESIGN.md section 7): rows returned at most, and when a query is stopped. */
  sqlConsole: z
    .strictObject({
      maxRows: z.number().int().min(1).max(1_000_000).default(10_000),
      timeoutSeconds: z.number().positive().max(3600).default(30),
    })
    .optional(),
});

export type Topic = z.infer<typeof topicSchema>;

export interface SourceConfig {
  id: string;
  enabled: boolean;
  schedule: string;
  baseUrl: string;
  /** The collector's own settings, parsed by its configSchema, secrets resolved. */
  settings: unknown;
}

export interface Config {
  /** Where the settings came from: a file path, or null when running on defaults. */
  configPath: string | null;
  databasePath: string;
  /** DuckDB's memory limit (EARSHOT_MEMORY_LIMIT or `memoryLimit:`); DuckDB's default when absent. */
  memoryLimit?: string;
  host: string;
  port: number;
  timezone: string;
  logLevel: (typeof LOG_LEVELS)[number];
  topics: readonly Topic[];
  sources: readonly SourceConfig[];
  maxRateLimitWaitMs: number;
  // loadConfig always sets these; they are optional so configs built by hand (tests) need not.
  alerts?: AlertRules;
  webhooks?: readonly Webhook[];
  /** Where alert links point (no trailing slash). */
  publicUrl?: string;
  /** Adoption figures about fewer people than this are withheld; at least 5. */
  minGroupSize: number;
  /** The dashboard SQL console's row cap and time limit; defaultQueryLimits when absent. */
  sqlLimits?: QueryLimits;
  /** The demo database file (EARSHOT_DEMO_DB, default data/demo.duckdb); `earshot demo` rebuilds it. */
  demoPath?: string;
  /** Nothing is configured (no config file, no EARSHOT_DB): `serve` builds and serves the demo. */
  servesDemo?: boolean;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
    '',
  );
}

function zodToConfigError(error: z.ZodError, prefix: string, where: string): ConfigError {
  const lines = error.issues.map((issue) => {
    const field = formatPath([...(prefix ? [prefix] : []), ...issue.path]) || '(top level)';
    let message = issue.message;
    if (issue.code === 'unrecognized_keys')
      message = `unknown field(s) ${issue.keys.join(', ')}; check the spelling`;
    if (issue.code === 'invalid_type' && message.includes('received undefined')) message = 'is required';
    return `${field}: ${message}`;
  });
  const first = error.issues[0];
  const field = first ? formatPath([...(prefix ? [prefix] : []), ...first.path]) : undefined;
  return new ConfigError(`invalid configuration in ${where}:\n  ${lines.join('\n  ')}`, field);
}

/** Replaces every `{secret: NAME}` in the tree with a Secret; fields name where it was referenced. */
function resolveSecrets(value: unknown, path: string, secrets: SecretSource): unknown {
  if (Array.isArray(value)) return value.map((v, i) => resolveSecrets(v, `${path}[${i}]`, secrets));
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0]?.[0] === 'secret') {
      const name = entries[0][1];
      if (typeof name !== 'string' || !/^[A-Z_][A-Z0-9_]*$/.test(name)) {
        throw new ConfigError(
          `${path}: secret must name an environment variable, like {secret: X_BEARER}`,
          path,
        );
      }
      return secrets.get(name, path);
    }
    return Object.fromEntries(
      entries.map(([k, v]) => [k, resolveSecrets(v, path ? `${path}.${k}` : k, secrets)]),
    );
  }
  return value;
}

function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`, 'EARSHOT_CONFIG');
  }
  if (path.endsWith('.json')) {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new ConfigError(`${path} is not valid JSON: ${(err as Error).message}`);
    }
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = e?.pos ? lineCounter.linePos(e.pos[0]) : undefined;
    throw new ConfigError(
      `${path}${pos ? `:${pos.line}:${pos.col}` : ''} is not valid YAML: ${e?.message.split('\n')[0] ?? ''}`,
    );
  }
  try {
    return doc.toJS() ?? {};
  } catch (err) {
    // toJS refuses an alias bomb ("billion laughs") with a ReferenceError (tests/fuzz/config.test.ts).
    throw new ConfigError(`${path} is not valid YAML: ${(err as Error).message}`);
  }
}

function parsePort(raw: string): number {
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`PORT: "${raw}" is not a port number (0-65535)`, 'PORT');
  }
  return port;
}

function deepFreeze<T>(value: T): T {
  const proto = value && typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  if ((proto === Object.prototype || proto === Array.prototype) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}

/**
 * Reads the configuration once: the file (EARSHOT_CONFIG, else ./earshot.yaml when present, else
 * defaults) with the environment overriding the usual few. Returns a deeply frozen object.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const explicit = env.EARSHOT_CONFIG;
  const configPath = explicit ? resolve(explicit) : existsSync(defaultConfigPath) ? defaultConfigPath : null;
  if (explicit && !existsSync(configPath as string)) {
    throw new ConfigError(`EARSHOT_CONFIG: no file at ${configPath}`, 'EARSHOT_CONFIG');
  }
  const raw = configPath ? readConfigFile(configPath) : {};
  const where = configPath ?? 'the defaults';
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) throw zodToConfigError(parsed.error, '', where);
  const file = parsed.data;

  const secrets = new SecretSource(env, env.EARSHOT_SECRETS ? resolve(env.EARSHOT_SECRETS) : undefined);
  const sources: SourceConfig[] = [];
  for (const [id, section] of Object.entries(file.sources)) {
    const collector = collectors.get(id);
    if (!collector) {
      throw new ConfigError(
        `sources.${id}: unknown source; the sources are ${[...collectors.keys()].join(', ')}`,
        `sources.${id}`,
      );
    }
    const resolved = resolveSecrets(section ?? {}, `sources.${id}`, secrets) as Record<string, unknown>;
    const common = sourceCommonSchema.safeParse(
      Object.fromEntries(Object.entries(resolved).filter(([k]) => COMMON_KEYS.includes(k))),
    );
    if (!common.success) throw zodToConfigError(common.error, `sources.${id}`, where);
    const own = collector.configSchema.safeParse(
      Object.fromEntries(Object.entries(resolved).filter(([k]) => !COMMON_KEYS.includes(k))),
    );
    if (!own.success) throw zodToConfigError(own.error, `sources.${id}`, where);
    sources.push({
      id,
      enabled: common.data.enabled,
      schedule: common.data.schedule ?? collector.defaultSchedule ?? '*/15 * * * *',
      baseUrl: (common.data.baseUrl ?? collector.defaultBaseUrl).replace(/\/+$/, ''),
      settings: own.data,
    });
  }

  const topicIds = new Set<string>();
  for (const [i, topic] of file.topics.entries()) {
    if (topicIds.has(topic.id))
      throw new ConfigError(`topics[${i}].id: "${topic.id}" is used twice`, `topics[${i}].id`);
    topicIds.add(topic.id);
  }

  const webhooks: Webhook[] = [];
  for (const [i, entry] of file.webhooks.entries()) {
    const hook = webhookSchema.safeParse(resolveSecrets(entry, `webhooks[${i}]`, secrets));
    if (!hook.success) throw zodToConfigError(hook.error, `webhooks[${i}]`, where);
    if (webhooks.some((w) => w.name === hook.data.name))
      throw new ConfigError(`webhooks[${i}].name: "${hook.data.name}" is used twice`, `webhooks[${i}].name`);
    webhooks.push(hook.data);
  }

  const databaseRaw = env.EARSHOT_DB ?? file.database;
  const databasePath =
    databaseRaw === undefined
      ? defaultDatabasePath
      : databaseRaw === ':memory:'
        ? databaseRaw
        : isAbsolute(databaseRaw)
          ? databaseRaw
          : resolve(env.EARSHOT_DB ? process.cwd() : projectRoot, databaseRaw);

  const logLevel = env.LOG_LEVEL ?? file.logLevel ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL: "${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`, 'LOG_LEVEL');
  }
  const timezone = file.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;

  const port = env.PORT !== undefined ? parsePort(env.PORT) : (file.server?.port ?? 8080);
  const limit = env.EARSHOT_MEMORY_LIMIT ?? file.memoryLimit;
  if (limit !== undefined && !MEMORY_LIMIT.test(limit)) {
    throw new ConfigError(
      `EARSHOT_MEMORY_LIMIT: "${limit}" must be a size like "1GB" or "512MB"`,
      'EARSHOT_MEMORY_LIMIT',
    );
  }
  return deepFreeze({
    configPath,
    databasePath,
    host: env.EARSHOT_HOST ?? file.server?.host ?? '127.0.0.1',
    port,
    timezone,
    logLevel: logLevel as Config['logLevel'],
    topics: file.topics,
    sources,
    maxRateLimitWaitMs: file.collection.maxRateLimitWaitSeconds * 1000,
    alerts: file.alerts,
    webhooks,
    publicUrl: (file.dashboard?.publicUrl ?? `http://127.0.0.1:${port}`).replace(/\/+$/, ''),
    minGroupSize: file.privacy.minGroupSize,
    ...(limit === undefined ? {} : { memoryLimit: limit }),
    ...(file.sqlConsole
      ? { sqlLimits: { maxRows: file.sqlConsole.maxRows, timeoutMs: file.sqlConsole.timeoutSeconds * 1000 } }
      : {}),
    demoPath: env.EARSHOT_DEMO_DB ? resolve(env.EARSHOT_DEMO_DB) : defaultDemoPath,
    servesDemo: configPath === null && env.EARSHOT_DB === undefined,
  });
}
