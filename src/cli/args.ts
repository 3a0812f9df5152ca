/** Argument parsers of the CLI's options: a bad value is a usage error naming what is expected. */
import { InvalidArgumentError } from 'commander';
import { parseSourceOffset } from './dlq.ts';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

export function commaList(value: string): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (items.length === 0) throw new InvalidArgumentError('expected a comma-separated list');
  return items;
}

export function sourceOffsetArg(value: string): string {
  try {
    return parseSourceOffset(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected an integer >= 0');
  return n;
}
