import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig } from '../../pipeline/config.js';
import { ConfigError } from '../../pipeline/errors.js';
import { tempDir } from '../helpers/store.js';
import { options, runs, settle, timeoutFor } from './runs.js';

const tmp = tempDir('earshot-fuzz-config-');
afterAll(() => tmp.cleanup());

// Values of the secrets the valid config names; none may ever appear in an error message.
const SECRETS = {
  X_BEARER: 'xb-fuzz-secret-value-0001',
  BSKY_APP_PASSWORD: 'bsky-fuzz-secret-value-0002',
  REDDIT_CLIENT_ID: 'reddit-id-fuzz-secret-0003',
  REDDIT_CLIENT_SECRET: 'reddit-fuzz-secret-value-0004',
  YOUTUBE_API_KEY: 'yt-fuzz-secret-value-0005',
  NAVER_CLIENT_ID: 'naver-id-fuzz-secret-0006',
  NAVER_CLIENT_SECRET: 'naver-fuzz-secret-value-0007',
};

/** The README's example configuration, as data. */
const VALID = {
  timezone: 'Asia/Seoul',
  server: { host: '127.0.0.1', port: 8080 },
  database: 'data/earshot.duckdb',
  logLevel: 'info',
  topics: [
    {
      id: 'hanbit',
      name: '한빛전자',
      keywords: ['한빛전자', 'Hanbit Electronics'],
      query: '한빛전자 OR "hanbit electronics"',
    },
  ],
  sources: {
    hackernews: { schedule: '*/15 * * * *' },
    x: { bearerToken: { secret: 'X_BEARER' } },
    rss: {
      feeds: [
        'https://news.example.kr/rss.xml',
        { url: 'https://blog.example.com/atom.xml', articles: false },
      ],
    },
    mastodon: { instances: ['https://mastodon.social'], tags: ['hanbit'] },
    bluesky: { identifier: 'acme.bsky.social', appPassword: { secret: 'BSKY_APP_PASSWORD' } },
    reddit: {
      clientId: { secret: 'REDDIT_CLIENT_ID' },
      clientSecret: { secret: 'REDDIT_CLIENT_SECRET' },
      userAgent: 'linux:earshot:0.1 (by /u/yourname)',
    },
    youtube: {
      apiKey: { secret: 'YOUTUBE_API_KEY' },
      videos: ['dQw4w9WgXcQ'],
      channels: ['UCxxxxxxxxxxxxxxxxxxxxxx'],
    },
    naver: {
      clientId: { secret: 'NAVER_CLIENT_ID' },
      clientSecret: { secret: 'NAVER_CLIENT_SECRET' },
      kinds: ['blog', 'news', 'cafearticle'],
      dailyBudget: 25000,
    },
  },
  collection: { maxRateLimitWaitSeconds: 900 },
};

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const weird = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  fc.constantFrom<Json>(
    null,
    '',
    -1,
    1e308,
    0.5,
    '*/0 * * * *',
    'not a cron',
    'Mars/Olympus',
    'ftp://x',
    'javascript:alert(1)',
    'http://',
    { secret: 'lowercase' },
    { secret: 'MISSING_SECRET' },
    { secret: 42 },
    { secret: 'X_BEARER', extra: 1 },
    '__proto__',
    '삼성전자',
    '\u0000',
    'x'.repeat(10_000),
  ),
);

/** A step into the tree: an object key or an array index (taken modulo the length). */
const path = fc.array(fc.oneof(fc.constantFrom(...allKeys(VALID)), fc.nat(5)), {
  minLength: 1,
  maxLength: 5,
});

function allKeys(value: unknown, out = new Set<string>()): string[] {
  if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      if (!Array.isArray(value)) out.add(k);
      allKeys(v, out);
    }
  return [...out];
}

type Mutation =
  | { op: 'set'; path: (string | number)[]; value: Json }
  | { op: 'delete'; path: (string | number)[] };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), path, value: weird }),
  fc.record({ op: fc.constant('delete' as const), path }),
);

