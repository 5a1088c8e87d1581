import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserError } from '../pipeline/errors.js';

/** The largest upload POST /api/import takes (what express.raw allowed before it was streamed). */
export const UPLOAD_LIMIT = 512 * 1024 * 1024;

/**
 * Where uploads are kept while they are imported: beside the database, on the disk the analyst gave
 * earshot (the system's temp folder may be memory), or the temp folder for an in-memory database.
 */
export function uploadFolder(databasePath: string): string {
  return databasePath === ':memory:' ? tmpdir() : dirname(resolve(databasePath));
}

export interface Upload {
  path: string;
  remove(): Promise<void>;
}

/**
 * Streams a request body into a new file only its owner can read (mode 0600; employee data), so a
 * large export is never held in memory. A body that does not arrive whole (the client went away,
 * over the limit) leaves no file behind.
 */
export async function saveUpload(body: Readable, folder: string, limit = UPLOAD_LIMIT): Promise<Upload> {
  const path = join(folder, `.earshot-upload-${randomBytes(12).toString('hex')}`);
  const remove = () => rm(path, { force: true });
  let size = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > limit)
        done(new UserError(`the upload is larger than the limit of ${limit / 2 ** 20} MB`, 413));
      else done(null, chunk);
    },
  });
  try {
    // 'wx': a new file, never one someone placed there (nor a link to one).
    await pipeline(body, counted, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
  } catch (err) {
    await remove();
    throw err;
  }
  return { path, remove };
}
