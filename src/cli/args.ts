import { InvalidArgumentError } from 'commander';

/** Commander argument parsers: a bad value becomes one clear usage line naming the flag. */
export function intArg(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (text: string): number => {
    if (!/^-?\d+$/.test(text.trim())) throw new InvalidArgumentError(`expected an integer, got "${text}"`);
    const value = Number(text);
    if (value < min || value > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}, got ${value}`);
    }
    return value;
  };
}

export function numberArg(min: number, max = Number.POSITIVE_INFINITY) {
  return (text: string): number => {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value)) {
      throw new InvalidArgumentError(`expected a number, got "${text}"`);
    }
    if (value < min || value > max) throw new InvalidArgumentError(`expected a number from ${min} to ${max}`);
    return value;
  };
}
