import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openView, signIn, watchedPage } from './browser.js';
import { PASSWORD, USERS, XSS_TEXT } from './seed.js';
import { type BrowserApp, startBrowserApp } from './setup.js';

let env: BrowserApp;

beforeAll(async () => {
  env = await startBrowserApp();
}, 120_000);

afterAll(async () => {
  await env?.close();
});

/** A request from the page itself (its cookies), with or without the session's CSRF token. */
function pageFetch(page: Page, path: string, init: { method?: string; body?: unknown; csrf?: boolean } = {}) {
  return page.evaluate(
    async ({ path, method, body, csrf }) => {
      const session = (await (await fetch('/api/session')).json()) as { csrf: string };
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (csrf) headers['x-csrf-token'] = session.csrf;
      const res = await fetch(path, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as { error?: string }) : null };
    },
    { path, method: init.method ?? 'GET', body: init.body, csrf: init.csrf ?? true },
  );
}

/** Each sentiment series' total in the volume chart, read from the chart.js instance itself. */
function volumeTotals(page: Page): Promise<Record<string, number>> {
  return page.evaluate(() => {
    const { Chart } = globalThis as unknown as {
      Chart: { getChart(c: Element): { data: { datasets: { label: string; data: (number | null)[] }[] } } };
    };
    const canvas = document.querySelector('#chart-volume canvas');
    if (!canvas) throw new Error('no volume chart');
    return Object.fromEntries(
      Chart.getChart(canvas).data.datasets.map((d) => [
        d.label,
        d.data.reduce<number>((s, v) => s + (v ?? 0), 0),
      ]),
    );
  });
}