/** Applies a mutation along as much of `path` as exists; the last existing container is changed. */
function mutate(root: Json, m: Mutation): Json {
  const copy = structuredClone(root);
  let node: Json = copy;
  for (let i = 0; i < m.path.length; i++) {
    if (node === null || typeof node !== 'object') break;
    const keys = Array.isArray(node) ? node.map((_, j) => j) : Object.keys(node);
    const step = m.path[i] as string | number;
    const key =
      typeof step === 'number'
        ? keys.length === 0
          ? step
          : (keys[step % keys.length] as string | number)
        : step;
    const last = i === m.path.length - 1 || !(key in node);
    if (last) {
      const container = node as Record<string | number, Json>;
      if (m.op === 'set') container[key] = m.value;
      else if (Array.isArray(node) && typeof key === 'number') node.splice(key, 1);
      else delete container[key];
      break;
    }
    node = (node as Record<string | number, Json>)[key] as Json;
  }
  return copy;
}

const YAML_PIECES = [
  'a: &x [1, 2]\nb: *x\n',
  // A billion-laughs alias bomb.
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n',
  '<<: {a: 1}\n',
  'x: !!js/function "function(){}"\n',
  'x: !!binary aGVsbG8=\n',
  'x: !!set {a, b}\n',
  'x: !!timestamp 2001-12-14\n',
  '? [complex, key]\n: v\n',
  '%YAML 1.1\n---\n',
  '---\na: 1\n---\nb: 2\n',
  '"unterminated\n',
  '\t- tab indent\n',
  '['.repeat(500),
  '{'.repeat(500),
  '- '.repeat(300),
  'sources: ~\n',
  'topics: {}\n',
  'sources:\n  x:\n    bearerToken: abc\n',
  '\uFEFFtimezone: UTC\n',
];

const document = fc.oneof(
  // The valid config with up to three mutations, as YAML or JSON.
  fc
    .tuple(fc.array(mutation, { minLength: 0, maxLength: 3 }), fc.constantFrom('yaml', 'json'))
    .map(([ms, format]) => {
      const value = ms.reduce<Json>(mutate, VALID as unknown as Json);
      return { format, text: format === 'json' ? JSON.stringify(value) : stringify(value) };
    }),
  // The valid YAML text with characters cut or inserted.
  fc.tuple(fc.nat(), fc.nat(40), fc.string({ unit: 'binary', maxLength: 8 })).map(([at, cut, insert]) => {
    const text = stringify(VALID);
    const i = at % text.length;
    return { format: 'yaml', text: text.slice(0, i) + insert + text.slice(i + cut) };
  }),
  // YAML-ish soup and raw strings.
  fc
    .array(fc.oneof(fc.constantFrom(...YAML_PIECES), fc.string({ maxLength: 20 })), { maxLength: 6 })
    .map((parts) => ({ format: 'yaml', text: parts.join('') })),
  fc.string({ unit: 'binary', maxLength: 200 }).map((text) => ({ format: 'json', text })),
);

let counter = 0;

describe('config loading (fuzz)', () => {
  // Found by the property below: yaml's toJS throws a ReferenceError on an alias bomb, which
  // escaped loadConfig as a crash instead of a ConfigError.
  it('refuses a YAML alias bomb with a ConfigError (regression)', () => {
    const file = join(tmp.dir, 'bomb.yaml');
    writeFileSync(file, YAML_PIECES[1] as string);
    const outcome = settle('loadConfig', () => loadConfig({ EARSHOT_CONFIG: file }));
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error).toBeInstanceOf(ConfigError);
    expect(!outcome.ok && (outcome.error as Error).message).toMatch(/bomb\.yaml is not valid YAML: .*alias/);
  });

  const n = runs(200);
  it(
    'returns a config or a ConfigError naming a field or the line, never another exception or a secret',
    () => {
      fc.assert(
        fc.property(document, ({ format, text }) => {
          const file = join(tmp.dir, `c${counter++}.${format}`);
          writeFileSync(file, text);
          const env = { ...SECRETS, EARSHOT_CONFIG: file, EARSHOT_DB: join(tmp.dir, 'x.duckdb') };
          const outcome = settle('loadConfig', () => loadConfig(env));
          if (outcome.ok) return;
          const err = outcome.error;
          if (!(err instanceof ConfigError)) throw err;
          const named =
            err.field !== undefined ||
            /is not valid (YAML|JSON)|^[\w.[\]]+: /m.test(err.message) ||
            /\n {2}\(top level\): /.test(err.message);
          expect(named, err.message).toBe(true);
          for (const value of Object.values(SECRETS)) expect(err.message).not.toContain(value);
        }),
        options(n, 20),
      );
    },
    timeoutFor(n, 20),
  );
});
