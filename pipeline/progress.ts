import cliProgress from 'cli-progress';
import type { ProgressEvent } from '../collectors/runner.js';

/**
 * Live progress of a collection on a terminal: one line per partition with rows so far (and a bar
 * when the source says how many results exist). Off a terminal it prints one line per finished
 * partition instead, so logs and CI output stay readable.
 */
export function progressDisplay(stream: NodeJS.WriteStream = process.stderr): {
  update: (e: ProgressEvent) => void;
  stop: () => void;
} {
  if (!stream.isTTY) {
    return {
      update: (e) => {
        if (e.status !== 'running') {
          stream.write(
            `${e.source} ${e.partition}: ${e.status}, ${e.rows} rows (${e.newRows} new)${e.message ? ` - ${e.message}` : ''}\n`,
          );
        }
      },
      stop: () => undefined,
    };
  }
  const multi = new cliProgress.MultiBar(
    {
      stream,
      clearOnComplete: false,
      hideCursor: true,
      format: '{source} {partition} [{bar}] {value} rows, {newRows} new {status}',
      barsize: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  return {
    update(e) {
      const key = `${e.source}\u0000${e.partition}`;
      const payload = {
        source: e.source,
        partition: e.partition,
        newRows: e.newRows,
        status: e.status === 'running' ? '' : `(${e.status}${e.message ? `: ${e.message}` : ''})`,
      };
      const total = Math.max(e.total ?? 0, e.rows);
      let bar = bars.get(key);
      if (!bar) {
        bar = multi.create(total, e.rows, payload);
        bars.set(key, bar);
      }
      bar.setTotal(total);
      bar.update(e.rows, payload);
    },
    stop: () => multi.stop(),
  };
}
