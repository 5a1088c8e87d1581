import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../pipeline/errors.js';
import { processClock } from '../../pipeline/services.js';

// EARSHOT_NOW is test-only: it freezes a child's clock so the crash harness can compare databases.
describe('EARSHOT_NOW', () => {
  it('freezes the process clock at the given instant', () => {
    const now = processClock({ EARSHOT_NOW: '2026-11-22T03:00:00Z' });
    expect(now().toISOString()).toBe('2026-11-22T03:00:00.000Z');
    expect(now().getTime()).toBe(now().getTime());
  });

  it('is the real clock when unset', () => {
    const before = Date.now();
    const t = processClock({})().getTime();
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(Date.now());
  });

  it('names the variable when the value is not an instant', () => {
    expect(() => processClock({ EARSHOT_NOW: 'yesterday' })).toThrow(ConfigError);
    expect(() => processClock({ EARSHOT_NOW: 'yesterday' })).toThrow(/EARSHOT_NOW: "yesterday"/);
  });
});
