import { byRecord, hasColumns } from './contract.js';

const REQUIRED = ['event_ts', 'platform', 'from_employee_id', 'to_employee_id', 'interaction_type'];
const TYPES = new Set(['reply', 'reaction', 'mention']);

/** Who replied to, reacted to or mentioned whom (canonical interactions.csv). */
export const canonicalInteractions = byRecord({
  kind: 'interactions',
  description: 'canonical interactions CSV (event_ts, platform, from/to_employee_id, interaction_type)',
  detect: (header) => hasColumns(header, REQUIRED),
  parseTable(table) {
    table.require(REQUIRED);
    return {
      interactions: table.records.map((r) => {
        const type = r.str('interaction_type').toLowerCase();
        if (!TYPES.has(type)) r.fail('interaction_type', `"${type}" is not one of reply, reaction, mention`);
        return {
          line: r.line,
          platform: r.str('platform'),
          event_ts: r.instant('event_ts') ?? r.fail('event_ts', 'is empty; a time is required'),
          from_user: r.str('from_employee_id'),
          to_user: r.str('to_employee_id'),
          interaction_type: type,
          thread_id: r.optStr('thread_id'),
        };
      }),
    };
  },
});
