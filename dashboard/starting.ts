import type { IncomingMessage, ServerResponse } from 'node:http';

const RETRY_SECONDS = 3;

/**
 * What the port answers while the process is still getting ready (the demo database is built on
 * first start, which takes about half a minute): a page that refreshes itself until the dashboard
 * is there, and 503 with Retry-After for the API, so nobody meets a refused connection.
 * No script and no style, so the strictest policy holds.
 */
export function startingHandler(what: 'demo' | 'database') {
  const en =
    what === 'demo'
      ? 'Building the demo database (first start of the day only, about half a minute)…'
      : 'Opening the database…';
  const ko =
    what === 'demo'
      ? '데모 데이터베이스를 만드는 중입니다 (하루 첫 시작에만, 30초쯤 걸립니다)…'
      : '데이터베이스를 여는 중입니다…';
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${RETRY_SECONDS}">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>earshot is starting</title></head>
<body><h1>earshot is starting</h1><p>${en}</p><p lang="ko">${ko}</p>
<p>This page reloads by itself. 이 페이지는 저절로 새로 고쳐집니다.</p></body></html>
`;
  return (req: IncomingMessage, res: ServerResponse): void => {
    const api = (req.url ?? '').startsWith('/api/');
    res.writeHead(503, {
      'Content-Type': api ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8',
      'Retry-After': String(RETRY_SECONDS),
      'Cache-Control': 'no-store',
      'Content-Security-Policy': "default-src 'none'",
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(api ? JSON.stringify({ error: `earshot is starting: ${en}` }) : page);
  };
}
