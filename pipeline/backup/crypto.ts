/**
 * Encryption of what leaves the database (backups, Parquet exports): AES-256-GCM from node:crypto.
 * DuckDB's own at-rest encryption needs its OpenSSL module to write securely, which is not
 * available offline (DESIGN.md section 7), so earshot encrypts the copies itself.
 *
 * File format, version 1:
 *   header  magic "EARSHOTE" | version u8 | key id 8 bytes | file id 16 random bytes | chunk size u32
 *   chunks  nonce 12 bytes | final flag u8 | length u32 | ciphertext | GCM tag 16 bytes
 * Every chunk has its own random nonce, and its associated data is the whole header plus the chunk's
 * index and final flag: a flipped byte, a reordered or dropped chunk, a chunk taken from another
 * file, or a cut after any chunk all fail authentication or the end-of-file check.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { ConfigError, UserError } from '../errors.js';
import type { Secret } from '../secrets.js';

const MAGIC = Buffer.from('EARSHOTE', 'latin1');
const VERSION = 1;
const HEADER_BYTES = MAGIC.length + 1 + 8 + 16 + 4;
const CHUNK_HEAD_BYTES = 12 + 1 + 4;
const TAG_BYTES = 16;
const CHUNK_BYTES = 1 << 20;
/** The suffix of encrypted copies (`x.parquet.enc`, `earshot.duckdb.enc`). */
export const ENCRYPTED_SUFFIX = '.enc';

/** A validated 256-bit key and the id that names it in headers and manifests (never the key). */
export interface BackupKey {
  bytes: Buffer;
  id: string;
}

/** The key from EARSHOT_BACKUP_KEY: 32 bytes written as base64 (44 characters) or hex (64). */
export function parseBackupKey(secret: Secret): BackupKey {
  const text = secret.reveal().trim();
  let bytes: Buffer | null = null;
  if (/^[0-9a-fA-F]{64}$/.test(text)) bytes = Buffer.from(text, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) bytes = Buffer.from(text, 'base64');
  if (bytes?.length !== 32) {
    // The message never repeats the value: it may be a real key with a typo.
    throw new ConfigError(
      `${secret.name}: must be 32 random bytes written as base64 (44 characters) or hex (64 characters); ` +
        'make one with `openssl rand -base64 32`',
      secret.name,
    );
  }
  return { bytes, id: keyIdOf(bytes) };
}

/** 16 hex characters of a domain-separated hash of the key: says which key, reveals nothing usable. */
function keyIdOf(bytes: Buffer): string {
  return createHash('sha256').update('earshot backup key id\0').update(bytes).digest('hex').slice(0, 16);
}

function chunkAad(header: Buffer, index: number, final: boolean): Buffer {
  const tail = Buffer.alloc(9);
  tail.writeBigUInt64BE(BigInt(index), 0);
  tail.writeUInt8(final ? 1 : 0, 8);
  return Buffer.concat([header, tail]);
}

/** Whether `file` starts like an earshot encrypted file. */
export async function isEncryptedFile(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(MAGIC.length);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return bytesRead === MAGIC.length && head.equals(MAGIC);
  } finally {
    await fh.close();
  }
}

async function readExactly(fh: FileHandle, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await fh.read(buf, filled, length - filled, null);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buf.subarray(0, filled);
}

/**
 * Writes `target` through a temporary file beside it, renamed into place only when `fill` succeeded:
 * a failure (or a crash) leaves `target` as it was, and the partial file is removed.
 */
