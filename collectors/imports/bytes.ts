import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { type BufferFile, ImportError, type ImportFile } from './csv.js';

// Decided by magic bytes, not by the name: analysts rename downloads, and Slack's getFile answers
// with gzip whatever the name says.
export const isGzip = (b: Buffer) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
export const isZip = (b: Buffer) => b.length >= 4 && b.readUInt32LE(0) === 0x04034b50;

/**
 * The file's bytes as a stream: read from disk a piece at a time for a file on disk (an upload, a
 * CLI import), or cut in 64 KiB pieces from memory so a parser's backpressure holds (one write of a
 * whole buffer would queue every record at once).
 */
export function byteStream(file: ImportFile): Readable {
  if ('path' in file) return createReadStream(file.path);
  const { content } = file;
  return Readable.from(
    (function* () {
      for (let at = 0; at < content.length; at += 65_536) yield content.subarray(at, at + 65_536);
    })(),
  );
}

/** The first `size` bytes (fewer when the file is shorter), for telling formats apart. */
export async function headBytes(file: ImportFile, size: number): Promise<Buffer> {
  if (!('path' in file)) return file.content.subarray(0, size);
  const handle = await open(file.path, 'r');
  try {
    const buffer = Buffer.alloc(size);
    const { bytesRead } = await handle.read(buffer, 0, size, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The whole file in memory, for the formats that are not read in slices (see Importer.slices). */
export async function wholeFile(file: ImportFile): Promise<BufferFile> {
  if (!('path' in file)) return file;
  const { path: _, ...rest } = file;
  return { ...rest, content: await readFile(file.path) };
}

/** The plain bytes as a stream, gzip undone (told by its magic bytes) so every reader sees text. */
export async function plainStream(file: ImportFile): Promise<Readable> {
  const source = byteStream(file);
  if (!isGzip(await headBytes(file, 2))) return source;
  const gunzip = createGunzip();
  // The source's errors (a vanished file) surface where the reader awaits the gunzipped stream.
  source.on('error', (err) => gunzip.destroy(err));
  gunzip.on('error', () => source.destroy());
  return source.pipe(gunzip);
}

/** Rethrows a gunzip failure as the file's ImportError; anything else as it came. */
export function gzipError(file: ImportFile, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return code.startsWith('Z_')
    ? new ImportError(file.name, 1, null, `not a valid gzip file: ${(err as Error).message}`)
    : err;
}

/**
 * sha256 of the kind and the bytes, read as a stream: the same bytes imported as another kind are
 * another import (a file whose header fits two formats), and a one-day API report is that day's,
 * so the same bytes for another day are not a repeat either.
 */
export async function contentHash(kind: string, file: ImportFile): Promise<string> {
  const hash = createHash('sha256').update(`${kind}\0`);
  for await (const piece of byteStream(file)) hash.update(piece as Buffer);
  if (file.reportDay) hash.update(`\0${file.reportDay}`);
  return hash.digest('hex');
}
