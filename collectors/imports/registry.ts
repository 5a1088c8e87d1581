import { canonicalActivityDaily } from './canonical-activity-daily.js';
import { canonicalCommVolume } from './canonical-comm-volume.js';
import { canonicalEmployees } from './canonical-employees.js';
import { canonicalInteractions } from './canonical-interactions.js';
import { canonicalThreads } from './canonical-threads.js';
import type { Importer } from './contract.js';
import { graphTeamsUserDetail } from './graph-teams-user-detail.js';
import { graphYammerUserDetail } from './graph-yammer-user-detail.js';
import { slackMemberAnalytics } from './slack-member-analytics.js';
import { vivaEngageMessages } from './viva-engage-messages.js';

/**
 * Every import format. Order matters twice: `auto` takes the first whose header matches, and the
 * files of one import are written in this order, so the directory lands before activity that
 * must be matched to it.
 */
export const importers: readonly Importer[] = [
  canonicalEmployees,
  canonicalActivityDaily,
  canonicalInteractions,
  canonicalThreads,
  canonicalCommVolume,
  graphYammerUserDetail,
  graphTeamsUserDetail,
  slackMemberAnalytics,
  vivaEngageMessages,
];

export const importKinds = importers.map((i) => i.kind);

export function importerOf(kind: string): Importer | undefined {
  return importers.find((i) => i.kind === kind);
}

export function detectImporter(header: readonly string[]): Importer | undefined {
  return importers.find((i) => i.detect(header));
}
