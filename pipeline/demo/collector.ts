import { z } from 'zod';
import type { AnyCollector, Batch } from '../../collectors/contract.js';
import type { DemoMention } from './mentions.js';

const PAGE = 500;
const bookmarkSchema = z.object({ through: z.number() });

/**
 * Stands in for one public source's API: it hands the runner the generated mentions of each
 * partition posted after the bookmark and up to `upTo()`, in pages, like a search API would. The
 * runner stores them exactly as it stores a real collector's batches (runs, bookmarks, authors).
 */
export function demoCollector(
  source: string,
  mentions: readonly DemoMention[],
  upTo: () => number,
): AnyCollector {
  const byPartition = new Map<string, DemoMention[]>();
  for (const m of mentions) {
    if (m.source !== source) continue;
    const list = byPartition.get(m.partition) ?? [];
    list.push(m);
    byPartition.set(m.partition, list);
  }
  const keys = [...byPartition.keys()].sort();
  return {
    id: source,
    defaultBaseUrl: 'https://demo.invalid',
    configSchema: z.unknown(),
    bookmarkSchema,
    partitions: () => keys.map((key) => ({ key })),
    check: async () => ({ ok: true }),
    async *read(_config, partition, bookmark: z.infer<typeof bookmarkSchema> | undefined) {
      const from = bookmark?.through ?? Number.NEGATIVE_INFINITY;
      const to = upTo();
      const due = (byPartition.get(partition.key) ?? []).filter((m) => {
        const at = m.record.createdAt.getTime();
        return at > from && at <= to;
      });
      for (let i = 0; i < due.length; i += PAGE) {
        const page = due.slice(i, i + PAGE);
        const batch: Batch<z.infer<typeof bookmarkSchema>> = {
          records: page.map((m) => m.record),
          // Mid-way, one millisecond before the page's last mention: a resumed run re-reads that
          // instant (the runner dedupes by key) rather than skip a mention sharing it.
          bookmark: {
            through: i + PAGE >= due.length ? to : (page.at(-1)?.record.createdAt.getTime() ?? to) - 1,
          },
        };
        yield batch;
      }
    },
  };
}
