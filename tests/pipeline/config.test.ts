import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/config.js';
import { ConfigError } from '../../pipeline/errors.js';
import { redact, Secret } from '../../pipeline/secrets.js';
import { tempDir } from '../helpers/store.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(() => cleanup());

function withFile(text: string, name = 'earshot.yaml'): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function bearerOf(config: ReturnType<typeof loadConfig>): Secret {
  const settings = config.sources.find((s) => s.id === 'x')?.settings as { bearerToken: Secret } | undefined;
  if (!settings) throw new Error('no x source in the config');
  return settings.bearerToken;
}

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('comes up on defaults with no file, bound to loopback', () => {
    const config = loadConfig({ EARSHOT_DB: join(dir, 'x.duckdb') });
    expect(config).toMatchObject({ host: '127.0.0.1', port: 8080, sources: [], topics: [] });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.sources)).toBe(true);
  });

  it('reads a YAML file, resolves secrets and lets the environment override', () => {
    const path = withFile(`
database: db/earshot.duckdb
server: { host: 127.0.0.1, port: 9000 }
timezone: Asia/Seoul
topics:
  - id: hanbit
    name: 한빛전자
    keywords: [한빛전자, Hanbit Electronics]
sources:
  hackernews:
    schedule: "*/5 * * * *"
  x:
    bearerToken: { secret: X_BEARER }
`);
    const config = loadConfig({ EARSHOT_CONFIG: path, PORT: '9100', X_BEARER: 'tok-very-secret-123' });
    expect(config.port).toBe(9100);
    expect(config.timezone).toBe('Asia/Seoul');
    expect(config.topics[0]?.keywords).toEqual(['한빛전자', 'Hanbit Electronics']);
    const hn = config.sources.find((s) => s.id === 'hackernews');
    expect(hn).toMatchObject({ schedule: '*/5 * * * *', enabled: true, baseUrl: 'https://hn.algolia.com' });
    const token = bearerOf(config);
    expect(token).toBeInstanceOf(Secret);
    expect(token.reveal()).toBe('tok-very-secret-123');
    expect(JSON.stringify(config)).not.toContain('tok-very-secret-123');
    expect(redact('Authorization: Bearer tok-very-secret-123')).toBe('Authorization: Bearer [redacted]');
  });

  it('takes secrets from the secrets file, the environment winning', () => {
    const secrets = withFile('X_BEARER=from-file-abcdef\n', 'secrets.env');
    const path = withFile('sources:\n  x:\n    bearerToken: {secret: X_BEARER}\n');
    const fromFile = loadConfig({ EARSHOT_CONFIG: path, EARSHOT_SECRETS: secrets });
    expect(bearerOf(fromFile).reveal()).toBe('from-file-abcdef');
    const fromEnv = loadConfig({
      EARSHOT_CONFIG: path,
      EARSHOT_SECRETS: secrets,
      X_BEARER: 'from-env-abcdef',
    });
    expect(bearerOf(fromEnv).reveal()).toBe('from-env-abcdef');
  });

  it.each([
    ['sources:\n  hackernews:\n    schedule: "every minute"\n', 'sources.hackernews.schedule', 'cron'],
    ['timezone: Mars/Base\n', 'timezone', 'IANA'],
    ['server: { port: 99999 }\n', 'server.port', ''],
    ['sources:\n  twitter: {}\n', 'sources.twitter', 'the sources are'],
    ['topics:\n  - id: Bad Id\n    name: x\n    keywords: [a]\n', 'topics[0].id', 'lowercase'],
    ['topics:\n  - id: a\n    name: x\n    keywords: []\n', 'topics[0].keywords', 'at least one keyword'],
    ['sources:\n  x:\n    bearerToken: {secret: X_BEARER}\n', 'sources.x.bearerToken', 'X_BEARER is not set'],
    ['sources:\n  x:\n    bearerToken: plain-token-in-file\n', 'sources.x.bearerToken', '{secret: MY_TOKEN}'],
    ['sources:\n  hackernews:\n    tagz: [story]\n', 'sources.hackernews', 'tagz'],
    ['colour: blue\n', 'colour', 'unknown field'],
    [
      'topics:\n  - id: a\n    name: A\n    keywords: [a]\n    query: "(acme OR foo"\n',
      'topics[0].query',
      'unclosed parenthesis at 1',
    ],
  ])('names the field in %j', (yaml, field, hint) => {
    const err = configError({ EARSHOT_CONFIG: withFile(yaml) });
    expect(err.message).toContain(field);
    expect(err.message).toContain(hint);
  });

  it('reads the SQL console limits, with the field named when one is wrong', () => {
    expect(loadConfig({ EARSHOT_CONFIG: withFile('database: x.duckdb\n') }).sqlLimits).toBeUndefined();
    const config = loadConfig({
      EARSHOT_CONFIG: withFile('sqlConsole:\n  maxRows: 500\n  timeoutSeconds: 2.5\n'),
    });
    expect(config.sqlLimits).toEqual({ maxRows: 500, timeoutMs: 2500 });
    const err = configError({ EARSHOT_CONFIG: withFile('sqlConsole:\n  timeoutSeconds: 0\n') });
    expect(err.message).toContain('sqlConsole.timeoutSeconds');
  });

  it('points at the line of a YAML syntax error', () => {
    const err = configError({ EARSHOT_CONFIG: withFile('topics:\n  - id: a\n   name: [broken\n') });
    expect(err.message).toMatch(/earshot\.yaml:\d+:\d+ is not valid YAML/);
  });

  it('names the variable for bad environment overrides', () => {
    expect(configError({ PORT: 'eighty' }).message).toContain('PORT');
    expect(configError({ LOG_LEVEL: 'loud' }).message).toContain('LOG_LEVEL');
    expect(configError({ EARSHOT_CONFIG: join(dir, 'missing.yaml') }).message).toContain('EARSHOT_CONFIG');
  });
});
