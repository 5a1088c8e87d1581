import { appendFileSync } from 'node:fs';

/**
 * Loaded into the soak's `earshot serve` with NODE_OPTIONS=--import, so the server's own figures
 * (JS heap, external and array buffers, RSS) can be told apart from DuckDB's native memory. Writes
 * one JSON line per interval (`at`: epoch milliseconds) to EARSHOT_SOAK_PROBE; nothing when the variable is unset.
 */
const file = process.env.EARSHOT_SOAK_PROBE;
if (file) {
  const sample = () => {
    const m = process.memoryUsage();
    const mb = (n: number) => Math.round((n / 1048576) * 10) / 10;
    const line = {
      at: Date.now(),
      rss: mb(m.rss),
      heapUsed: mb(m.heapUsed),
      heapTotal: mb(m.heapTotal),
      external: mb(m.external),
      arrayBuffers: mb(m.arrayBuffers),
    };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  };
  sample();
  setInterval(sample, Number(process.env.EARSHOT_SOAK_PROBE_MS ?? 5000)).unref();
}
