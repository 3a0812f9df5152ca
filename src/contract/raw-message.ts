/** What a decoder sees of one Kafka message: its bytes and headers, no client library types. */
export interface RawMessage {
  readonly value: Buffer | null;
  readonly key: Buffer | null;
  /** The first value of a header as UTF-8 text, or undefined when absent. */
  header(name: string): string | undefined;
}

/** A RawMessage from plain values (tests, producers). */
export function rawMessage(
  value: Buffer | null,
  options: { key?: Buffer | string | null; headers?: Record<string, string> } = {},
): RawMessage {
  const key = options.key === undefined || options.key === null ? null : Buffer.from(options.key);
  const headers = options.headers ?? {};
  return { value, key, header: (name) => headers[name] };
}
