/**
 * Field readers shared by the JSON decoders: each throws DecodeError with the contract's code and
 * a message naming the field.
 */
import { isUtf8 } from 'node:buffer';
import { DeadLetterCode, DecodeError } from './errors.ts';

/** The media type of a `content-type` header value, lower-cased, without parameters. */
export function mediaType(contentType: string): string {
  return contentType.split(';')[0]?.trim().toLowerCase() ?? '';
}

export function parseBody(value: Buffer | null): Record<string, unknown> {
  if (value === null || value.length === 0)
    throw new DecodeError(DeadLetterCode.EMPTY_VALUE, 'message value is empty');
  if (!isUtf8(value)) throw new DecodeError(DeadLetterCode.INVALID_UTF8, 'message value is not valid UTF-8');
  let body: unknown;
  try {
    body = JSON.parse(value.toString('utf8'));
  } catch (error) {
    throw new DecodeError(
      DeadLetterCode.INVALID_JSON,
      `message value is not JSON: ${(error as Error).message}`,
    );
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new DecodeError(DeadLetterCode.NOT_AN_OBJECT, 'message value is not a JSON object');
  }
  return body as Record<string, unknown>;
}

/** A required string: absent, null or empty is MISSING_FIELD; another type INVALID_FIELD. */
export function requireString(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  if (value === undefined || value === null || value === '') throw missing(key);
  if (typeof value !== 'string') throw invalid(key, `must be a non-empty string, got ${preview(value)}`);
  return value;
}

export function optionalString(body: Record<string, unknown>, key: string): string | null {
  const value = body[key];
  if (value === undefined || value === null || value === '.') return null;
  if (typeof value !== 'string') throw invalid(key, `must be a string, got ${preview(value)}`);
  return value;
}

export function optionalNumber(body: Record<string, unknown>, key: string): number | null {
  const value = body[key];
  if (value === undefined || value === null || value === '.') return null;
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw invalid(key, `must be a number, got ${preview(value)}`);
  return value;
}

export function stringArray(value: unknown, key: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw invalid(key, `must be an array of strings, got ${preview(value)}`);
  }
  return value as string[];
}

export function missing(key: string): DecodeError {
  return new DecodeError(DeadLetterCode.MISSING_FIELD, `required field "${key}" is missing`);
}

export function invalid(key: string, reason: string): DecodeError {
  return new DecodeError(DeadLetterCode.INVALID_FIELD, `field "${key}" ${reason}`);
}

export function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
