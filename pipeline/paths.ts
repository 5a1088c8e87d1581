import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding package.json, whether running from source (vitest) or from dist/. */
export const projectRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir)
      throw new Error(`earshot: cannot find package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
})();

export const migrationsDir = join(projectRoot, 'data', 'migrations');
export const defaultDatabasePath = join(projectRoot, 'data', 'earshot.duckdb');
export const defaultConfigPath = join(projectRoot, 'earshot.yaml');
/** The demo database `npm start` serves while nothing is configured (its own file, never the real one). */
export const defaultDemoPath = join(projectRoot, 'data', 'demo.duckdb');
