import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type Served, startServe } from '../helpers/cli.js';
import { tempDir } from '../helpers/store.js';
import { adoptionFixtures } from './helpers.js';

// The built CLI, as a user runs it: `npm test` builds first.
describe('earshot import', () => {
  let dir: string;
  let cleanup: () => void;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    ({ dir, cleanup } = tempDir());
    // No sources: importing needs none.
    writeFileSync(join(dir, 'earshot.yaml'), 'timezone: UTC\n');
    env = { EARSHOT_DB: join(dir, 'e.duckdb'), EARSHOT_CONFIG: join(dir, 'earshot.yaml'), PORT: '0' };
  });
  afterAll(() => cleanup());

  it('lists the kinds in --help', async () => {
    const r = await runCli(['import', '--help'], env);
    expect(r.code).toBe(0);
    for (const kind of ['employees', 'activity-daily', 'graph-yammer-user-detail', 'graph-teams-user-detail'])
      expect(r.stdout).toContain(kind);
  });

  it('imports locally, then through the running server, and says what it skipped and could not match', async () => {
    const teams = join(
      adoptionFixtures,
      'exports',
      'graph_getTeamsUserActivityUserDetail_D30_legacy12col.csv',
    );
    const local = await runCli(['import', 'auto', teams], env);
    expect(local.code, local.stderr).toBe(0);
    expect(local.stdout).toContain('activity_period 2');
    expect(local.stdout).toMatch(/2 user key\(s\) match no employee/);
    expect(local.stdout).toContain('user01@example.com');

    let served: Served | undefined;
    try {
      served = await startServe(env, String(env.EARSHOT_DB));
      const viaServer = await runCli(
        ['import', 'auto', teams, join(adoptionFixtures, 'canonical', 'employees.csv')],
        env,
      );
      expect(viaServer.code, viaServer.stderr).toBe(0);
      expect(viaServer.stdout).toContain('skipped: already imported');
      expect(viaServer.stdout).toContain('employees 12');
      expect(viaServer.stdout).not.toContain('match no employee');
      // One file goes to the server as a raw body (POST /api/import), not base64.
      const raw = await runCli(['import', 'auto', teams], env);
      expect(raw.code, raw.stderr).toBe(0);
      expect(raw.stdout).toContain('skipped: already imported');
      const sql = await runCli(
        ['sql', 'SELECT count(*) AS n FROM unmatched_identities', '--format', 'csv'],
        env,
      );
      expect(sql.stdout.trim()).toBe('n\n0');
    } finally {
      await served?.stop();
    }
    // Five CLI processes and a server, each a Node start-up: slow on a loaded machine.
  }, 60_000);

  it('exits non-zero with file:line on a bad file', async () => {
    const r = await runCli(
      ['import', 'graph-teams-user-detail', join(adoptionFixtures, 'canonical', 'employees.csv')],
      env,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/employees\.csv:1: missing column/);
  });
});
