import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