describe('the browser UI is safe with hostile data and guarded by role', { timeout: 90_000 }, () => {
  it('shows a mention whose text is an <img onerror> and one whose URL is javascript: as inert text', async () => {
    const { page, context, problems } = await watchedPage(env.browser);
    await signIn(page, env.app.base, USERS.comms, PASSWORD);
    await openView(page, env.app.base, 'comms');
    const hostile = page.locator('li.mention[data-id="hostile-text"]');
    expect(await hostile.locator('.text').textContent()).toBe(XSS_TEXT);
    // The alert's "why" quotes the same text as an example, with the javascript: URL.
    await page.click('#alerts details summary');
    expect(await page.locator('#alerts details').textContent()).toContain(XSS_TEXT);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('li.mention[data-id="hostile-url"]').count()).toBe(1);
    expect(await page.locator('li.mention[data-id="hostile-url"] a').count()).toBe(0);
    const links = await page.evaluate(() =>
      [...document.querySelectorAll('a')].map((a) => ({
        protocol: a.protocol,
        host: a.hostname,
        rel: a.rel,
        target: a.target,
      })),
    );
    for (const link of links) expect(['http:', 'https:']).toContain(link.protocol);
    const external = links.filter((l) => l.host !== '127.0.0.1');
    expect(external.length).toBeGreaterThan(0);
    for (const link of external) expect(link).toMatchObject({ rel: 'noopener noreferrer', target: '_blank' });
    expect(problems).toEqual([]);
    await context.close();
  });

  it('a sentiment correction clicked in the stream moves the mention between the volume chart series', async () => {
    const { page, context, problems } = await watchedPage(env.browser);
    await signIn(page, env.app.base, USERS.comms, PASSWORD);
    await openView(page, env.app.base, 'comms');
    const id = await page
      .locator('li.mention:has(button.correct[data-label="positive"][aria-pressed="false"])')
      .first()
      .getAttribute('data-id');
    const item = page.locator(`li.mention[data-id="${id}"]`);
    const from = await item.locator('button.correct[aria-pressed="true"]').getAttribute('data-label');
    const fromLabel = (await item.locator('button.correct[aria-pressed="true"]').textContent()) ?? '';
    const before = await volumeTotals(page);
    await item.locator('button.correct[data-label="positive"]').click();
    await expect
      .poll(() => volumeTotals(page), { timeout: 20_000 })
      .toEqual({
        ...before,
        positive: (before.positive ?? 0) + 1,
        [fromLabel]: (before[fromLabel] ?? 0) - 1,
      });
    expect(from).not.toBe('positive');
    expect(await item.locator('.badge').textContent()).toBe('positive');
    expect(await item.locator('.correction').textContent()).toContain(`corrected by ${USERS.comms}`);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('a leadership user cannot open the SQL console or per-person data, in the UI or from the server', async () => {
    const { page, context } = await watchedPage(env.browser);
    const asked: string[] = [];
    page.on('request', (r) => asked.push(r.url()));
    await signIn(page, env.app.base, USERS.leadership, PASSWORD);
    expect(await page.locator('header nav a').allTextContents()).toEqual(['Leadership']);
    await openView(page, env.app.base, 'leadership');
    expect(asked.some((u) => u.includes('/api/adoption/'))).toBe(true);
    expect(asked.filter((u) => u.includes('audience=analyst') || u.includes('/api/sql'))).toEqual([]);
    await openView(page, env.app.base, 'analyst');
    expect(await page.locator('main .forbidden').count()).toBe(1);
    expect(await page.locator('#sql').count()).toBe(0);
    const sql = await pageFetch(page, '/api/sql', { method: 'POST', body: { query: 'SELECT 1' } });
    expect(sql.status).toBe(403);
    const perPerson = await pageFetch(page, '/api/adoption/groups?audience=analyst');
    expect(perPerson.status).toBe(403);
    const schema = await pageFetch(page, '/api/schema');
    expect(schema.status).toBe(403);
    await context.close();
  });

  it("the SQL console shows the server's own message for each refused statement, and keeps working", async () => {
    const { page, context } = await watchedPage(env.browser);
    await signIn(page, env.app.base, USERS.analyst, PASSWORD);
    await openView(page, env.app.base, 'analyst');
    const refused = [
      "SELECT * FROM read_csv('/etc/passwd')",
      "COPY mentions TO '/tmp/earshot-leak.csv'",
      "ATTACH '/tmp/other.duckdb' AS other",
      'INSTALL httpfs',
      'SET enable_external_access = true',
      'PRAGMA database_list',
      'DELETE FROM mentions',
      'SELECT 1; SELECT 2',
    ];
    for (const query of refused) {
      const server = await pageFetch(page, '/api/sql', { method: 'POST', body: { query } });
      expect(server.status, query).toBeGreaterThanOrEqual(400);
      expect(server.body?.error, query).toBeTruthy();
      await page.fill('#sql', query);
      await page.click('#run');
      await expect
        .poll(() => page.locator('#results').textContent(), { timeout: 20_000 })
        .toBe(`Error: ${server.body?.error}`);
    }
    await page.fill('#sql', 'SELECT count(*) AS n FROM mentions');
    await page.click('#run');
    await page.waitForSelector('#results table');
    expect(await page.locator('#results tbody td').textContent()).toBe('62');
    await context.close();
  });

  it('signs in (wrong password refused with the server message), signs out, and refuses a state change without the CSRF token', async () => {
    const { page, context } = await watchedPage(env.browser);
    await page.goto(`${env.app.base}/comms`);
    await page.waitForURL((u) => u.pathname === '/login');
    await page.fill('#login-name', USERS.comms);
    await page.fill('#login-password', 'not the password at all');
    await page.click('form.login button[type=submit]');
    await expect
      .poll(() => page.locator('form.login .error').textContent(), { timeout: 20_000 })
      .toBe('Error: wrong name or password');

    await signIn(page, env.app.base, USERS.comms, PASSWORD);
    expect(new URL(page.url()).pathname).toBe('/comms');
    const alerts = await pageFetch(page, '/api/alerts');
    const id = (alerts.body as unknown as { alerts: { id: number }[] }).alerts[0]?.id;
    expect(id).toBeDefined();
    const forged = await pageFetch(page, `/api/alerts/${id}/ack`, { method: 'POST', csrf: false });
    expect(forged).toEqual({ status: 403, body: { error: 'missing or wrong CSRF token' } });
    const real = await pageFetch(page, `/api/alerts/${id}/ack`, { method: 'POST' });
    expect(real.status).toBe(200);

    await openView(page, env.app.base, 'comms');
    await page.click('#sign-out');
    await page.waitForURL((u) => u.pathname === '/login');
    expect((await pageFetch(page, '/api/alerts')).status).toBe(401);
    await page.goto(`${env.app.base}/comms`);
    await page.waitForURL((u) => u.pathname === '/login');
    await context.close();
  });
});
