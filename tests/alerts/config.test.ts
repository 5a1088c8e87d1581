import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertSettings } from '../../pipeline/alerts/config.js';
import { loadConfig } from '../../pipeline/config.js';
import { ConfigError } from '../../pipeline/errors.js';
import { Secret } from '../../pipeline/secrets.js';
import { tempDir } from '../helpers/store.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(() => cleanup());

function load(yaml: string, env: NodeJS.ProcessEnv = {}) {
  const path = join(dir, 'earshot.yaml');
  writeFileSync(path, yaml);
  return loadConfig({ EARSHOT_CONFIG: path, EARSHOT_DB: join(dir, 'x.duckdb'), ...env });
}

function errorOf(yaml: string, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    load(yaml, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('alert configuration', () => {
  it('has defaults: k = 3 over 7 days, 3 failed runs, links to the local dashboard', () => {
    const config = load('server: { port: 9123 }\n');
    expect(config.alerts).toMatchObject({
      k: 3,
      windowHours: 168,
      failedRuns: 3,
      minVolume: 10,
      cooldownHours: 6,
    });
    expect(config.webhooks).toEqual([]);
    expect(config.publicUrl).toBe('http://127.0.0.1:9123');
    // Hand-built configs (tests) get the same defaults.
    expect(alertSettings({ port: config.port })).toEqual({
      rules: config.alerts,
      webhooks: [],
      publicUrl: 'http://127.0.0.1:9123',
    });
  });

  it('reads webhooks with their URL as a secret', () => {
    const config = load(
      `
alerts: { k: 2.5, minVolume: 20 }
webhooks:
  - { name: comms, format: teams, url: { secret: TEAMS_HOOK }, topics: [hanbit], kinds: [volume_spike] }
`,
      { TEAMS_HOOK: 'https://example.webhook.office.com/workflows/abc' },
    );
    expect(config.alerts).toMatchObject({ k: 2.5, minVolume: 20 });
    const [hook] = config.webhooks ?? [];
    expect(hook).toMatchObject({
      name: 'comms',
      format: 'teams',
      topics: ['hanbit'],
      kinds: ['volume_spike'],
    });
    expect(hook?.url).toBeInstanceOf(Secret);
    expect(hook?.url.reveal()).toBe('https://example.webhook.office.com/workflows/abc');
    expect(JSON.stringify(config)).not.toContain('office.com');
  });

  it('names the field when a webhook is wrong', () => {
    expect(
      errorOf('webhooks:\n  - { name: a, format: slack, url: "https://hooks.slack.com/x" }\n').message,
    ).toContain('webhooks[0].url: must reference a secret by name');
    expect(
      errorOf('webhooks:\n  - { name: a, format: discord, url: { secret: H } }\n', {
        H: 'https://h.example/1',
      }).message,
    ).toContain('webhooks[0].format');
    expect(
      errorOf('webhooks:\n  - { name: a, format: json, url: { secret: MISSING_HOOK } }\n').message,
    ).toContain('webhooks[0].url: secret MISSING_HOOK is not set');
    expect(
      errorOf(
        'webhooks:\n  - { name: a, format: json, url: { secret: H } }\n  - { name: a, format: json, url: { secret: H } }\n',
        {
          H: 'https://h.example/1',
        },
      ).message,
    ).toContain('webhooks[1].name: "a" is used twice');
    expect(errorOf('alerts: { k: -1 }\n').message).toContain('alerts.k');
    expect(errorOf('alerts: { kk: 3 }\n').message).toContain('alerts: unknown field(s) kk');
    expect(errorOf('dashboard: { publicUrl: "not a url" }\n').message).toContain('dashboard.publicUrl');
  });
});
