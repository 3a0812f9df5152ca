/** Publishes every record of a VCF file as one v1 variant message, keyed by its site. */
import { basename } from 'node:path';
import { VARIANT_CONTENT_TYPE } from '../contract/variant-message.ts';
import type { PublisherPort } from '../core/publisher.ts';
import { traceOutgoingMessage } from '../telemetry/tracing.ts';
import { messageKey, toVariantMessage } from './vcf-message.ts';
import { openVcf } from './vcf-reader.ts';

export interface ProduceVcfOptions {
  topic: string;
  /** The `source` field of every message; defaults to the file's name. */
  source?: string;
  /** Abort at the first record that cannot become a message (default: report it, skip it, go on). */
  strict?: boolean;
  onProgress?(records: number, fraction: number): void;
  /** Each record skipped (not strict): where it is and what is wrong. */
  onSkip?(skipped: SkippedRecord): void;
}

export interface SkippedRecord {
  path: string;
  line: number;
  reason: string;
}

export interface ProduceVcfResult {
  /** Messages published. */
  records: number;
  bytes: number;
  seconds: number;
  samples: number;
  /** Records that could not become a message, and the first ten of them. */
  skipped: number;
  firstSkipped: SkippedRecord[];
}

export async function produceVcf(
  publishers: PublisherPort,
  path: string,
  options: ProduceVcfOptions,
): Promise<ProduceVcfResult> {
  const started = performance.now();
  const firstSkipped: SkippedRecord[] = [];
  let skipped = 0;
  const skip = (line: number, reason: string) => {
    const record = { path, line, reason };
    skipped++;
    if (firstSkipped.length < 10) firstSkipped.push(record);
    options.onSkip?.(record);
  };
  const reader = await openVcf(path, {
    onBadRecord: options.strict
      ? undefined
      : (error) => skip(error.lineNumber, error.message.slice(error.message.indexOf(': ') + 2)),
  });
  const publisher = publishers.publisher(options.topic);
  const source = options.source ?? basename(path);
  const headers = { 'content-type': VARIANT_CONTENT_TYPE };
  await publisher.connect();
  try {
    for await (const record of reader) {
      let message: ReturnType<typeof toVariantMessage>;
      try {
        message = toVariantMessage(record, reader.header, source);
      } catch (error) {
        if (options.strict) throw new Error(`${path}:${reader.lineNumber}: ${(error as Error).message}`);
        skip(reader.lineNumber, (error as Error).message);
        continue;
      }
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
    skipped,
    firstSkipped,
  };
}