export async function writeAtomically(
  target: string,
  fill: (out: FileHandle) => Promise<void>,
): Promise<void> {
  const tmp = `${target}.tmp-${randomBytes(6).toString('hex')}`;
  const out = await open(tmp, 'wx', 0o600);
  try {
    await fill(out);
    await out.sync();
    await out.close();
    await rename(tmp, target);
  } catch (err) {
    await out.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Encrypts `source` into `target` (replaced atomically); `onChunk` sees the plaintext on the way (to
 * hash it). Streams: memory stays at one chunk.
 */
export async function encryptFile(
  source: string,
  target: string,
  key: BackupKey,
  onChunk?: (plain: Buffer) => void,
): Promise<void> {
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt8(VERSION, MAGIC.length);
  Buffer.from(key.id, 'hex').copy(header, MAGIC.length + 1);
  randomBytes(16).copy(header, MAGIC.length + 9);
  header.writeUInt32BE(CHUNK_BYTES, MAGIC.length + 25);
  const input = await open(source, 'r');
  try {
    await writeAtomically(target, async (out) => {
      await out.write(header);
      // One chunk read ahead: a chunk is final when nothing follows it (an empty file is one empty
      // final chunk), so a cut after any full chunk is caught.
      let current = await readExactly(input, CHUNK_BYTES);
      for (let index = 0; ; index++) {
        const next = current.length === CHUNK_BYTES ? await readExactly(input, CHUNK_BYTES) : Buffer.alloc(0);
        const final = next.length === 0;
        onChunk?.(current);
        const nonce = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', key.bytes, nonce);
        cipher.setAAD(chunkAad(header, index, final));
        const body = Buffer.concat([cipher.update(current), cipher.final()]);
        const head = Buffer.alloc(CHUNK_HEAD_BYTES);
        nonce.copy(head, 0);
        head.writeUInt8(final ? 1 : 0, 12);
        head.writeUInt32BE(body.length, 13);
        await out.write(Buffer.concat([head, body, cipher.getAuthTag()]));
        if (final) break;
        current = next;
      }
    });
  } finally {
    await input.close();
  }
}

function damaged(file: string, what: string): UserError {
  return new UserError(`${file} is damaged or was changed: ${what}; nothing was written`, 422);
}

/**
 * Decrypts `source` into `target` (replaced atomically) after checking every chunk; `onChunk` sees the
 * plaintext as it is verified (to hash it on the way). Any mismatch throws and writes nothing.
 */
export async function decryptFile(
  source: string,
  target: string,
  key: BackupKey | null,
  onChunk?: (plain: Buffer) => void,
): Promise<void> {
  const input = await open(source, 'r');
  try {
    const header = await readExactly(input, HEADER_BYTES);
    if (header.length < HEADER_BYTES || !header.subarray(0, MAGIC.length).equals(MAGIC))
      throw new UserError(`${source} is not a file earshot encrypted`, 422);
    if (header.readUInt8(MAGIC.length) !== VERSION)
      throw new UserError(
        `${source} was encrypted by a newer earshot (format ${header.readUInt8(MAGIC.length)}); upgrade earshot`,
        422,
      );
    const fileKeyId = header.subarray(MAGIC.length + 1, MAGIC.length + 9).toString('hex');
    if (!key)
      throw new UserError(
        `${source} is encrypted (key id ${fileKeyId}): set EARSHOT_BACKUP_KEY to the key it was made with`,
        422,
      );
    if (fileKeyId !== key.id)
      throw new UserError(
        `${source} was encrypted with another key (key id ${fileKeyId}; EARSHOT_BACKUP_KEY is key id ${key.id}): wrong key`,
        422,
      );
    const chunkBytes = header.readUInt32BE(MAGIC.length + 25);
    await writeAtomically(target, async (out) => {
      for (let index = 0; ; index++) {
        const head = await readExactly(input, CHUNK_HEAD_BYTES);
        if (head.length < CHUNK_HEAD_BYTES) throw damaged(source, `it ends early, at chunk ${index}`);
        const flag = head.readUInt8(12);
        const length = head.readUInt32BE(13);
        if (flag > 1 || length > chunkBytes) throw damaged(source, `chunk ${index} has a bad header`);
        const body = await readExactly(input, length + TAG_BYTES);
        if (body.length < length + TAG_BYTES) throw damaged(source, `it ends early, inside chunk ${index}`);
        const decipher = createDecipheriv('aes-256-gcm', key.bytes, head.subarray(0, 12));
        decipher.setAAD(chunkAad(header, index, flag === 1));
        decipher.setAuthTag(body.subarray(length));
        let plain: Buffer;
        try {
          plain = Buffer.concat([decipher.update(body.subarray(0, length)), decipher.final()]);
        } catch {
          throw damaged(source, `chunk ${index} fails authentication`);
        }
        onChunk?.(plain);
        await out.write(plain);
        if (flag === 1) break;
      }
      if ((await readExactly(input, 1)).length > 0) throw damaged(source, 'bytes follow the final chunk');
    });
  } finally {
    await input.close();
  }
}

/** Copies `source` to `target` (replaced atomically), encrypted when a key is given. */
export async function copyOut(
  source: string,
  target: string,
  key: BackupKey | null,
  onChunk?: (plain: Buffer) => void,
): Promise<void> {
  if (key) return encryptFile(source, target, key, onChunk);
  const input = await open(source, 'r');
  try {
    await writeAtomically(target, async (out) => {
      for (let chunk = await readExactly(input, CHUNK_BYTES); chunk.length > 0; ) {
        onChunk?.(chunk);
        await out.write(chunk);
        chunk = await readExactly(input, CHUNK_BYTES);
      }
    });
  } finally {
    await input.close();
  }
}

/** The reverse of copyOut: decrypts when `source` is encrypted (then `key` must be its key). */
export async function copyIn(
  source: string,
  target: string,
  key: BackupKey | null,
  onChunk?: (plain: Buffer) => void,
): Promise<void> {
  if (await isEncryptedFile(source)) return decryptFile(source, target, key, onChunk);
  return copyOut(source, target, null, onChunk);
}
