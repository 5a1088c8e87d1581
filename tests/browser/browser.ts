/**
 * Debian's chromium driven by playwright-core, and a page that records what must never happen: a
 * console error, an uncaught exception, a dialog (alert() from injected script) or a request
 * leaving 127.0.0.1.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { projectRoot } from '../../pipeline/paths.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Compiles dashboard/web, so the app serves the browser code of this checkout, not a stale build. */
export function buildWeb(): void {
  execFileSync(
    join(projectRoot, 'node_modules', '.bin', 'tsc'),
    ['-p', join(projectRoot, 'dashboard', 'web')],
    {
      stdio: 'inherit',
    },
  );
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `no chromium at ${CHROMIUM}: the browser tests need it; run \`apt-get install chromium\``,
    );
  // playwright gives each launch a fresh temporary profile (the --user-data-dir).
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors, page errors, dialogs and off-host requests seen so far. */
  problems: string[];
}

/** A page in a fresh context (its own cookies) that records every problem. */
export async function watchedPage(
  browser: Browser,
  options: { width?: number; height?: number; locale?: string } = {},
): Promise<WatchedPage> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
    locale: options.locale ?? 'en-US',
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  // Names what failed: chromium's own console line for a failed load does not say which URL.
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`);
  });
  page.on('request', (r) => {
    const url = new URL(r.url());
    const local = (url.protocol === 'http:' && url.hostname === '127.0.0.1') || url.protocol === 'blob:';
    if (!local) problems.push(`request off 127.0.0.1: ${r.url()}`);
  });
  return { page, context, problems };
}

/** Signs in through the login form and waits for the role's view to be drawn. */
export async function signIn(page: Page, base: string, name: string, password: string): Promise<void> {
  await page.goto(`${base}/login`);
  await page.fill('#login-name', name);
  await page.fill('#login-password', password);
  await page.click('form.login button[type=submit]');
  await page.waitForURL((url) => !url.pathname.startsWith('/login'));
  await page.waitForSelector('main[data-ready="true"]');
}

/** Opens a view and waits until it says it has drawn everything (main[data-ready]). */
export async function openView(page: Page, base: string, view: string): Promise<void> {
  await page.goto(`${base}/${view}`);
  await page.waitForSelector('main[data-ready="true"]');
}
