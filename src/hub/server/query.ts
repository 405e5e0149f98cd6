import type { z } from 'zod';
import { TgError } from '../../errors/index.ts';

/** Validates a request's query string; a failure is a 400 naming each bad parameter and why. */
export function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.output<S> {
  const result = schema.safeParse(query ?? {});
  if (result.success) return result.data;
  const reasons = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys')
      return `unknown parameter ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    const name = issue.path.join('.') || 'query';
    return `"${name}": ${issue.message.replace(/^Invalid input: /, '')}`;
  });
  throw new TgError('INPUT_INVALID', `bad query: ${reasons.join('; ')}`);
}
