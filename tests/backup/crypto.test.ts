import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BackupKey, decryptFile, encryptFile, parseBackupKey } from '../../pipeline/backup/crypto.js';
import { ConfigError, UserError } from '../../pipeline/errors.js';
import { redact, Secret } from '../../pipeline/secrets.js';
import { tempDir } from '../helpers/store.js';

const keyOf = (bytes: Buffer) => parseBackupKey(new Secret('EARSHOT_BACKUP_KEY', bytes.toString('base64')));

let tmp: ReturnType<typeof tempDir>;
let key: BackupKey;
beforeEach(() => {
  tmp = tempDir();
  key = keyOf(randomBytes(32));
});
afterEach(() => tmp.cleanup());

/** 2.5 chunks of random bytes (chunks are 1 MiB), so the multi-chunk paths run. */
function plainFile(size = 2.5 * 1024 * 1024): { path: string; bytes: Buffer } {
  const bytes = randomBytes(size);
  const path = join(tmp.dir, 'plain.bin');
  writeFileSync(path, bytes);
  return { path, bytes };
}

async function encrypted(): Promise<{ bytes: Buffer; enc: string }> {
  const { path, bytes } = plainFile();
  const enc = join(tmp.dir, 'plain.bin.enc');
  await encryptFile(path, enc, key);
  return { bytes, enc };
}

/** Decrypting must fail with a UserError matching `message` and leave no output file behind. */
async function expectRefused(enc: string, message: RegExp, withKey: BackupKey | null = key): Promise<void> {
  const out = join(tmp.dir, 'out.bin');
  const error = await decryptFile(enc, out, withKey).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UserError);
  expect((error as Error).message).toMatch(message);
  expect(existsSync(out)).toBe(false);
  expect(readdirSync(tmp.dir).filter((f) => f.startsWith('out.bin'))).toEqual([]);
}

describe('backup key', () => {
  it('accepts 32 bytes as base64, base64url or hex and names the key by an id, not its value', () => {
    const bytes = randomBytes(32);
    const fromB64 = keyOf(bytes);
    const fromHex = parseBackupKey(new Secret('EARSHOT_BACKUP_KEY', bytes.toString('hex')));
    const fromUrl = parseBackupKey(new Secret('EARSHOT_BACKUP_KEY', bytes.toString('base64url')));
    expect(fromB64.bytes.equals(bytes)).toBe(true);
    expect(fromHex.id).toBe(fromB64.id);
    expect(fromUrl.id).toBe(fromB64.id);
    expect(fromB64.id).toMatch(/^[0-9a-f]{16}$/);
    expect(bytes.toString('hex')).not.toContain(fromB64.id);
  });

  it.each([
    ['too short', randomBytes(16).toString('base64')],
    ['too long', randomBytes(48).toString('hex')],
    ['not base64 or hex', 'correct horse battery staple, quite long enough!'],
  ])('refuses a key that is %s, naming the variable and never repeating the value', (_why, value) => {
    const error = (() => {
      try {
        parseBackupKey(new Secret('EARSHOT_BACKUP_KEY', value));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe('EARSHOT_BACKUP_KEY');
    expect((error as Error).message).toMatch(/32 random bytes/);
    expect((error as Error).message).not.toContain(value);
    // Loaded as a Secret, the value is redacted wherever it would be logged.
    expect(redact(`key=${value}`)).toBe('key=[redacted]');
  });
});

describe('encrypted files', () => {
  it('round-trips and the ciphertext does not contain the plaintext', async () => {
    const { bytes, enc } = await encrypted();
    const cipher = readFileSync(enc);
    expect(cipher.includes(bytes.subarray(1000, 1032))).toBe(false);
    const out = join(tmp.dir, 'out.bin');
    await decryptFile(enc, out, key);
    expect(readFileSync(out).equals(bytes)).toBe(true);
  });

  it('round-trips an empty file and a file of exactly one chunk', async () => {
    for (const size of [0, 1024 * 1024]) {
      const { path, bytes } = plainFile(size);
      const enc = join(tmp.dir, `x${size}.enc`);
      await encryptFile(path, enc, key);
      const out = join(tmp.dir, `x${size}.out`);
      await decryptFile(enc, out, key);
      expect(readFileSync(out).equals(bytes)).toBe(true);
    }
  });

  it('is unreadable without the key, and a wrong key is named as such', async () => {
    const { enc } = await encrypted();
    await expectRefused(enc, /is encrypted \(key id [0-9a-f]{16}\): set EARSHOT_BACKUP_KEY/, null);
    const other = keyOf(randomBytes(32));
    await expectRefused(enc, new RegExp(`another key .*key id ${key.id}.*wrong key`), other);
  });

  it('detects any flipped byte: header, chunk head, ciphertext, tag', async () => {
    const { enc } = await encrypted();
    const original = readFileSync(enc);
    const chunk = 12 + 1 + 4 + 1024 * 1024 + 16;
    // magic, key id, file id, chunk size, nonce, final flag, length, first ciphertext byte, a tag
    // byte, and bytes inside the second and last chunks.
    const positions = [0, 10, 20, 34, 40, 49, 52, 60, 37 + chunk - 1, 37 + chunk + 500, original.length - 1];
    for (const at of positions) {
      const damaged = Buffer.from(original);
      damaged[at] = (damaged[at] ?? 0) ^ 0x01;
      writeFileSync(enc, damaged);
      await expectRefused(enc, /damaged|not a file earshot encrypted|another key|newer earshot/);
    }
  });

  it('detects truncation at a chunk boundary, inside a chunk, and extra bytes at the end', async () => {
    const { enc } = await encrypted();
    const original = readFileSync(enc);
    const chunk = 12 + 1 + 4 + 1024 * 1024 + 16;
    for (const length of [37, 37 + chunk, 37 + 2 * chunk, 37 + chunk + 100, original.length - 1]) {
      writeFileSync(enc, original.subarray(0, length));
      await expectRefused(enc, /ends early|fails authentication/);
    }
    writeFileSync(enc, Buffer.concat([original, Buffer.from('x')]));
    await expectRefused(enc, /bytes follow the final chunk/);
  });

  it('detects reordered chunks and a chunk taken from another file made with the same key', async () => {
    const { enc } = await encrypted();
    const original = readFileSync(enc);
    const chunk = 12 + 1 + 4 + 1024 * 1024 + 16;
    const first = original.subarray(37, 37 + chunk);
    const second = original.subarray(37 + chunk, 37 + 2 * chunk);
    writeFileSync(
      enc,
      Buffer.concat([original.subarray(0, 37), second, first, original.subarray(37 + 2 * chunk)]),
    );
    await expectRefused(enc, /chunk 0 fails authentication/);

    // Same plaintext, same key, new file: its first chunk is valid on its own but not in this file.
    const again = join(tmp.dir, 'again.enc');
    await encryptFile(join(tmp.dir, 'plain.bin'), again, key);
    const foreign = readFileSync(again).subarray(37, 37 + chunk);
    writeFileSync(enc, Buffer.concat([original.subarray(0, 37), foreign, original.subarray(37 + chunk)]));
    await expectRefused(enc, /chunk 0 fails authentication/);
  });

  it('refuses a file that is not encrypted by earshot', async () => {
    const { path } = plainFile(100);
    await expectRefused(path, /not a file earshot encrypted/);
  });
});
