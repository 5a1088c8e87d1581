import type { Config } from '../pipeline/config.js';
import type { SourceStatus } from '../pipeline/verbs.js';

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

const CONFIGURE = `
<section>
  <h2>Nothing is configured yet</h2>
  <p>earshot is running, but it has no sources to collect. Create <code>earshot.yaml</code> in the project
  folder (or point <code>EARSHOT_CONFIG</code> at a file) with your topics and sources, then restart:</p>
  <pre>topics:
  - id: acme
    name: Acme
    keywords: [Acme, 에이크미]
sources:
  hackernews: {}
  naver:
    clientId: {secret: NAVER_CLIENT_ID}
    clientSecret: {secret: NAVER_CLIENT_SECRET}</pre>
  <p>Secrets come from the environment or the file named by <code>EARSHOT_SECRETS</code>. See the README for every source.</p>
</section>`;

/** The operations overview: per-source freshness and failures. */
export function statusPage(config: Config, sources: SourceStatus[]): string {
  const rows = sources
    .map(
      (s) => `<tr>
  <td>${escapeHtml(s.source)}</td><td>${s.enabled ? 'on' : 'off'}</td><td><code>${escapeHtml(s.schedule)}</code></td>
  <td>${escapeHtml(s.mentions)}</td><td>${escapeHtml(s.lastSuccessAt ?? 'never')}</td><td>${escapeHtml(s.lastRows)}</td>
  <td>${escapeHtml(s.consecutiveFailures)}</td><td>${escapeHtml(s.waitingUntil ?? '')}</td><td>${escapeHtml(s.lastError ?? '')}</td>
</tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>earshot</title></head>
<body>
<h1>earshot</h1>
${config.sources.length === 0 ? CONFIGURE : ''}
<table>
<caption>Sources (times in UTC; reporting time zone ${escapeHtml(config.timezone)})</caption>
<thead><tr><th>source</th><th>enabled</th><th>schedule</th><th>mentions</th><th>last success</th><th>rows in last run</th><th>consecutive failures</th><th>rate limited until</th><th>last error</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="9">no sources yet</td></tr>'}
</tbody></table>
</body></html>`;
}
