/**
 * The load generator of bench:dashboard, in a process of its own. Run inside the server's process,
 * autocannon shared the server's JavaScript thread: building each request and parsing each response
 * waited on, and delayed, the server's own work, and its CPU counted as the server's. Real clients
 * are browsers elsewhere; here they are at least another process on the same cores.
 *
 * `runLoad` forks this file, sends it one job over IPC and resolves with the latency of every
 * answered request, in milliseconds, and the count of failed ones.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

export interface LoadJob {
  base: string;
  cookie: string;
  /** Request paths, sent in order and from the start again when all have been sent. */
  paths: string[];
  connections: number;
  seconds: number;
}

export interface LoadResult {
  /** Latency of each answered request, ms. */
  times: number[];
  /** Answers with status >= 400, failed requests, and requests unanswered after autocannon's 10 s. */
  errors: number;
}

const self = fileURLToPath(import.meta.url);

/** Drives `job` from a child process. */
export function runLoad(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    // No inherited flags: a --cpu-prof of the server must not profile the client too.
    const child = fork(self, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: LoadResult | null = null;
    child.once('message', (m) => {
      result = m as LoadResult;
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      result ? resolve(result) : reject(new Error(`bench load client exited with ${code} before answering`)),
    );
    child.send(job);
  });
}

function drive(job: LoadJob): Promise<LoadResult> {
  let k = 0;
  const times: number[] = [];
  let errors = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: job.base,
        connections: job.connections,
        duration: job.seconds,
        headers: { cookie: job.cookie },
        requests: [{ setupRequest: (req) => ({ ...req, path: job.paths[k++ % job.paths.length] }) }],
      },
      (err) => (err ? reject(err) : resolve({ times, errors })),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 400) errors++;
      times.push(ms);
    });
    instance.on('reqError', () => errors++);
  });
}

if (process.argv[1] === self && process.send) {
  process.once('message', async (job) => {
    const result = await drive(job as LoadJob);
    process.send?.(result, () => process.exit(0));
  });
}
