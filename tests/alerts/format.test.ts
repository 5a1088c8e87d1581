import { describe, expect, it } from 'vitest';
import { webhookPayload } from '../../pipeline/alerts/format.js';
import type { Alert } from '../../pipeline/alerts/records.js';

const HOSTILE = '<!channel> <https://evil.example|click me> & [login](https://evil.example) **now**';

const alert: Alert = {
  id: 7,
  kind: 'negative_surge',
  status: 'open',
  topicId: 'hanbit',
  source: null,
  partition: null,
  windowStart: '2026-11-08T04:00:00.000Z',
  windowEnd: '2026-11-08T05:00:00.000Z',
  createdAt: '2026-11-08T05:20:00.000Z',
  title: 'Negative surge: Hanbit Electronics, 10 negative mentions in the hour from 8 Nov 2026, 04:00',
  summary: '10 of 20 mentions negative (50%), against 11% over the previous 7 days (threshold 7.4).',
  value: 10,
  baseline: { mean: 2.2, sd: 0.4, threshold: 7.4 },
  why: {
    topTerms: [{ term: '<b>recall</b>', mentions: 30, baseline: 1.5 }],
    topSources: [{ source: 'naver', mentions: 12, share: 0.6 }],
    sentiment: {
      before: { mentions: 3000, positive: 0.3, negative: 0.11, neutral: 0.59, net: 0.46 },
      now: { mentions: 20, positive: 0.1, negative: 0.5, neutral: 0.4, net: -0.67 },
    },
    examples: [
      {
        source: 'x',
        url: 'https://x.example/status/1?a=1|b>2',
        author: 'someone',
        text: HOSTILE,
        engagement: 120,
        sentiment: 'negative',
        createdAt: '2026-11-08T04:10:00.000Z',
      },
      {
        source: 'rss',
        url: 'javascript:alert(1)',
        author: null,
        text: 'plain',
        engagement: 3,
        sentiment: 'negative',
        createdAt: '2026-11-08T04:20:00.000Z',
      },
    ],
  },
  link: 'https://earshot.example.com/comms?topic=hanbit&from=2026-11-07T04%3A00%3A00.000Z&to=2026-11-08T05%3A00%3A00.000Z',
  ackedAt: null,
  ackedBy: null,
};

describe('webhook payloads', () => {
  it('Slack: text fallback and blocks; collected text cannot mention, link or format', () => {
    const msg = webhookPayload('slack', alert) as {
      text: string;
      blocks: {
        type: string;
        text?: { type: string; text: string };
        fields?: { text: string }[];
        elements?: { url: string }[];
      }[];
    };
    expect(msg.text).toBe(alert.title);
    expect(msg.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'section', 'actions']);
    expect(msg.blocks[0]?.text).toEqual({ type: 'plain_text', text: alert.title, emoji: false });
    expect(msg.blocks[2]?.fields?.map((f) => f.text.split('\n')[0])).toEqual([
      '*Top terms*',
      '*Top sources*',
      '*Sentiment*',
    ]);
    expect(msg.blocks[2]?.fields?.[0]?.text).toContain('&lt;b&gt;recall&lt;/b&gt;: 30 (usually 1.5 an hour)');
    const examples = msg.blocks[3]?.text?.text ?? '';
    expect(examples).toContain('&lt;!channel&gt; &lt;https://evil.example|click me&gt; &amp;');
    expect(examples).not.toContain('<!channel>');
    // Our own link: the URL's | and > encoded so they cannot end it early; a javascript: URL is not linked.
    expect(examples).toContain('<https://x.example/status/1?a=1%7Cb%3E2|x @someone (120 engagement)>');
    expect(examples).toContain('• rss (3 engagement): plain');
    expect(examples).not.toContain('javascript:');
    expect(msg.blocks[4]?.elements?.[0]?.url).toBe(alert.link);
  });

  it('Teams: an Adaptive Card whose collected text is in TextRuns (never read as markdown)', () => {
    const msg = webhookPayload('teams', alert) as {
      type: string;
      attachments: {
        contentType: string;
        content: {
          type: string;
          version: string;
          body: { type: string; inlines: { type: string; text: string; selectAction?: { url: string } }[] }[];
          actions: { type: string; url: string }[];
        };
      }[];
    };
    expect(msg.type).toBe('message');
    expect(msg.attachments).toHaveLength(1);
    const card = msg.attachments[0];
    expect(card?.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(card?.content).toMatchObject({ type: 'AdaptiveCard', version: '1.4' });
    expect(card?.content.actions).toEqual([
      { type: 'Action.OpenUrl', title: 'Open in earshot', url: alert.link },
    ]);
    expect(new Set(card?.content.body.map((b) => b.type))).toEqual(new Set(['RichTextBlock']));
    const runs = card?.content.body.flatMap((b) => b.inlines) ?? [];
    expect(new Set(runs.map((r) => r.type))).toEqual(new Set(['TextRun']));
    expect(runs.map((r) => r.text)).toContain(HOSTILE);
    expect(runs.find((r) => r.text.startsWith('x @someone'))?.selectAction?.url).toBe(
      'https://x.example/status/1?a=1|b%3E2',
    );
    expect(runs.find((r) => r.text.startsWith('rss'))?.selectAction).toBeUndefined();
    expect(runs.map((r) => r.text).join('\n')).toContain('now: 50% negative, 10% positive of 20, net -0.67');
  });

  it('JSON: the alert object itself', () => {
    expect(webhookPayload('json', alert)).toEqual(alert);
  });
});
