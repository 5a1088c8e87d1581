import { join } from 'node:path';
import express from 'express';
import { projectRoot } from '../pipeline/paths.js';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML content and attribute values; everything collected is attacker-controlled. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** The views with a page; 'home' sends the signed-in user on to their role's first view. */
export const VIEWS = ['comms', 'leadership', 'analyst', 'ops', 'login'] as const;
const CHARTS: readonly string[] = ['comms', 'leadership'];

/**
 * A page is an empty shell holding no data: dashboard/web/main.ts asks /api/session who is signed in,
 * then draws the header and the view from the JSON API (text nodes only, never HTML).
 */
export function pageShell(view: (typeof VIEWS)[number] | 'home'): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>earshot</title>
<link rel="stylesheet" href="/assets/app.css">
<link rel="icon" href="data:,">
${CHARTS.includes(view) ? '<script src="/assets/chart.umd.js" defer></script>\n' : ''}<script type="module" src="/assets/main.js"></script>
</head>
<body data-view="${escapeHtml(view)}">
<noscript>earshot's dashboard needs JavaScript.</noscript>
<main id="main"></main>
</body></html>`;
}

/**
 * The pages and their assets: the browser code compiled from dashboard/web (tsc -p dashboard/web),
 * its stylesheet, and chart.js from node_modules — everything from this server, nothing from a CDN.
 */
export function pageRoutes(): express.Router {
  const router = express.Router();
  router.get('/', (_req, res) => {
    res.type('html').send(pageShell('home'));
  });
  for (const view of VIEWS)
    router.get(`/${view}`, (_req, res) => {
      res.type('html').send(pageShell(view));
    });
  router.get('/assets/app.css', (_req, res) => {
    res.sendFile(join(projectRoot, 'dashboard', 'web', 'app.css'));
  });
  router.get('/assets/chart.umd.js', (_req, res) => {
    res.sendFile(join(projectRoot, 'node_modules', 'chart.js', 'dist', 'chart.umd.js'));
  });
  router.use('/assets', express.static(join(projectRoot, 'dist', 'dashboard', 'web'), { index: false }));
  return router;
}
