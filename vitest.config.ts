import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // A non-UTC zone catches code that leans on the machine's time zone.
    env: { TZ: 'Asia/Seoul', DOTENV_CONFIG_QUIET: 'true' },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
