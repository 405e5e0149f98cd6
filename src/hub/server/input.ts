import type { z } from 'zod';
import { TgError } from '../../errors/index.ts';

/**
 * Validates a JSON body or path parameters; a failure is a 400 naming each bad field and why (`what` names
 * the whole input when the problem is not one field).
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const reasons = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys')
      return `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    return `"${issue.path.join('.') || what}": ${issue.message.replace(/^Invalid input: /, '')}`;
  });
  throw new TgError('INPUT_INVALID', `bad ${what}: ${reasons.join('; ')}`);
}
