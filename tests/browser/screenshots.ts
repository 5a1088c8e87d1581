/**
 * `npm run screenshots`: every view at desktop (1280x800) and phone (390x844) width, as PNGs in
 * dashboard/screenshots/ (the README shows them), over a freshly built demo database (a temp file),
 * each role picked with the demo's role switcher.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../pipeline/config.js';
import { buildDemo, DEFAULT_SEED } from '../../pipeline/demo/build.js';
import { silentLogger } from '../../pipeline/logger.js';
import { projectRoot } from '../../pipeline/paths.js';
import { Store } from '../../pipeline/store.js';
import { startTestApp } from '../helpers/app.js';
import { tempDir } from '../helpers/store.js';
import { buildWeb, launchChromium, watchedPage } from './browser.js';

const SHOTS = [
  { view: 'comms', role: 'comms' },
  { view: 'leadership', role: 'leadership' },
  { view: 'analyst', role: 'analyst' },
  { view: 'ops', role: 'admin' },
] as const;

const SIZES = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;

async function main(): Promise<void> {
  const out = join(projectRoot, 'dashboard', 'screenshots');
  mkdirSync(out, { recursive: true });
  const tmp = tempDir();
  const path = join(tmp.dir, 'demo.duckdb');
  const config = loadConfig({ EARSHOT_DB: path, EARSHOT_CONFIG: '' });
  const now = new Date();
  await buildDemo({ path, seed: DEFAULT_SEED, now, config, logger: silentLogger });
  buildWeb();
  const store = await Store.open(path);
  const app = await startTestApp({ store, now: () => new Date(), config });
  const browser = await launchChromium();
  try {
    for (const size of SIZES) {
      const login = await watchedPage(browser, size);
      await login.page.goto(`${app.base}/login`);
      await login.page.waitForSelector('main[data-ready="true"]');
      await login.page.screenshot({ path: join(out, `login-${size.name}.png`) });
      await login.context.close();
      for (const shot of SHOTS) {
        const { page, context, problems } = await watchedPage(browser, size);
        await page.goto(`${app.base}/login`);
        await page.click(`button[data-role="${shot.role}"]`);
        await page.waitForURL((u) => u.pathname === `/${shot.view}`);
        await page.waitForSelector('main[data-ready="true"]');
        if (shot.view === 'analyst') {
          await page.click('#run');
          await page.waitForSelector('#results table');
        }
        const file = join(out, `${shot.view}-${size.name}.png`);
        await page.screenshot({ path: file });
        if (problems.length) console.warn(`${shot.view} (${size.name}): ${problems.join('; ')}`);
        console.log(file);
        await context.close();
      }
    }
  } finally {
    await browser.close();
    app.close();
    store.close();
    tmp.cleanup();
  }
}

await main();
