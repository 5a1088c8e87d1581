import { byRecord, hasColumns } from './contract.js';

const REQUIRED = ['week_start', 'employee_id', 'emails_sent'];

/** Weekly email and meeting volume per employee (canonical comm_volume_weekly.csv). */
export const canonicalCommVolume = byRecord({
  kind: 'comm-volume',
  description: 'weekly email/meeting volume CSV (week_start, employee_id, emails_sent, meeting_hours, ...)',
  detect: (header) => hasColumns(header, REQUIRED),
  parseTable(table) {
    table.require(REQUIRED);
    return {
      comm_volume_weekly: table.records.map((r) => ({
        line: r.line,
        week_start: r.date('week_start') ?? r.fail('week_start', 'is empty; a day is required'),
        employee_id: r.str('employee_id'),
        emails_sent: r.int('emails_sent'),
        emails_received: r.int('emails_received'),
        meetings_attended: r.int('meetings_attended'),
        meeting_hours: r.num('meeting_hours'),
      })),
    };
  },
});
