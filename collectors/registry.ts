import { bluesky } from './bluesky.js';
import { chatter } from './chatter.js';
import type { AnyCollector } from './contract.js';
import { graphReports } from './graph-reports.js';
import { hackernews } from './hackernews.js';
import { mastodon } from './mastodon.js';
import { naver } from './naver.js';
import { reddit } from './reddit.js';
import { rss } from './rss.js';
import { slackAnalytics } from './slack-analytics.js';
import { x } from './x.js';
import { youtube } from './youtube.js';

/** Every source earshot can collect, by id (the `source` column and the config key). */
export const collectors: ReadonlyMap<string, AnyCollector> = new Map<string, AnyCollector>(
  [x, rss, mastodon, bluesky, reddit, hackernews, youtube, naver, graphReports, slackAnalytics, chatter].map(
    (c) => [c.id, c as AnyCollector],
  ),
);

export function collectorOf(id: string): AnyCollector {
  const collector = collectors.get(id);
  if (!collector) throw new Error(`unknown source ${id}`);
  return collector;
}
