import type { Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { openTestStore } from '../helpers/store.js';
import { buildWeb, launchChromium } from './browser.js';
import { seed } from './seed.js';

export interface BrowserApp {
  app: TestApp;
  browser: Browser;
  close(): Promise<void>;
}

/** The real app over a seeded temp DuckDB file on a loopback port, the browser code built, and chromium. */
export async function startBrowserApp(): Promise<BrowserApp> {
  buildWeb();
  const opened = await openTestStore();
  const now = () => new Date();
  try {
    await seed(opened.store, now());
    const app = await startTestApp({ store: opened.store, now });
    const browser = await launchChromium().catch((err) => {
      app.close();
      throw err;
    });
    return {
      app,
      browser,
      close: async () => {
        await browser.close();
        app.close();
        opened.cleanup();
      },
    };
  } catch (err) {
    opened.cleanup();
    throw err;
  }
}
