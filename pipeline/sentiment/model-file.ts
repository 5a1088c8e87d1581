import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { z } from 'zod';
import { UserError } from '../errors.js';

/**
 * A sentiment model file (data/models/sentiment-<lang>.bin), little-endian:
 *   "ESNT" | u32 format | u32 header length | header JSON (UTF-8) | int8 weights | u32 CRC-32 of all before
 * Weights are 2^bits hash buckets x 3 classes (negative, neutral, positive), bucket-major; class k's
 * weight is int8 * scales[k]. The header carries the lexicon, so scoring needs nothing else.
 */
const MAGIC = 'ESNT';
const FORMAT = 1;
export const CLASSES = 3;

const headerSchema = z.object({
  id: z.string().min(1),
  version: z.number().int().positive(),
  lang: z.enum(['en', 'ko']),
  bits: z.number().int().min(8).max(24),
  /** How the text was turned into features; scoring must use the same. */
  scheme: z.object({
    charMin: z.number().int().min(1).max(7),
    charMax: z.number().int().min(1).max(7),
    charSpaces: z.boolean(),
    lexiconMatch: z.enum(['token', 'substring']),
  }),
  scales: z.array(z.number().positive()).length(CLASSES),
  bias: z.array(z.number()).length(CLASSES),
  lexicon: z.record(z.string(), z.number()),
  /** Word -> valence (English: VADER's lexicon), the scanner's second lexicon feature. */
  valences: z.record(z.string(), z.number()).optional(),
  /** What the weights were trained on and how they scored on the dev splits (for humans). */
  trained: z.record(z.string(), z.unknown()).optional(),
});
export type ModelHeader = z.infer<typeof headerSchema>;

export interface ModelFile {
  header: ModelHeader;
  weights: Int8Array;
}

export function encodeModel(model: ModelFile): Buffer {
  const header = Buffer.from(JSON.stringify(model.header), 'utf8');
  const body = Buffer.alloc(12 + header.length + model.weights.length + 4);
  body.write(MAGIC, 0, 'latin1');
  body.writeUInt32LE(FORMAT, 4);
  body.writeUInt32LE(header.length, 8);
  header.copy(body, 12);
  Buffer.from(model.weights.buffer, model.weights.byteOffset, model.weights.length).copy(
    body,
    12 + header.length,
  );
  body.writeUInt32LE(crc32(body.subarray(0, body.length - 4)), body.length - 4);
  return body;
}

function failure(path: string, what: string, cause?: unknown): UserError {
  return new UserError(
    `sentiment model ${path}: ${what} (rebuild it with \`npm run train:sentiment\` or restore it from the repository)`,
    500,
    cause === undefined ? undefined : { cause },
  );
}

/** Reads and checks a model file; every failure is a UserError naming the file and what is wrong. */
export function readModel(path: string): ModelFile {
  let body: Buffer;
  try {
    body = readFileSync(path);
  } catch (err) {
    throw failure(path, `cannot read it: ${(err as Error).message}`, err);
  }
  return decodeModel(body, path);
}

/** Checks and decodes a model file's bytes; `path` names it in errors. */
export function decodeModel(body: Buffer, path: string): ModelFile {
  const fail = (what: string, cause?: unknown): never => {
    throw failure(path, what, cause);
  };
  if (body.length < 16 || body.toString('latin1', 0, 4) !== MAGIC) return fail('not a sentiment model file');
  if (body.readUInt32LE(4) !== FORMAT) return fail(`unsupported format ${body.readUInt32LE(4)}`);
  const headerLength = body.readUInt32LE(8);
  if (12 + headerLength + 4 > body.length) return fail('truncated (header)');
  if (crc32(body.subarray(0, body.length - 4)) !== body.readUInt32LE(body.length - 4))
    return fail('corrupt or truncated (checksum mismatch)');
  let header: ModelHeader;
  try {
    header = headerSchema.parse(JSON.parse(body.toString('utf8', 12, 12 + headerLength)));
  } catch (err) {
    return fail(`bad header: ${(err as Error).message}`, err);
  }
  const expected = CLASSES << header.bits;
  const start = 12 + headerLength;
  if (body.length - 4 - start !== expected)
    return fail(`expected ${expected} weights, found ${body.length - 4 - start}`);
  const weights = new Int8Array(expected);
  weights.set(new Int8Array(body.buffer, body.byteOffset + start, expected));
  return { header, weights };
}
