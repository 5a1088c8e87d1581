import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../pipeline/audit/log.js';
import { UserError } from '../../pipeline/errors.js';
import { EXPORT_MANIFEST, type ExportManifest, exportParquet } from '../../pipeline/export/parquet.js';
import { seedFacts } from '../backup/seed.js';
import { openTestStore } from '../helpers/store.js';
import { manifestEdits } from './manifests.js';
import { options, runs, settleAsync, timeoutFor } from './runs.js';

// An export folder is shared with other engines and people: whatever its manifest says, the next
// export ends with every partition written whole and listed truly, or refuses and writes nothing.
const NOW = new Date('2026-11-23T02:00:00Z');
let t: Awaited<ReturnType<typeof openTestStore>>;
let out: string;
let reference: ExportManifest;

/** Every file under `dir` with a hash of its bytes, sorted. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const path = join(e.parentPath, e.name);
      return `${relative(dir, path)} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
    })
    .sort();
}

const run = () => exportParquet(t.store, { dir: out, key: null, now: NOW, actor: 'fuzz' });

/** The manifest without its time: what must come out of any export of the same data. */
const content = (m: ExportManifest) => ({ ...m, updatedAt: null });

beforeAll(async () => {
  t = await openTestStore();
  await seedFacts(t.store, { mentions: 30 });
  out = join(t.dir, 'lake');
  mkdirSync(out);
  await run();
  reference = JSON.parse(readFileSync(join(out, EXPORT_MANIFEST), 'utf8')) as ExportManifest;
});
afterAll(() => t.cleanup());

describe('fuzz: the Parquet export manifest', () => {
  // Found by the property below: a listed file '' (or '../x') made its partition look intact, so the
  // real file was deleted as unlisted and the manifest listed a file that is not there.
  it('refuses file names DuckDB never writes, changing nothing', async () => {
    for (const forged of ['', '.', '../manifest.json', 'part_0.parquet/..', '/etc/passwd']) {
      const m = structuredClone(reference);
      const part = Object.values(m.datasets.interactions?.partitions ?? {})[0];
      if (!part) throw new Error('the seed has interactions');
      part.files = [forged];
      writeFileSync(join(out, EXPORT_MANIFEST), JSON.stringify(m));
      const before = snapshot(out);
      await expect(run(), forged).rejects.toThrow(/is not an earshot export manifest/);
      expect(snapshot(out)).toEqual(before);
    }
  });

  const n = runs(200);
  it(
    `an export over a corrupted or forged manifest ends true and whole, or refuses writing nothing (${n} cases)`,
    async () => {
      const good = snapshot(out).filter((f) => !f.startsWith(EXPORT_MANIFEST));
      let exported = 0;
      await fc.assert(
        fc.asyncProperty(manifestEdits(reference), async (e) => {
          writeFileSync(join(out, EXPORT_MANIFEST), e.text);
          const before = snapshot(out);
          const audits = (await listAudit(t.store, { action: 'export.' })).length;
          const outcome = await settleAsync('export', run);
          const why = e.edits.join('; ');
          if (!outcome.ok) {
            expect(outcome.error, why).toBeInstanceOf(UserError);
            expect(snapshot(out), why).toEqual(before);
            expect((await listAudit(t.store, { action: 'export.' })).length).toBe(audits);
            return;
          }
          // The same manifest and the same files as an export from scratch (same names, same bytes).
          const written = JSON.parse(readFileSync(join(out, EXPORT_MANIFEST), 'utf8')) as ExportManifest;
          expect(content(written), why).toEqual(content(reference));
          expect(
            snapshot(out).filter((f) => !f.startsWith(EXPORT_MANIFEST)),
            why,
          ).toEqual(good);
          exported++;
        }),
        options(n, 1500),
      );
      // Lies an export can repair (a changed fingerprint, a file name that is not there) do get exported.
      expect(exported).toBeGreaterThan(0);
    },
    timeoutFor(n, 1500),
  );
});
