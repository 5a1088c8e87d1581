import { afterEach, describe, expect, it } from 'vitest';
import { appendAudit, listAudit, recordAudit, verifyAudit } from '../../pipeline/audit/log.js';
import type { Config } from '../../pipeline/config.js';
import { Secret } from '../../pipeline/secrets.js';
import { syncConfig } from '../../pipeline/settings.js';
import type { Store } from '../../pipeline/store.js';
import { deleteTopic, saveTopic } from '../../pipeline/topics/edit.js';
import { startTestApp, TEST_TOKEN } from '../helpers/app.js';
import { databaseText } from '../helpers/runner.js';
import { openTestStore } from '../helpers/store.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
async function open(): Promise<Store> {
  const { store, cleanup } = await openTestStore();
  cleanups.push(cleanup);
  return store;
}
const t = (n: number) => new Date(Date.UTC(2026, 10, 22, 9, n));

async function threeEntries(store: Store): Promise<void> {
  await recordAudit(
    store,
    { actor: 'ann', action: 'topic.save', target: 'acme', detail: { name: 'Acme' } },
    t(1),
  );
  await recordAudit(store, { actor: 'cli:bo', action: 'erase.author', detail: { mentions: 3 } }, t(2));
  await recordAudit(store, { actor: 'scheduler', action: 'retention.run', detail: { quarantine: 1 } }, t(3));
}

describe('audit log', () => {
  it('chains entries, lists them newest first by action prefix, and pages', async () => {
    const store = await open();
    await threeEntries(store);
    expect(await verifyAudit(store)).toEqual({ entries: 3, brokenAt: null });
    const all = await listAudit(store);
    expect(all.map((e) => e.action)).toEqual(['retention.run', 'erase.author', 'topic.save']);
    expect(all[2]).toMatchObject({
      actor: 'ann',
      target: 'acme',
      detail: { name: 'Acme' },
      at: t(1).toISOString(),
    });
    expect((await listAudit(store, { action: 'erase.' })).map((e) => e.actor)).toEqual(['cli:bo']);
    const page = await listAudit(store, { limit: 1, beforeId: all[0]?.id as number });
    expect(page.map((e) => e.action)).toEqual(['erase.author']);
  });

  it('detects an altered entry and a removed one', async () => {
    const store = await open();
    await threeEntries(store);
    const ids = (await listAudit(store)).map((e) => e.id).reverse();
    await store.write((c) =>
      c.run(`UPDATE audit_log SET detail = '{"mentions": 0}' WHERE id = $1`, [ids[1] as number]),
    );
    expect(await verifyAudit(store)).toEqual({ entries: 3, brokenAt: ids[1] });

    const other = await open();
    await threeEntries(other);
    const otherIds = (await listAudit(other)).map((e) => e.id).reverse();
    await other.write((c) => c.run('DELETE FROM audit_log WHERE id = $1', [otherIds[1] as number]));
    expect(await verifyAudit(other)).toEqual({ entries: 2, brokenAt: otherIds[2] });
  });

  it('never stores a secret value, and an entry commits only with the change it records', async () => {
    const store = await open();
    const value = 'xbearer-AAAA-secret-value-7781';
    const secret = new Secret('X_BEARER', value);
    await recordAudit(store, {
      actor: `cli:${value}`,
      action: 'config.change',
      detail: { token: secret, echoed: `Bearer ${value}`, nested: { url: `https://hooks.example/${value}` } },
    });
    const text = await databaseText(store);
    expect(text).not.toContain(value);
    expect(text).toContain('[redacted]');
    expect(text).toContain('[secret X_BEARER]');

    await expect(
      store.write(async (conn) => {
        await appendAudit(conn, { actor: 'ann', action: 'topic.delete', target: 'acme' });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect((await listAudit(store)).map((e) => e.action)).toEqual(['config.change']);
  });

  it('records topic saves and deletes, and config changes only when the config differs', async () => {
    const store = await open();
    await saveTopic(store, { id: 'acme', name: 'Acme', keywords: ['acme'] }, t(1), 'ann');
    await deleteTopic(store, 'acme', 'ann', t(2));
    expect(await deleteTopic(store, 'acme', 'ann', t(3))).toBe(false);
    const base = {
      configPath: '/etc/earshot.yaml',
      databasePath: store.path,
      host: '127.0.0.1',
      port: 8080,
      timezone: 'UTC',
      logLevel: 'info',
      topics: [],
      sources: [],
      maxRateLimitWaitMs: 0,
      minGroupSize: 5,
    } satisfies Config;
    await syncConfig(store, base, t(4));
    await syncConfig(store, base, t(5));
    await syncConfig(store, { ...base, timezone: 'Asia/Seoul', minGroupSize: 7 }, t(6));
    const entries = (await listAudit(store)).reverse();
    expect(entries.map((e) => [e.action, e.actor, e.target])).toEqual([
      ['topic.save', 'ann', 'acme'],
      ['topic.delete', 'ann', 'acme'],
      ['config.change', 'system:config', '/etc/earshot.yaml'],
      ['config.change', 'system:config', '/etc/earshot.yaml'],
    ]);
    expect(entries[3]?.detail).toEqual({ changed: ['minGroupSize', 'timezone'] });
    expect((await verifyAudit(store)).brokenAt).toBeNull();
  });
});

describe('GET /api/audit', () => {
  it('lists entries to the holder of the local token only, and names a bad parameter', async () => {
    const store = await open();
    await threeEntries(store);
    const app = await startTestApp({ store, now: () => t(9) });
    cleanups.push(app.close);
    const get = (q: string, token: string | null = TEST_TOKEN) =>
      fetch(`${app.base}/api/audit${q}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    expect((await get('', null)).status).toBe(401);
    expect((await get('', 'wrong-token-wrong-token-wrong-00')).status).toBe(401);
    const ok = await get('?action=erase.&limit=5');
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { entries: { action: string }[] };
    expect(body.entries.map((e) => e.action)).toEqual(['erase.author']);
    const bad = await get('?limit=0');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/limit: at least 1/);
  });
});
