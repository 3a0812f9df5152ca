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
  /** Skip the first N records of the file (to resume an interrupted publish: see `resume`). */
  skipRecords?: number;
  /** Stops the publish after what is queued is acknowledged (Ctrl-C); the result says how far it got. */
  signal?: AbortSignal;
}

/**
 * How far a publish got: every record up to the `records`-th of the file (counting from its
 * start, skipped ones included) is on the topic, the last at `site`. `--skip records` resumes.
 */
export interface PublishPosition {
  records: number;
  site?: string;
}

/** A publish that failed part way; `position` says what is on the topic. */
export class PublishFailedError extends Error {
  constructor(
    message: string,
    readonly position: PublishPosition,
    options: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'PublishFailedError';
  }
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
  /** True when `signal` stopped it before the end of the file. */
  interrupted: boolean;
  position: PublishPosition;
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
  const skipRecords = options.skipRecords ?? 0;
  // Queued (not yet acknowledged) messages: the record count and site of each, oldest first. The
  // publisher sends in order with one request in flight, so the first `published` are on the topic.
  const queued: { records: number; site: string }[] = [];
  let acknowledged = 0;
  const position: PublishPosition = { records: skipRecords };
  const settle = () => {
    while (acknowledged < publisher.published) {
      const done = queued.shift();
      if (!done) break;
      acknowledged++;
      position.records = done.records;
      position.site = done.site;
    }
  };
  let interrupted = false;
  try {
    for await (const record of reader) {
      if (reader.recordsRead <= skipRecords) continue;
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
      let message: ReturnType<typeof toVariantMessage>;
      try {
        message = toVariantMessage(record, reader.header, source);
      } catch (error) {
        if (options.strict) throw new Error(`${path}:${reader.lineNumber}: ${(error as Error).message}`);
        skip(reader.lineNumber, (error as Error).message);
        continue;
      }
      // With telemetry started, each message carries its `create` span's context in `traceparent`.
      queued.push({ records: reader.recordsRead, site: `${message.chrom}:${message.pos}` });
      await publisher.publish({
        key: messageKey(message),
        value: JSON.stringify(message),
        headers: traceOutgoingMessage(options.topic, headers),
      });
      settle();
      options.onProgress?.(reader.recordsRead, reader.fileSize > 0 ? reader.bytesRead / reader.fileSize : 0);
    }
    await publisher.flush();
    settle();
  } catch (error) {
    settle();
    const message = (error as Error).message ?? String(error);
    throw new PublishFailedError(message.startsWith(path) ? message : `${path}: ${message}`, position, {
      cause: error,
    });
  } finally {
    reader.close();
    await publisher.close().catch(() => undefined);
  }
  if (!interrupted && queued.length === 0) position.records = reader.recordsRead;
  return {
    records: publisher.published,
    bytes: publisher.bytes,
    seconds: (performance.now() - started) / 1000,
    samples: reader.header.samples.length,
    skipped,
    firstSkipped,
    interrupted,
    position,
  };
}

/** `N records are on the topic (last CHROM:POS); resume with --skip N`. */
export function describePosition(position: PublishPosition): string {
  const n = position.records.toLocaleString('en-US');
  return `the first ${n} records of the file are on the topic${position.site ? ` (the last at ${position.site})` : ''}; resume with --skip ${position.records}`;
}
