import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // A non-UTC zone catches code that leans on the machine's time zone.
    env: { TZ: 'Asia/Seoul', DOTENV_CONFIG_QUIET: 'true' },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Vitest's default on a 2-core machine is one worker; most test time is spent waiting on child
    // processes, loopback servers and DuckDB, so two keep the suite well inside its time budget.
    maxWorkers: 2,
  },
});
