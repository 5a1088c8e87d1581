import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../pipeline/paths.js';
import { json, type Reply, type Request } from './loopback.js';

export interface Hit {
  objectID: string;
  created_at_i: number;
  [key: string]: unknown;
}

// From the project root, so the compiled soak script (dist/tests/soak) finds it too.
export const hnFixture = JSON.parse(
  readFileSync(join(projectRoot, 'tests', 'fixtures', 'listening', 'hn_algolia_search_by_date.json'), 'utf8'),
) as { hits: Hit[] };

/** `n` stories shaped like the fixture's first hit, one minute apart, newest last. */
export function syntheticHits(n: number, startSec = 1_700_000_000): Hit[] {
  const base = hnFixture.hits[0] as Hit;
  return Array.from({ length: n }, (_, i) => ({
    ...base,
    objectID: String(40_000_000 + i),
    created_at_i: startSec + i * 60,
    created_at: new Date((startSec + i * 60) * 1000).toISOString(),
    title: `Acme story number ${i}`,
    points: i % 17,
  }));
}

/**
 * Algolia's search_by_date as a handler: newest first, `numericFilters=created_at_i>=N`,
 * `hitsPerPage` and `page` honoured, like the real API.
 */
export function hnSearch(hits: readonly Hit[]): (req: Request) => Reply {
  return (req) => {
    if (req.url.pathname !== '/api/v1/search_by_date') return { status: 404 };
    const filter = /created_at_i>=(\d+)/.exec(req.url.searchParams.get('numericFilters') ?? '');
    const min = filter ? Number(filter[1]) : 0;
    const per = Number(req.url.searchParams.get('hitsPerPage') ?? 20);
    const page = Number(req.url.searchParams.get('page') ?? 0);
    const matching = hits
      .filter((h) => h.created_at_i >= min)
      .sort((a, b) => b.created_at_i - a.created_at_i);
    return json({
      ...hnFixture,
      hits: matching.slice(page * per, page * per + per),
      nbHits: matching.length,
      nbPages: Math.ceil(matching.length / per),
      page,
      hitsPerPage: per,
    });
  };
}
