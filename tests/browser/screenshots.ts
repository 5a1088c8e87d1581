/**
 * `npm run screenshots`: every view at desktop (1280x800) and phone (390x844) width, as PNGs in
 * dashboard/screenshots/ (the README shows them). Runs over the browser tests' seeded database.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../pipeline/paths.js';
import { openView, signIn, watchedPage } from './browser.js';
import { PASSWORD, USERS } from './seed.js';
import { startBrowserApp } from './setup.js';

const SHOTS = [
  { view: 'comms', user: USERS.comms },
  { view: 'leadership', user: USERS.leadership },
  { view: 'analyst', user: USERS.analyst },
  { view: 'ops', user: USERS.admin },
] as const;

const SIZES = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;

async function main(): Promise<void> {
  const out = join(projectRoot, 'dashboard', 'screenshots');
  mkdirSync(out, { recursive: true });
  const env = await startBrowserApp();
  try {
    for (const size of SIZES) {
      const login = await watchedPage(env.browser, size);
      await login.page.goto(`${env.app.base}/login`);
      await login.page.waitForSelector('form.login');
      await login.page.screenshot({ path: join(out, `login-${size.name}.png`) });
      await login.context.close();
      for (const shot of SHOTS) {
        const { page, context, problems } = await watchedPage(env.browser, size);
        await signIn(page, env.app.base, shot.user, PASSWORD);
        await openView(page, env.app.base, shot.view);
        if (shot.view === 'analyst') {
          await page.click('#run');
          await page.waitForSelector('#results table');
        }
        const path = join(out, `${shot.view}-${size.name}.png`);
        await page.screenshot({ path });
        if (problems.length) console.warn(`${shot.view} (${size.name}): ${problems.join('; ')}`);
        console.log(path);
        await context.close();
      }
    }
  } finally {
    await env.close();
  }
}

await main();
