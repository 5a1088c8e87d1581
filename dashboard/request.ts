import type { z } from 'zod';
import { UserError } from '../pipeline/errors.js';

/** A request body or query checked against its schema: a 400 naming the first bad field, or the data. */
export function parseRequest<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const parsed = schema.safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`${issue?.path.join('.') || 'request'}: ${issue?.message ?? 'is not valid'}`, 400);
  }
  return parsed.data;
}
