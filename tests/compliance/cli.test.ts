import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { hnSearch, syntheticHits } from '../helpers/fake-hn.js';
import { type Loopback, startLoopback } from '../helpers/loopback.js';
import { tempDir } from '../helpers/store.js';

let api: Loopback;
let env: NodeJS.ProcessEnv;
let cleanup: () => void;

beforeAll(async () => {
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  api = await startLoopback(hnSearch(syntheticHits(3, Math.floor(Date.now() / 1000) - 3600)));
  const config = join(tmp.dir, 'earshot.yaml');
  writeFileSync(
    config,
    `timezone: UTC
topics: [{id: acme, name: Acme, keywords: [acme]}]
sources:
  hackernews: {baseUrl: "${api.url}"}
retention: {quarantine: 14}
`,
  );
  env = { EARSHOT_CONFIG: config, EARSHOT_DB: join(tmp.dir, 'cli.duckdb'), LOG_LEVEL: 'silent' };
});
afterAll(async () => {
  await api.close();
  cleanup();
});

describe('earshot erase | retention run | audit | compliance x', () => {
  it('erases an author, reports retention per kind, lists and verifies the audit log, and refuses bad input', async () => {
    expect((await runCli(['collect', 'hackernews'], env)).code).toBe(0);

    const neither = await runCli(['erase'], env);
    expect(neither.code).toBe(1);
    expect(neither.stderr).toContain('give exactly one of --author');
    const erased = await runCli(['erase', '--author', 'hackernews:anigbrowl', '--json'], env);
    expect(erased.stderr).toBe('');
    expect(JSON.parse(erased.stdout)).toMatchObject({ kind: 'author', counts: { mentions: 3, authors: 1 } });
    const dry = await runCli(['retention', 'run', '--dry-run'], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/quarantine\s+14\s+\S+\s+0/);
    expect(dry.stdout).toContain('would remove');

    const x = await runCli(['compliance', 'x'], env);
    expect(x.code).toBe(1);
    expect(x.stderr).toContain('X is not configured');

    const list = await runCli(['audit', 'list', '--json'], env);
    const actions = (JSON.parse(list.stdout) as { action: string }[]).map((e) => e.action);
    expect(actions).toEqual(['erase.author', 'config.change']);
    const verify = await runCli(['audit', 'verify'], env);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain('the audit log is intact: 2 entries');
    // Seven CLI processes, each opening the database: slow on a busy machine.
  }, 300_000);
});
