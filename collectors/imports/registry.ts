import { canonicalActivityDaily } from './canonical-activity-daily.js';
import { canonicalCommVolume } from './canonical-comm-volume.js';
import { canonicalEmployees } from './canonical-employees.js';
import { canonicalInteractions } from './canonical-interactions.js';
import { canonicalThreads } from './canonical-threads.js';
import { chatterActivity } from './chatter-activity.js';
import { chatterFeed } from './chatter-feed.js';
import { chatterUsers } from './chatter-users.js';
import type { Importer } from './contract.js';
import { graphTeamsUserDetail } from './graph-teams-user-detail.js';
import { graphYammerGroups } from './graph-yammer-groups.js';
import { graphYammerUserDetail } from './graph-yammer-user-detail.js';
import { slackChannelAnalytics } from './slack-channel-analytics.js';
import { slackMemberAnalytics } from './slack-member-analytics.js';
import { slackMemberNdjson } from './slack-member-ndjson.js';
import { vivaEngageMessages } from './viva-engage-messages.js';
import { workplaceEmployees } from './workplace-employees.js';

/**
 * Every import format. Order matters twice: `auto` takes the first whose header matches, and the
 * files of one import are written in this order, so the directory lands before activity that
 * must be matched to it.
 */
export const importers: readonly Importer[] = [
  canonicalEmployees,
  workplaceEmployees,
  canonicalActivityDaily,
  canonicalInteractions,
  canonicalThreads,
  canonicalCommVolume,
  graphYammerUserDetail,
  graphTeamsUserDetail,
  slackMemberAnalytics,
  vivaEngageMessages,
  chatterUsers,
  chatterActivity,
  chatterFeed,
  slackMemberNdjson,
  graphYammerGroups,
  slackChannelAnalytics,
];

export const importKinds = importers.map((i) => i.kind);

export function importerOf(kind: string): Importer | undefined {
  return importers.find((i) => i.kind === kind);
}

export function detectImporter(header: readonly string[]): Importer | undefined {
  return importers.find((i) => i.detect(header));
}
