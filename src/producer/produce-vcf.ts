/** Publishes every record of a VCF file as one v1 variant message, keyed by its site. */
import { basename } from 'node:path';
import type { Kafka } from 'kafkajs';
import { TopicPublisher } from '../consumers/publisher.ts';
import { VARIANT_CONTENT_TYPE } from '../contract/variant-message.ts';
import { traceOutgoingMessage } from '../telemetry/tracing.ts';
import { messageKey, toVariantMessage } from './vcf-message.ts';
import { openVcf } from './vcf-reader.ts';

export interface ProduceVcfOptions {
  topic: string;
  /** The `source` field of every message; defaults to the file's name. */
  source?: string;
  onProgress?(records: number, fraction: number): void;
}

export interface ProduceVcfResult {
  records: number;
  bytes: number;
  seconds: number;
  samples: number;
}

export async function produceVcf(
  kafka: Kafka,
  path: string,
  options: ProduceVcfOptions,
): Promise<ProduceVcfResult> {
  const started = performance.now();
  const reader = await openVcf(path);
  const publisher = new TopicPublisher(kafka, options.topic);
  const source = options.source ?? basename(path);
  const headers = { 'content-type': VARIANT_CONTENT_TYPE };
  await publisher.connect();
  try {
    for await (const record of reader) {
      const message = toVariantMessage(record, reader.header, source);
      // With telemetry started, each message carries its `create` span's context in `traceparent`.
      await publisher.publish({
        key: messageKey(message),
        value: JSON.stringify(message),
        headers: traceOutgoingMessage(options.topic, headers),
      });
      options.onProgress?.(reader.recordsRead, reader.fileSize > 0 ? reader.bytesRead / reader.fileSize : 0);
    }
    await publisher.flush();
  } finally {
    reader.close();
    await publisher.close();
  }
  return {
    records: publisher.published,
    bytes: publisher.bytes,
    seconds: (performance.now() - started) / 1000,
    samples: reader.header.samples.length,
  };
}
