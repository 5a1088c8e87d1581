/**
 * npx tsc -p . && node dist/tests/privacy/bench.js [people] [seed]
 *
 * Plans suppression for a skewed organisation of 20,000 people (by default) over 4 dimensions:
 * 20 departments x 10 locations x 6 levels x 2 leader flags, minimum group 5, and prints the time and
 * how much was withheld. Numbers are noisy on a shared machine.
 */
import { planSuppression } from '../../pipeline/privacy/suppress.js';
import { seededRandom as random } from '../../pipeline/random.js';

const people = Number(process.argv[2] ?? 20_000);
const next = random(Number(process.argv[3] ?? 1));
const pick = (n: number, skew: number) => Math.floor(n * next() ** skew);
const members = Array.from({ length: people }, () => ({
  department: `dept-${pick(20, 2)}`,
  location: `loc-${pick(10, 3)}`,
  level: `L${pick(6, 1.5)}`,
  leader: next() < 0.1 ? 'yes' : 'no',
}));
const dimensions = ['department', 'location', 'level', 'leader'];

const started = performance.now();
const cpu = process.cpuUsage();
const plan = planSuppression(members, dimensions, 5);
const elapsed = performance.now() - started;
const cpuMs = process.cpuUsage(cpu).user / 1000;

let cells = 0;
const withheld = { small: 0, complementary: 0 };
const seen = new Set<string>();
for (const m of members) {
  for (let mask = 0; mask < 16; mask++) {
    const key = Object.fromEntries(
      dimensions.filter((_, i) => mask & (1 << i)).map((d) => [d, m[d as keyof typeof m]]),
    );
    const id = JSON.stringify(key);
    if (seen.has(id)) continue;
    seen.add(id);
    cells++;
    const reason = plan.reason(key);
    if (reason) withheld[reason]++;
  }
}
console.log(
  `${people} people, ${cells} cells: planned in ${elapsed.toFixed(0)} ms (${cpuMs.toFixed(0)} ms CPU); withheld ${withheld.small} small + ${withheld.complementary} complementary`,
);
