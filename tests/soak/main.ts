import { parseArgs } from 'node:util';
import { formatSoak, runSoak } from './soak.js';

// `npm run soak -- --minutes 10`: prints the figures; the targets are judged by the reader.
const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    seed: { type: 'string', default: '20261123' },
    clients: { type: 'string', default: '20' },
    rate: { type: 'string', default: '5' },
    history: { type: 'string', default: '100000' },
    'history-days': { type: 'string', default: '14' },
  },
});
const minutes = Number(values.minutes);
if (!(minutes > 0)) throw new Error(`--minutes: "${values.minutes}" is not a positive number`);
const result = await runSoak({
  minutes,
  seed: Number(values.seed),
  clients: Number(values.clients),
  rate: Number(values.rate),
  drainMs: 5 * 60_000,
  history: Number(values.history),
  historyDays: Number(values['history-days']),
  log: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(`${formatSoak(result, minutes)}\n`);
if (result.missing.length > 0 || result.unexpected.length > 0 || result.collected !== result.emitted)
  process.exitCode = 1;
