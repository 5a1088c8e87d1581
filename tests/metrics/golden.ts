import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { projectRoot } from '../../pipeline/paths.js';

const GOLDEN = join(projectRoot, 'tests', 'fixtures', 'golden');

/** Compares with tests/fixtures/golden/<name>.json; UPDATE_GOLDEN=1 rewrites it (review the diff). */
export function golden(name: string, body: unknown): void {
  const file = join(GOLDEN, `${name}.json`);
  const text = `${JSON.stringify(body, null, 2)}\n`;
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, text);
  expect(existsSync(file), `${file} is missing: run with UPDATE_GOLDEN=1 and review it`).toBe(true);
  expect(text).toBe(readFileSync(file, 'utf8'));
}
