import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../pipeline/store.js';
import { cliPath, runCli } from '../helpers/cli.js';
import { hnSearch, syntheticHits } from '../helpers/fake-hn.js';
import { type Loopback, startLoopback } from '../helpers/loopback.js';
import { tempDir } from '../helpers/store.js';

/** Small seeded generator, so a failing kill schedule can be replayed. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

// Long enough (600 slow pages) that every kill lands while a run is still going, even after resumes.
const ITEMS = 3000;
const KILLS = 6;

describe('SIGKILL during collection', () => {
  let api: Loopback;
  let dir: string;
  let cleanup: () => void;
  let env: NodeJS.ProcessEnv;
  let db: string;
  const hits = syntheticHits(ITEMS);

  beforeAll(async () => {
    ({ dir, cleanup } = tempDir());
    const search = hnSearch(hits);
    // Slow pages make the run long enough to be killed in the middle of it.
    api = await startLoopback(async (req) => {
      await new Promise((r) => setTimeout(r, 15));
      return search(req);
    });
    db = join(dir, 'crash.duckdb');
    const config = join(dir, 'earshot.yaml');
    writeFileSync(
      config,
      `topics: [{id: acme, name: Acme, keywords: [acme]}]
sources:
  hackernews: {baseUrl: "${api.url}", hitsPerPage: 5}
`,
    );
    env = { EARSHOT_CONFIG: config, EARSHOT_DB: db, LOG_LEVEL: 'warn' };
  });
  afterAll(async () => {
    await api.close();
    cleanup();
  });

  it(`loses and duplicates nothing across ${KILLS} kills at random moments`, async () => {
    const random = lcg(20261122);
    const killedAt: number[] = [];
    for (let attempt = 0; attempt < KILLS * 2 && killedAt.length < KILLS; attempt++) {
      const child = spawn(process.execPath, [cliPath, 'collect', 'hackernews'], {
        env: { ...process.env, ...env, LOG_LEVEL: 'debug' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('exit', (_c, sig) => resolve(sig)),
      );
      // Kill at a random moment after the run has really started (start-up time varies with load).
      const delay = 100 + Math.floor(random() * 1200);
      let timer: NodeJS.Timeout | undefined;
      child.stderr?.on('data', (d: Buffer) => {
        if (timer === undefined && d.toString().includes('partition started')) {
          timer = setTimeout(() => child.kill('SIGKILL'), delay);
        }
      });
      const signal = await exited;
      clearTimeout(timer);
      if (signal === 'SIGKILL') killedAt.push(delay);
    }
    expect(killedAt.length, `kills that landed mid-run: ${killedAt.join(', ')} ms`).toBe(KILLS);

    const final = await runCli(['collect', 'hackernews'], env);
    expect(final.code, final.stderr).toBe(0);

    const store = await Store.open(db);
    const [counts] = await store.query(
      'SELECT count(*) AS n, count(DISTINCT native_id) AS d, sum(likes) AS likes FROM mentions',
    );
    expect(counts).toEqual({
      n: ITEMS,
      d: ITEMS,
      likes: hits.reduce((s, h) => s + Number(h.points), 0),
    });
    const runs = await store.query(
      "SELECT count(*) FILTER (WHERE status = 'interrupted') AS interrupted, count(*) FILTER (WHERE status = 'running') AS running FROM collection_runs",
    );
    expect(runs[0]?.running).toBe(0);
    expect(Number(runs[0]?.interrupted)).toBe(KILLS);
    const [authors] = await store.query('SELECT sum(mentions) AS n FROM authors');
    expect(authors?.n).toBe(ITEMS);
    store.close();
  }, 120_000);
});
