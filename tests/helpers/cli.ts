import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../pipeline/paths.js';

/** The built CLI (npm test builds before running vitest). */
export const cliPath = join(projectRoot, 'dist', 'pipeline', 'cli.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `earshot <args>` as a real child process; `input`, when given, is written to its stdin. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
  input?: string | Buffer,
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [cliPath, ...args],
      { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

export interface Served {
  child: ChildProcess;
  stderr: () => string;
  /**
   * Resolves with the exit code (null when a signal ended it: `signal`) and how long the process
   * took to exit after `stop` was called.
   */
  stop: (
    signal?: NodeJS.Signals,
  ) => Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

/** Starts `earshot serve` and waits until it has written its server file beside the database. */
export async function startServe(env: NodeJS.ProcessEnv, databasePath: string): Promise<Served> {
  const child = spawn(process.execPath, [cliPath, 'serve'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  child.stdout?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const deadline = Date.now() + 20_000;
  while (!existsSync(`${databasePath}.server.json`)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`earshot serve did not start: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    stderr: () => err,
    stop: async (signal = 'SIGTERM') => {
      const started = Date.now();
      child.kill(signal);
      return { ...(await exited), ms: Date.now() - started };
    },
  };
}
