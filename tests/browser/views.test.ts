import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAudit } from '../../pipeline/audit/log.js';
import { markDemo } from '../../pipeline/demo/flag.js';
import { openView, signIn, watchedPage } from './browser.js';
import { PASSWORD, USERS } from './seed.js';
import { type BrowserApp, startBrowserApp } from './setup.js';

let env: BrowserApp;

beforeAll(async () => {
  env = await startBrowserApp();
}, 120_000);

afterAll(async () => {
  await env?.close();
});

/** What each role's nav offers, home first (dashboard/web/api.ts VIEWS). */
const VIEWS = {
  comms: ['comms'],
  leadership: ['leadership'],
  analyst: ['analyst', 'leadership'],
  admin: ['ops', 'comms', 'leadership', 'analyst'],
} as const;

/** The audit table's rows as cell texts: time, who, action, target, details. */
function auditRows(page: Page): Promise<string[][]> {
  return page
    .locator('#audit tbody tr')
    .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
}

describe('every view in a real browser', { timeout: 90_000 }, () => {
  for (const [role, views] of Object.entries(VIEWS)) {
    it(`${role}: lands on its home view, and every view it may use loads with no console error, no failed panel and no request leaving 127.0.0.1`, async () => {
      const { page, context, problems } = await watchedPage(env.browser);
      await signIn(page, env.app.base, USERS[role as keyof typeof USERS], PASSWORD);
      expect(new URL(page.url()).pathname).toBe(`/${views[0]}`);
      const nav = await page.locator('header nav a').allTextContents();
      expect(nav).toHaveLength(views.length);
      for (const view of views) {
        await openView(page, env.app.base, view);
        expect(await page.locator('main .error').allTextContents()).toEqual([]);
        expect(await page.locator('main h1').count()).toBe(1);
      }
      expect(problems).toEqual([]);
      await context.close();
    });
  }

  it('admin: the audit log in the ops view, newest first, details as text, filtered by action prefix and paged back', async () => {
    const store = env.app.services.store;
    for (let i = 0; i < 55; i++)
      await recordAudit(store, { actor: 'test', action: 'export.sql', target: `t${i}`, detail: { rows: i } });
    const hostile = { note: '<img src=x onerror=alert(1)>' };
    await recordAudit(store, {
      actor: 'test',
      action: 'config.change',
      target: 'earshot.yaml',
      detail: hostile,
    });
    const { page, context, problems } = await watchedPage(env.browser);
    await signIn(page, env.app.base, USERS.admin, PASSWORD);
    await openView(page, env.app.base, 'ops');
    const rows = () => auditRows(page);
    // The sign-in just made is the newest entry, then the hostile one, shown as text (no <img>, no alert).
    const first = await rows();
    expect(first).toHaveLength(50);
    expect(first[0]?.slice(1, 4)).toEqual([USERS.admin, 'auth.sign_in', USERS.admin]);
    expect(first[1]?.slice(1)).toEqual(['test', 'config.change', 'earshot.yaml', JSON.stringify(hostile)]);
    expect(await page.locator('#audit img').count()).toBe(0);

    await page.selectOption('#audit-action', 'export.');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('#audit tbody tr td:nth-child(3)')].every(
        (td) => td.textContent === 'export.sql',
      ),
    );
    expect((await rows()).map((r) => r[3])).toEqual(Array.from({ length: 50 }, (_, i) => `t${54 - i}`));
    await page.click('#audit button.more');
    await page.waitForFunction(() => document.querySelectorAll('#audit tbody tr').length === 55);
    // Paged back by id: the 5 oldest follow, none repeated, and there is nothing older to ask for.
    expect((await rows()).map((r) => r[3])).toEqual(Array.from({ length: 55 }, (_, i) => `t${54 - i}`));
    expect(await page.locator('#audit button.more').isHidden()).toBe(true);

    await page.selectOption('#audit-action', 'auth.');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('#audit tbody tr td:nth-child(3)')].every((td) =>
        td.textContent?.startsWith('auth.'),
      ),
    );
    expect(await rows()).toContainEqual(expect.arrayContaining([USERS.admin, 'auth.sign_in']));
    expect(problems).toEqual([]);
    await context.close();
  });

  for (const role of ['comms', 'leadership'] as const)
    it(`${role}: no audit panel, and /api/audit answers 403`, async () => {
      const { page, context, problems } = await watchedPage(env.browser);
      await signIn(page, env.app.base, USERS[role], PASSWORD);
      await openView(page, env.app.base, 'ops');
      expect(await page.locator('main .forbidden').count()).toBe(1);
      expect(await page.locator('#audit').count()).toBe(0);
      expect((await context.request.get(`${env.app.base}/api/audit`)).status()).toBe(403);
      expect(problems).toEqual([]);
      await context.close();
    });

  it('draws the comms charts with their data tables, and the Korean UI from the language switch', async () => {
    const { page, context, problems } = await watchedPage(env.browser);
    await signIn(page, env.app.base, USERS.comms, PASSWORD);
    await openView(page, env.app.base, 'comms');
    for (const id of ['chart-volume', 'chart-sentiment', 'chart-share', 'chart-sources']) {
      expect(await page.locator(`#${id} canvas`).count()).toBe(1);
      expect(await page.locator(`#${id} details table caption`).count()).toBe(1);
    }
    // Volume in the table adds up to the originals seeded in the last 7 days (60 + 2 hostile ones).
    const cells = await page.locator('#chart-volume details tbody tr td:not(:first-child)').allTextContents();
    expect(cells.reduce((s, c) => s + Number(c.replace(/,/g, '') || 0), 0)).toBe(62);
    await Promise.all([page.waitForEvent('load'), page.selectOption('#lang', 'ko')]);
    await page.waitForSelector('main[data-ready="true"]');
    expect(await page.locator('main h1').textContent()).toBe('언급');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('ko');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('first load of /comms (HTML, JS, CSS as sent, gzipped) stays under 300 KB', async () => {
    const { page, context, problems } = await watchedPage(env.browser);
    // Signed in through the API, so the page's own assets load here for the first time.
    const { csrf } = (await (await context.request.get(`${env.app.base}/api/session`)).json()) as {
      csrf: string;
    };
    const signedIn = await context.request.post(`${env.app.base}/api/session`, {
      headers: { 'x-csrf-token': csrf },
      data: { name: USERS.comms, password: PASSWORD },
    });
    expect(signedIn.status()).toBe(200);
    const sent: { url: string; bytes: number; encoding: string }[] = [];
    page.on('response', async (r) => {
      if (!['document', 'script', 'stylesheet'].includes(r.request().resourceType())) return;
      const headers = await r.allHeaders();
      sent.push({
        url: r.url(),
        bytes: Number(headers['content-length']),
        encoding: headers['content-encoding'] ?? '',
      });
    });
    await openView(page, env.app.base, 'comms');
    expect(sent.map((s) => new URL(s.url).pathname)).toEqual(
      expect.arrayContaining([
        '/comms',
        '/assets/app.css',
        '/assets/chart.umd.js',
        '/assets/main.js',
        '/assets/comms.js',
      ]),
    );
    for (const s of sent.filter((x) => x.url.includes('/assets/'))) expect(s.encoding, s.url).toBe('gzip');
    const total = sent.reduce((sum, s) => sum + s.bytes, 0);
    console.log(`first load of /comms: ${sent.length} files, ${total} bytes as sent (assets gzipped)`);
    expect(total).toBeLessThan(300 * 1024);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows the stream on a 390 px phone without horizontal scrolling of the page', async () => {
    const { page, context, problems } = await watchedPage(env.browser, { width: 390, height: 844 });
    await signIn(page, env.app.base, USERS.comms, PASSWORD);
    await openView(page, env.app.base, 'comms');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  // Last: it turns this database into a demo one.
  it('in a demo database: a banner on every page and a role switcher in place of sign-in', async () => {
    await env.app.services.store.write((conn) => markDemo(conn, 1));
    const { page, context, problems } = await watchedPage(env.browser);
    await page.goto(`${env.app.base}/comms`);
    await page.waitForURL((u) => u.pathname === '/login');
    await page.waitForSelector('main[data-ready="true"]');
    expect(await page.locator('.demo-banner').count()).toBe(1);
    expect(await page.locator('#login-password').count()).toBe(0);
    await page.click('button[data-role="leadership"]');
    await page.waitForURL((u) => u.pathname === '/leadership');
    await page.waitForSelector('main[data-ready="true"]');
    expect(await page.locator('header nav a').allTextContents()).toEqual(['Leadership']);
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/ops'),
      page.selectOption('#demo-role', 'admin'),
    ]);
    await page.waitForSelector('main[data-ready="true"]');
    expect(await page.locator('.demo-banner').textContent()).toContain('Demo database');
    expect(await page.locator('main .error').allTextContents()).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });
});
