import type { Alert, AlertWhy, SentimentMix } from './records.js';

/** What a webhook receives, by its format. Collected text inside is attacker-controlled: escaped here. */
export function webhookPayload(format: 'slack' | 'teams' | 'json', alert: Alert): unknown {
  if (format === 'slack') return slackMessage(alert);
  if (format === 'teams') return teamsMessage(alert);
  return alert;
}

/** Only http(s) links are shown; others (javascript:, data:) are dropped. */
function safeUrl(url: string | null): string | null {
  if (url === null) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
  } catch {
    return null;
  }
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
const mixLine = (m: SentimentMix) =>
  `${pct(m.negative)} negative, ${pct(m.positive)} positive of ${m.mentions}` +
  (m.net === null ? '' : `, net ${m.net.toFixed(2)}`);

/** The why as plain lines (no markup), shared by both chat formats. */
function whyLines(why: AlertWhy): { label: string; lines: string[] }[] {
  const parts: { label: string; lines: string[] }[] = [];
  if (why.topTerms.length > 0)
    parts.push({
      label: 'Top terms',
      lines: why.topTerms.map((t) => `${t.term}: ${t.mentions} (usually ${t.baseline} an hour)`),
    });
  if (why.topSources.length > 0)
    parts.push({
      label: 'Top sources',
      lines: why.topSources.map((s) => `${s.source}: ${s.mentions} (${pct(s.share)})`),
    });
  if (why.sentiment)
    parts.push({
      label: 'Sentiment',
      lines: [`before: ${mixLine(why.sentiment.before)}`, `now: ${mixLine(why.sentiment.now)}`],
    });
  if (why.failedRuns)
    parts.push({
      label: 'Failed runs',
      lines: [
        `${why.failedRuns.runs} in a row, ${why.failedRuns.firstFailedAt} to ${why.failedRuns.lastFailedAt}`,
      ],
    });
  return parts;
}

const exampleLabel = (e: Alert['why']['examples'][number]) =>
  `${e.source}${e.author ? ` @${e.author}` : ''} (${e.engagement} engagement)`;

/** Slack mrkdwn: &, < and > are the only control characters; escaped, text cannot make links or mentions. */
function slackEscape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function slackLink(url: string | null, label: string): string {
  const safe = safeUrl(url);
  if (safe === null) return slackEscape(label);
  return `<${safe.replaceAll('|', '%7C').replaceAll('>', '%3E')}|${slackEscape(label).replaceAll('|', '¦')}>`;
}

/** Slack incoming webhook: `text` is the notification fallback, `blocks` the message. */
function slackMessage(alert: Alert): unknown {
  const why = whyLines(alert.why);
  return {
    text: slackEscape(alert.title),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: alert.title.slice(0, 150), emoji: false } },
      { type: 'section', text: { type: 'mrkdwn', text: slackEscape(alert.summary) } },
      ...(why.length > 0
        ? [
            {
              type: 'section',
              fields: why.map((p) => ({
                type: 'mrkdwn',
                text: `*${p.label}*\n${p.lines.map(slackEscape).join('\n')}`,
              })),
            },
          ]
        : []),
      ...(alert.why.examples.length > 0
        ? [
            {
              type: 'section',
              text: {
                type: 'mrkdwn',
                text: `*Examples*\n${alert.why.examples
                  .map((e) => `• ${slackLink(e.url, exampleLabel(e))}: ${slackEscape(e.text)}`)
                  .join('\n')}`,
              },
            },
          ]
        : []),
      {
        type: 'actions',
        elements: [
          { type: 'button', text: { type: 'plain_text', text: 'Open in earshot' }, url: alert.link },
        ],
      },
    ],
  };
}

/** Plain text in an Adaptive Card: a TextRun is never read as markdown, unlike a TextBlock. */
const plain = (text: string, extra: object = {}) => ({
  type: 'RichTextBlock',
  inlines: [{ type: 'TextRun', text, ...extra }],
});

/** Microsoft Teams incoming webhook (Workflows): a message carrying one Adaptive Card. */
function teamsMessage(alert: Alert): unknown {
  const body: unknown[] = [
    plain(alert.title, { weight: 'Bolder', size: 'Medium' }),
    plain(alert.summary),
    ...whyLines(alert.why).flatMap((p) => [plain(p.label, { weight: 'Bolder' }), plain(p.lines.join('\n'))]),
  ];
  if (alert.why.examples.length > 0) {
    body.push(plain('Examples', { weight: 'Bolder' }));
    for (const e of alert.why.examples) {
      const url = safeUrl(e.url);
      body.push({
        type: 'RichTextBlock',
        inlines: [
          {
            type: 'TextRun',
            text: `${exampleLabel(e)}: `,
            ...(url ? { selectAction: { type: 'Action.OpenUrl', url } } : {}),
          },
          { type: 'TextRun', text: e.text },
        ],
      });
    }
  }
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body,
          actions: [{ type: 'Action.OpenUrl', title: 'Open in earshot', url: alert.link }],
        },
      },
    ],
  };
}
