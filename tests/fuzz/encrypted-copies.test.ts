import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackupKey, decryptFile, encryptFile, parseBackupKey } from '../../pipeline/backup/crypto.js';
import { UserError } from '../../pipeline/errors.js';
import { Secret } from '../../pipeline/secrets.js';
import { tempDir } from '../helpers/store.js';
import { options, runs, settleAsync, timeoutFor } from './runs.js';

// Backups and exports come back from disks and object stores we do not control: whatever the bytes,
// decrypting ends with the plaintext (only if untouched) or a UserError, and never leaves a file.
const tmp = tempDir('earshot-fuzz-enc-');
const key: BackupKey = parseBackupKey(new Secret('EARSHOT_BACKUP_KEY', randomBytes(32).toString('base64')));
let original: Buffer;
let sealed: Buffer;

beforeAll(async () => {
  // Just over two 1 MiB chunks, so chunk boundaries, the final flag and the tail are all in play.
  original = randomBytes(2 * 1024 * 1024 + 777);
  writeFileSync(join(tmp.dir, 'plain.bin'), original);
  await encryptFile(join(tmp.dir, 'plain.bin'), join(tmp.dir, 'plain.bin.enc'), key);
  sealed = readFileSync(join(tmp.dir, 'plain.bin.enc'));
});
afterAll(() => tmp.cleanup());

/** Edits of a sealed file: flipped bytes, a cut, bytes added, a span moved, or noise instead. */
const edit = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  fc.record({
    kind: fc.constant('swap' as const),
    a: fc.nat(),
    b: fc.nat(),
    length: fc.integer({ min: 1, max: 4096 }),
  }),
  fc.record({ kind: fc.constant('noise' as const), bytes: fc.uint8Array({ maxLength: 256 }) }),
);

function mutate(e: {
  kind: string;
  at?: number;
  bit?: number;
  bytes?: Uint8Array;
  a?: number;
  b?: number;
  length?: number;
}): Buffer {
  const out = Buffer.from(sealed);
  switch (e.kind) {
    case 'flip': {
      const i = (e.at ?? 0) % out.length;
      out[i] = (out[i] ?? 0) ^ (1 << (e.bit ?? 0));
      return out;
    }
    case 'cut':
      return out.subarray(0, (e.at ?? 0) % out.length);
    case 'append':
      return Buffer.concat([out, Buffer.from(e.bytes ?? [])]);
    case 'swap': {
      const length = Math.min(e.length ?? 1, Math.floor(out.length / 2));
      const a = (e.a ?? 0) % (out.length - length);
      const b = (e.b ?? 0) % (out.length - length);
      const span = Buffer.from(out.subarray(a, a + length));
      out.copy(out, a, b, b + length);
      span.copy(out, b);
      return out;
    }
    default:
      return Buffer.from(e.bytes ?? []);
  }
}

describe('decrypting an encrypted copy', () => {
  const n = runs(200);
  it(
    'gives back exactly the plaintext or refuses with a clear error, writing nothing',
    async () => {
      let i = 0;
      await fc.assert(
        fc.asyncProperty(edit, async (e) => {
          const bytes = mutate(e);
          const source = join(tmp.dir, `case-${i}.enc`);
          const target = join(tmp.dir, `case-${i++}.out`);
          writeFileSync(source, bytes);
          const r = await settleAsync('decryptFile', () => decryptFile(source, target, key));
          if (r.ok) {
            // Only an edit that changed nothing (a swap of equal spans) may decrypt, and then exactly.
            expect(bytes.equals(sealed)).toBe(true);
            expect(readFileSync(target).equals(original)).toBe(true);
          } else {
            expect(r.error).toBeInstanceOf(UserError);
            expect((r.error as Error).message.length).toBeGreaterThan(10);
            expect(existsSync(target)).toBe(false);
          }
        }),
        options(n, 150),
      );
    },
    timeoutFor(n, 150),
  );
});
