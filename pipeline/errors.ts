/** A bad setting: names the field and says how to fix it. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    message: string,
    readonly field?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A source answered with an error or could not be reached. `url` is redacted before it is shown. */
export class SourceError extends Error {
  override name = 'SourceError';
  constructor(
    message: string,
    readonly status: number | null,
    readonly url: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The source refused more calls until `resumeAt`; the partition resumes from its bookmark then. */
export class RateLimitedError extends Error {
  override name = 'RateLimitedError';
  constructor(
    message: string,
    readonly resumeAt: Date,
  ) {
    super(message);
  }
}

/** Something the user asked for cannot be done as asked; carries the HTTP status the API answers with. */
export class UserError extends Error {
  override name = 'UserError';
  constructor(
    message: string,
    readonly status = 400,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
