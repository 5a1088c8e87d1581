import { readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../pipeline/audit/log.js';
import { Store } from '../../pipeline/store.js';
import { runCli, type Served, startServe } from '../helpers/cli.js';
import { tempDir } from '../helpers/store.js';
import { Browser } from './browser.js';

const ADA = 'ada-admin-passphrase-9';
const CORA_OLD = 'cora-first-passphrase';
const CORA_NEW = 'cora-second-passphrase';

// The built CLI, as an operator runs it (`npm test` builds first); the password always comes on stdin.
// Each spawn opens DuckDB and runs scrypt: on a busy machine that is several seconds per command.
describe('earshot user', { timeout: 300_000 }, () => {
  let dir: string;
  let cleanup: () => void;
  let env: NodeJS.ProcessEnv;
  let db: string;
  let served: Served | undefined;
  const outputs: string[] = [];
  const cli = async (args: string[], stdin?: string) => {
    const r = await runCli(args, env, 60_000, stdin);
    outputs.push(r.stdout, r.stderr);
    return r;
  };

  beforeAll(() => {
    ({ dir, cleanup } = tempDir());
    db = join(dir, 'e.duckdb');
    writeFileSync(join(dir, 'earshot.yaml'), 'timezone: UTC\n');
    env = { EARSHOT_DB: db, EARSHOT_CONFIG: join(dir, 'earshot.yaml'), PORT: '0', LOG_LEVEL: 'debug' };
  });
  afterAll(() => {
    if (served?.child.exitCode === null) served.child.kill('SIGKILL');
    cleanup();
  });

  it('adds the first admin with the password read from stdin', async () => {
    const r = await cli(['user', 'add', 'ada', '--role', 'admin'], `${ADA}\n`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('ada: added as admin');
    const list = await cli(['user', 'list', '--json']);
    expect(JSON.parse(list.stdout)).toEqual([
      { name: 'ada', role: 'admin', createdAt: expect.any(String), lastSignInAt: null },
    ]);
  });

  it('names the bad field and changes nothing', async () => {
    const cases: [string[], string | undefined, RegExp][] = [
      [['user', 'add', 'bob', '--role', 'boss'], 'bob-long-password\n', /role: use one of comms, leadership/],
      [
        ['user', 'add', 'Bob Smith', '--role', 'comms'],
        'bob-long-password\n',
        /name: "Bob Smith" is not a user name/,
      ],
      [['user', 'add', 'bob', '--role', 'comms'], '', /password: nothing on stdin/],
      [['user', 'role', 'ada', 'comms'], undefined, /ada is the last admin and cannot be made comms/],
      [['user', 'remove', 'ada'], undefined, /ada is the last admin and cannot be removed/],
    ];
    for (const [args, stdin, message] of cases) {
      const r = await cli(args, stdin);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(message);
    }
    const list = JSON.parse((await cli(['user', 'list', '--json'])).stdout) as {
      name: string;
      role: string;
    }[];
    expect(list.map((u) => [u.name, u.role])).toEqual([['ada', 'admin']]);
  });

  it('goes through the running server that owns the database; changes apply to sign-in at once', async () => {
    served = await startServe(env, db);
    const { url } = JSON.parse(readFileSync(`${db}.server.json`, 'utf8')) as { url: string };
    const added = await cli(['user', 'add', 'cora', '--role', 'comms'], `${CORA_OLD}\n`);
    expect(added.code, added.stderr).toBe(0);
    const b = new Browser(url);
    expect((await b.signIn('cora', CORA_OLD)).body).toMatchObject({ user: { name: 'cora', role: 'comms' } });
    expect((await b.get('/api/alerts')).status).toBe(200);

    expect((await cli(['user', 'passwd', 'cora'], `${CORA_NEW}\r\n`)).code).toBe(0);
    expect((await b.get('/api/alerts')).status).toBe(401);
    expect((await b.signIn('cora', CORA_OLD)).status).toBe(401);
    expect((await b.signIn('cora', CORA_NEW)).status).toBe(200);
    const role = await cli(['user', 'role', 'cora', 'leadership']);
    expect(role.stdout.trim()).toBe('cora: now leadership');
    expect((await b.get('/api/alerts')).status).toBe(403);
    const table = await cli(['user', 'list']);
    expect(table.stdout).toMatch(/^cora\s+leadership\s+\S+\s+20\d\d-/m);
    expect(table.stdout).toMatch(/^ada\s+admin\s+\S+\s+never/m);
    expect((await cli(['user', 'remove', 'cora'])).stdout.trim()).toBe('cora: removed');
    expect((await b.get('/api/session')).body).toMatchObject({ user: null });
    const stopped = await served.stop();
    outputs.push(served.stderr());
    expect(stopped.code).toBe(0);
  });

  it('audits every change as cli:<os user>; no password reaches the database, outputs or logs', async () => {
    const store = await Store.open(db);
    try {
      const entries = await listAudit(store);
      const changes = entries
        .filter((e) => e.action.startsWith('user.'))
        .map((e) => [e.action, e.target, e.actor])
        .reverse();
      const me = `cli:${userInfo().username}`;
      expect(changes).toEqual([
        ['user.add', 'ada', me],
        ['user.add', 'cora', me],
        ['user.password', 'cora', me],
        ['user.role', 'cora', me],
        ['user.remove', 'cora', me],
      ]);
      const columns = await store.query(
        `SELECT table_name, column_name FROM information_schema.columns
         WHERE data_type IN ('VARCHAR', 'JSON') AND table_schema = 'main'`,
      );
      for (const { table_name, column_name } of columns)
        for (const secret of [ADA, CORA_OLD, CORA_NEW]) {
          const hits = await store.query(
            `SELECT count(*) AS n FROM "${String(table_name)}" WHERE contains("${String(column_name)}"::VARCHAR, $1)`,
            [secret],
          );
          expect(Number(hits[0]?.n), `${String(table_name)}.${String(column_name)}`).toBe(0);
        }
    } finally {
      store.close();
    }
    const all = outputs.join('\n');
    expect(all.length).toBeGreaterThan(200);
    for (const secret of [ADA, CORA_OLD, CORA_NEW]) expect(all).not.toContain(secret);
  });
});
