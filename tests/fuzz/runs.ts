/**
 * Shared settings of the property-based tests: how many cases each property runs (a few hundred in
 * `npm test`, ten times as many with `npm run fuzz`) and the hang guard every case passes through.
 */
import type fc from 'fast-check';

const exact = Number(process.env.FUZZ_RUNS);
const scale = Number(process.env.FUZZ_SCALE);

/**
 * Cases per property: `base` in npm test (sized so all properties take well under a minute), base x
 * FUZZ_SCALE with `npm run fuzz`, or exactly FUZZ_RUNS (to replay or to push one property hard).
 */
export function runs(base = 300): number {
  if (Number.isInteger(exact) && exact > 0) return exact;
  if (Number.isFinite(scale) && scale > 0) return Math.max(1, Math.round(base * scale));
  return base;
}

/**
 * fast-check options for `numRuns` cases of about `perCaseMs` each. Shrinking a slow counterexample
 * can take far longer than finding it, so the run stops before the test's timeout (timeoutFor with
 * the same numbers) and reports the smallest counterexample found so far. FUZZ_SEED replays a
 * failing run (fast-check prints the seed).
 */
export function options(numRuns: number, perCaseMs: number): fc.Parameters<unknown> {
  const seed = Number(process.env.FUZZ_SEED);
  return {
    numRuns,
    interruptAfterTimeLimit: timeoutFor(numRuns, perCaseMs) - 15_000,
    ...(Number.isInteger(seed) ? { seed } : {}),
  };
}

/** A test timeout generous enough for `numRuns` cases of at most `perCaseMs` each. */
export function timeoutFor(numRuns: number, perCaseMs: number): number {
  return 30_000 + numRuns * perCaseMs;
}

/**
 * Longest one case may take. A hang guard, not a speed assertion: a parser that needs this long on
 * input of a few kilobytes has a catastrophic path (a backtracking regex, a quadratic loop). Such a
 * path burns CPU, so a case is over the limit only when both its wall time and this process's CPU
 * time over it are: on a host busy with other work the wall time alone grew past it for an ordinary
 * XLSX import (2,003 ms at load 16). A case stuck waiting is caught by settleAsync's 3x timer.
 */
export const CASE_LIMIT_MS = 2000;

/** How a case ended: a result or an error, never both. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

interface Started {
  wall: number;
  cpu: NodeJS.CpuUsage;
}

const start = (): Started => ({ wall: performance.now(), cpu: process.cpuUsage() });

function checkTime(what: string, started: Started): void {
  const wall = performance.now() - started.wall;
  const { user, system } = process.cpuUsage(started.cpu);
  const cpu = (user + system) / 1000;
  if (wall > CASE_LIMIT_MS && cpu > CASE_LIMIT_MS)
    throw new Error(
      `${what} took ${Math.round(wall)} ms and ${Math.round(cpu)} ms of CPU (limit ${CASE_LIMIT_MS} ms)`,
    );
}

/** Runs one case, catching what it throws, and fails the property when it took over CASE_LIMIT_MS. */
export function settle<T>(what: string, fn: () => T): Settled<T> {
  const started = start();
  let outcome: Settled<T>;
  try {
    outcome = { ok: true, value: fn() };
  } catch (error) {
    outcome = { ok: false, error };
  }
  checkTime(what, started);
  return outcome;
}

/**
 * Async form of `settle`; a case that never settles fails at 3x the limit instead of hanging the
 * whole run, so fast-check still reports (and shrinks) the counterexample.
 */
export async function settleAsync<T>(what: string, fn: () => Promise<T>): Promise<Settled<T>> {
  const started = start();
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not settle within ${3 * CASE_LIMIT_MS} ms`)),
      3 * CASE_LIMIT_MS,
    );
  });
  try {
    const outcome = await Promise.race([
      fn().then(
        (value): Settled<T> => ({ ok: true, value }),
        (error: unknown): Settled<T> => ({ ok: false, error }),
      ),
      hang,
    ]);
    checkTime(what, started);
    return outcome;
  } finally {
    clearTimeout(timer);
  }
}
