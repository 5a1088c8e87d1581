import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/config.js';
import type { ConfigError } from '../../pipeline/errors.js';
import { tempDir } from '../helpers/store.js';

// The README's example for the internal sources, verbatim: it must keep parsing.
const EXAMPLE = `
sources:
  graph-reports:
    tenant: contoso.onmicrosoft.com
    clientId: 11111111-2222-3333-4444-555555555555
    clientSecret: {secret: GRAPH_CLIENT_SECRET}
    reports: [getYammerActivityUserDetail, getYammerGroupsActivityDetail, getTeamsUserActivityUserDetail]
    lagDays: 2
    repullDays: 3
  slack-analytics:
    token: {secret: SLACK_ADMIN_TOKEN}
    backfillDays: 7
  chatter:
    baseUrl: https://contoso.my.salesforce.com
    clientId: {secret: SF_CLIENT_ID}
    clientSecret: {secret: SF_CLIENT_SECRET}
`;
const ENV = {
  GRAPH_CLIENT_SECRET: 'graph-secret-value-1',
  SLACK_ADMIN_TOKEN: 'xoxp-slack-token-value',
  SF_CLIENT_ID: 'sf-client-id-value',
  SF_CLIENT_SECRET: 'sf-client-secret-value',
};

let cleanup: () => void = () => undefined;
afterEach(() => cleanup());

function configFile(yaml: string): string {
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  const path = join(tmp.dir, 'earshot.yaml');
  writeFileSync(path, yaml);
  return path;
}

describe('internal source configuration', () => {
  it('reads the README example with each source on its daily default schedule', () => {
    const config = loadConfig({ EARSHOT_CONFIG: configFile(EXAMPLE), ...ENV });
    expect(config.sources.map((s) => [s.id, s.schedule, s.baseUrl])).toEqual([
      ['graph-reports', '30 6 * * *', 'https://graph.microsoft.com'],
      ['slack-analytics', '15 */6 * * *', 'https://slack.com'],
      ['chatter', '45 5 * * *', 'https://contoso.my.salesforce.com'],
    ]);
    // Public sources keep the 15-minute default; a schedule in the file wins over a collector's.
    const other = loadConfig({
      EARSHOT_CONFIG: configFile(
        'sources:\n  hackernews: {}\n  slack-analytics:\n    token: {secret: SLACK_ADMIN_TOKEN}\n    schedule: "0 8 * * *"\n',
      ),
      ...ENV,
    });
    expect(other.sources.map((s) => s.schedule)).toEqual(['*/15 * * * *', '0 8 * * *']);
  });

  it('names the bad field', () => {
    const bad = EXAMPLE.replace('lagDays: 2', 'lagDays: 30');
    expect(() => loadConfig({ EARSHOT_CONFIG: configFile(bad), ...ENV })).toThrow(
      expect.objectContaining({ name: 'ConfigError', field: 'sources.graph-reports.lagDays' }) as ConfigError,
    );
    const plain = EXAMPLE.replace('{secret: SLACK_ADMIN_TOKEN}', 'xoxp-pasted-into-the-file');
    expect(() => loadConfig({ EARSHOT_CONFIG: configFile(plain), ...ENV })).toThrow(
      /sources\.slack-analytics\.token: must reference a secret/,
    );
  });
});
