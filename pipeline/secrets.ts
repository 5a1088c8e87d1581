import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { ConfigError } from './errors.js';

/**
 * A secret value (token, password, webhook URL). It prints as a placeholder everywhere
 * (logs, JSON, errors); only `reveal()` gives the value, at the moment it is sent.
 */
export class Secret {
  readonly #value: string;
  constructor(
    readonly name: string,
    value: string,
  ) {
    this.#value = value;
    knownSecretValues.add(value);
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return `[secret ${this.name}]`;
  }
  toJSON(): string {
    return this.toString();
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/**
 * Shortest value taken as a credential: a shorter one would be redacted inside ordinary words (and
 * JSON punctuation) of every log line and stored error.
 */
export const MIN_SECRET_LENGTH = 6;

/**
 * A token a server issues (OAuth access token, session JWT), as its answer is validated: it becomes
 * a Secret, so a value too short to be real is refused rather than redacted all over the logs.
 */
export const issuedToken = z.string().min(MIN_SECRET_LENGTH);

const knownSecretValues = new Set<string>();
const REDACTED = '[redacted]';

/** Replaces every known secret value in `text`; applied to log lines, stored errors and API errors. */
export function redact(text: string): string {
  let out = text;
  for (const value of knownSecretValues) {
    // Very short values would redact ordinary words; such secrets and tokens are refused (MIN_SECRET_LENGTH).
    if (out.includes(value)) out = out.split(value).join(REDACTED);
    const encoded = encodeURIComponent(value);
    if (encoded !== value && out.includes(encoded)) out = out.split(encoded).join(REDACTED);
  }
  return out;
}

/** Names -> values: the secrets file (dotenv syntax) under the process environment, which wins. */
export class SecretSource {
  readonly #file: Record<string, string>;
  constructor(
    readonly env: NodeJS.ProcessEnv,
    readonly filePath: string | undefined,
  ) {
    this.#file = {};
    if (filePath) {
      let text: string;
      try {
        text = readFileSync(filePath, 'utf8');
      } catch (err) {
        throw new ConfigError(
          `cannot read the secrets file ${filePath} (EARSHOT_SECRETS): ${(err as Error).message}`,
          'EARSHOT_SECRETS',
        );
      }
      this.#file = parseEnv(text) as Record<string, string>;
    }
  }

  /** The secret called `name`, or a ConfigError naming the field that references it. */
  get(name: string, field: string): Secret {
    const value = this.env[name] ?? this.#file[name];
    if (value === undefined || value === '') {
      throw new ConfigError(
        `${field}: secret ${name} is not set; export ${name}=... or put it in the secrets file (EARSHOT_SECRETS)`,
        field,
      );
    }
    if (value.length < MIN_SECRET_LENGTH) {
      throw new ConfigError(`${field}: secret ${name} is too short to be a real credential`, field);
    }
    return new Secret(name, value);
  }

  has(name: string): boolean {
    return Boolean(this.env[name] ?? this.#file[name]);
  }
}

/** A config field that holds a credential: only `{secret: NAME}` is accepted, never the value itself. */
export const secretRef = z.custom<Secret>((v) => v instanceof Secret, {
  message: 'must reference a secret by name, like {secret: MY_TOKEN}; never put the value in the config file',
});
