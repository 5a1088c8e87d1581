/**
 * Password hashing (issue 6, part 4): scrypt from node:crypto, memory-hard so a stolen database is
 * slow to brute-force on GPUs. The stored string names its own parameters, so they can be raised
 * later without breaking hashes already stored.
 */
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';
import { UserError } from '../errors.js';

/**
 * 128 x 2^15 x 8 bytes = 32 MiB of memory per hash, about 0.1-0.2 s of CPU on a small server. OWASP's
 * equivalents at this N use p=3; raise P (or LOG_N) here when sign-in latency allows: stored hashes
 * keep their own parameters and still verify.
 */
const LOG_N = 15;
const R = 8;
const P = 1;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
/** Bounds on parameters read back from a stored hash: a tampered row must not exhaust memory. */
const MAX_LOG_N = 20;
const MAX_R = 32;
const MAX_P = 16;

export const MIN_PASSWORD = 12;
export const MAX_PASSWORD = 1024;

function derive(password: string, salt: Buffer, logN: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** logN;
  // scrypt needs 128 * N * r bytes; node's default cap (32 MiB) is exactly that at our defaults.
  const options: ScryptOptions = { N, r, p, maxmem: 256 * N * r };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, options, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');

/** Refuses what cannot be a password, naming the field. */
export function checkPassword(password: unknown): string {
  if (typeof password !== 'string' || password.length === 0) throw new UserError('password: give a password');
  if ([...password].length < MIN_PASSWORD)
    throw new UserError(`password: use at least ${MIN_PASSWORD} characters`);
  if (password.length > MAX_PASSWORD) throw new UserError(`password: use at most ${MAX_PASSWORD} characters`);
  return password;
}

/** `$scrypt$ln=15,r=8,p=1$<salt>$<key>`, base64 without padding; a new random salt every time. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, LOG_N, R, P);
  return `$scrypt$ln=${LOG_N},r=${R},p=${P}$${b64(salt)}$${b64(key)}`;
}

const FORMAT = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/** True when `password` matches `stored`; compares in constant time. A malformed hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = FORMAT.exec(stored);
  if (!m) return false;
  const [logN, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (logN < 1 || logN > MAX_LOG_N || r < 1 || r > MAX_R || p < 1 || p > MAX_P) return false;
  const salt = Buffer.from(m[4] ?? '', 'base64');
  const expected = Buffer.from(m[5] ?? '', 'base64');
  if (expected.length !== KEY_BYTES) return false;
  const key = await derive(password, salt, logN, r, p);
  return timingSafeEqual(key, expected);
}
