import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackupManifest, createBackup, MANIFEST } from '../../pipeline/backup/backup.js';
import { type BackupKey, parseBackupKey } from '../../pipeline/backup/crypto.js';
import { restoreBackup } from '../../pipeline/backup/restore.js';
import { UserError } from '../../pipeline/errors.js';
import { Secret } from '../../pipeline/secrets.js';
import { seedFacts } from '../backup/seed.js';
import { openTestStore } from '../helpers/store.js';
import { type ManifestEdit, manifestEdits } from './manifests.js';
import { options, runs, settleAsync, timeoutFor } from './runs.js';

// A backup folder comes back from a disk or a bucket we do not control: whatever its manifest says,
// restore ends with the database as it was backed up, or a UserError and no file written anywhere.
const NOW = new Date('2026-11-23T02:00:00Z');
let t: Awaited<ReturnType<typeof openTestStore>>;
const key: BackupKey = parseBackupKey(new Secret('EARSHOT_BACKUP_KEY', randomBytes(32).toString('hex')));
const kinds: { key: BackupKey | null; folder: string; manifest: BackupManifest }[] = [];
let out: string;

beforeAll(async () => {
  t = await openTestStore();
  await seedFacts(t.store, { mentions: 30 });
  const backups = join(t.dir, 'backups-fuzz');
  out = join(t.dir, 'restores');
  mkdirSync(backups);
  mkdirSync(out);
  for (const [i, k] of [null, key].entries()) {
    const b = await createBackup(t.store, {
      dir: backups,
      key: k,
      keepDays: 36_500,
      now: new Date(NOW.getTime() + i),
      actor: 'fuzz',
    });
    kinds.push({ key: k, folder: b.folder, manifest: b.manifest });
  }
});
afterAll(() => t.cleanup());

const listing = (dir: string) =>
  readdirSync(dir)
    .sort()
    .map((f) => `${f}:${f === MANIFEST ? '' : readFileSync(join(dir, f)).length}`);

describe('fuzz: the backup manifest', () => {
  const n = runs(200);
  it(
    `restore of a backup whose manifest is corrupted or forged restores the real rows or refuses, writing nothing (${n} cases)`,
    async () => {
      let restored = 0;
      await fc.assert(
        fc.asyncProperty(
          fc
            .nat(1)
            .chain((k) =>
              manifestEdits((kinds[k] as (typeof kinds)[number]).manifest).map((e) => ({ k, e })),
            ),
          fc.boolean(),
          async ({ k, e }, withKey) => {
            const kind = kinds[k] as (typeof kinds)[number];
            writeFileSync(join(kind.folder, MANIFEST), e.text);
            const files = listing(kind.folder);
            const to = join(out, `case-${randomBytes(4).toString('hex')}.duckdb`);
            const outcome = await settleAsync('restore', () =>
              restoreBackup({
                dir: kind.folder,
                to,
                key: withKey ? key : null,
                actor: 'fuzz',
                now: NOW,
              }),
            );
            expect(listing(kind.folder), 'the backup folder is never changed').toEqual(files);
            if (outcome.ok) {
              // Whatever the manifest claimed, what went live is exactly what was backed up.
              expect(outcome.value.tables, e.edits.join('; ')).toEqual(kind.manifest.tables);
              restored++;
              rmSync(to);
              rmSync(`${to}.wal`, { force: true });
            } else {
              expect(outcome.error, e.edits.join('; ')).toBeInstanceOf(UserError);
              expect(readdirSync(out), 'a refused restore writes nothing').toEqual([]);
            }
          },
        ),
        {
          ...options(n, 1500),
          // Random edits rarely leave a manifest intact (about 3 of 200 cases restored), so these
          // cases always run too: untouched, and with harmless edits (a version string, the time).
          examples: kinds.flatMap(({ key: k, manifest }, i) =>
            [
              { text: JSON.stringify(manifest, null, 2), edits: ['(untouched)'] },
              {
                text: JSON.stringify({ ...manifest, earshotVersion: '9.9.9', createdAt: NOW.toISOString() }),
                edits: ['earshotVersion = "9.9.9"', `createdAt = ${NOW.toISOString()}`],
              },
            ].map((e) => [{ k: i, e }, k !== null] as [{ k: number; e: ManifestEdit }, boolean]),
          ),
        },
      );
      // The examples restore, so the refusals above are not all there is.
      expect(restored).toBeGreaterThanOrEqual(Math.min(4, n));
    },
    timeoutFor(n, 1500),
  );
});
