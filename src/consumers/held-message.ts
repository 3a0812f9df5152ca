/**
 * What a pipeline keeps of a fetched message until its batch is written, and how many bytes that
 * is.
 *
 * kafkajs hands out a message's key, value and header values as views of the whole fetch response
 * they came in (`Buffer.slice`, up to `kafka.fetchMaxBytes`, 8 MiB at 1Gi). Kept as they are, one
 * held message keeps its whole response alive: a batch that holds the last messages of one
 * partition pins the other partitions' messages of every response they came in, and the byte
 * accounting (key + value + headers) understates what is held, by up to the response's size per
 * message. So a held message gets its own copy of each: the responses are garbage as soon as their
 * messages are accepted, and what the pipeline counts is what it holds.
 */
import type { IHeaders, KafkaMessage } from 'kafkajs';
import type { HeldMessage } from '../core/messages.ts';

/** The message as the pipeline holds it (its own copies of key, value and headers) and its bytes. */
export function holdMessage(partition: number, message: KafkaMessage): { held: HeldMessage; bytes: number } {
  const held: HeldMessage = {
    partition,
    offset: Number(message.offset),
    timestamp: message.timestamp,
    key: ownCopy(message.key),
    value: ownCopy(message.value),
    headers: copyHeaders(message.headers),
  };
  return { held, bytes: heldBytes(held) };
}

/** Key + value + header names and values: what the pipeline's byte budget counts for a message. */
export function heldBytes(message: Pick<HeldMessage, 'key' | 'value' | 'headers'>): number {
  let bytes = (message.value?.length ?? 0) + (message.key?.length ?? 0);
  for (const [name, value] of Object.entries(message.headers)) {
    bytes +=
      name.length + (Array.isArray(value) ? value.reduce((n, v) => n + v.length, 0) : (value?.length ?? 0));
  }
  return bytes;
}

// Buffer.from(buffer) copies; copies under 4 KiB come from Node's 8 KiB pool slabs, which the
// messages of one batch share and release together.
function ownCopy(buffer: Buffer | null | undefined): Buffer | null {
  return buffer ? Buffer.from(buffer) : null;
}

function copyHeaders(headers: IHeaders | undefined): IHeaders {
  const out: IHeaders = {};
  for (const [name, value] of Object.entries(headers ?? {}))
    out[name] = Array.isArray(value) ? value.map(copyHeaderValue) : copyHeaderValue(value);
  return out;
}

function copyHeaderValue<V extends Buffer | string | undefined>(value: V): V {
  return (Buffer.isBuffer(value) ? Buffer.from(value) : value) as V;
}
