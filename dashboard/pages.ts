import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import express, { type Request, type Response } from 'express';
import { UserError } from '../pipeline/errors.js';
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

interface Asset {
  mtimeMs: number;
  raw: Buffer;
  gzip: Buffer;
  etag: string;
}

/**
 * Sends a static asset, gzipped when the browser accepts it (compressed once per file version and
 * kept), with an ETag so a reload revalidates instead of downloading again.
 */
function assetSender() {
  const cache = new Map<string, Asset>();
  return async function sendAsset(req: Request, res: Response, file: string): Promise<void> {
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) throw new UserError('not found', 404);
    let asset = cache.get(file);
    if (asset?.mtimeMs !== info.mtimeMs) {
      const raw = await readFile(file);
      const etag = `"${createHash('sha256').update(raw).digest('base64url').slice(0, 27)}"`;
      asset = { mtimeMs: info.mtimeMs, raw, gzip: gzipSync(raw, { level: 9 }), etag };
      cache.set(file, asset);
    }
    res.type(file.slice(file.lastIndexOf('.')));
    res.set({ ETag: asset.etag, 'Cache-Control': 'no-cache', Vary: 'Accept-Encoding' });
    if (req.fresh) {
      res.status(304).end();
      return;
    }
    if (req.acceptsEncodings('gzip') === 'gzip') res.set('Content-Encoding', 'gzip').send(asset.gzip);
    else res.send(asset.raw);
  };
}

/**
 * The pages and their assets: the browser code compiled from dashboard/web (tsc -p dashboard/web),
 * its stylesheet, and chart.js from node_modules — everything from this server, nothing from a CDN.
 */
export function pageRoutes(): express.Router {
  const router = express.Router();
  const sendAsset = assetSender();
  router.get('/', (_req, res) => {
    res.type('html').send(pageShell('home'));
  });
  for (const view of VIEWS)
    router.get(`/${view}`, (_req, res) => {
      res.type('html').send(pageShell(view));
    });
  router.get('/assets/app.css', (req, res) =>
    sendAsset(req, res, join(projectRoot, 'dashboard', 'web', 'app.css')),
  );
  router.get('/assets/chart.umd.js', (req, res) =>
    sendAsset(req, res, join(projectRoot, 'node_modules', 'chart.js', 'dist', 'chart.umd.js')),
  );
  // Only plain module names: no path can climb out of the build folder.
  router.get('/assets/:name', (req, res) => {
    if (!/^[a-z0-9-]+\.js$/.test(req.params.name)) throw new UserError('not found', 404);
    return sendAsset(req, res, join(projectRoot, 'dist', 'dashboard', 'web', req.params.name));
  });
  return router;
}
