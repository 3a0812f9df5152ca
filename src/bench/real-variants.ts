/**
 * Variant messages from the real VCFs of `../shared/data/vcf/` (SOURCES.md there; VARSTREAM_SHARED_DIR
 * moves `../shared`), or of the vendored `fixtures/vcf/` when that corpus is absent, replayed in a
 * cycle: pass `c` adds `c * POS_SHIFT` to every position, so each message of the cycle is a new
 * site with a new variant id while its content (alleles, INFO, samples) stays the real record's.
 */
import { createReadStream, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { Kafka } from 'kafkajs';
import { TopicPublisher } from '../consumers/publisher.ts';
import { VARIANT_CONTENT_TYPE } from '../contract/variant-message.ts';
import type { OutgoingMessage } from '../core/publisher.ts';
import { FIXTURE_VCF, SHARED_VCF, sharedCorpusPresent } from '../producer/shared-data.ts';
import { messageKey, toVariantMessage } from '../producer/vcf-message.ts';
import { openVcf } from '../producer/vcf-reader.ts';

/** Larger than any chromosome, so shifted positions of different passes never meet. */
const POS_SHIFT = 1_000_000_000;

/** The corpus the variant scenarios replay, and a sentence saying which (printed and kept in the JSON). */
export function variantCorpus(): { dir: string; note: string } {
  if (sharedCorpusPresent()) return { dir: SHARED_VCF, note: `the shared corpus at ${SHARED_VCF}` };
  return {
    dir: FIXTURE_VCF,
    note: `the vendored fixtures at ${FIXTURE_VCF}: no shared corpus at ${SHARED_VCF} (clone beside ../shared or set VARSTREAM_SHARED_DIR for the larger one)`,
  };
}

export function realVcfFiles(dir = variantCorpus().dir): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw new Error(`no VCF directory at ${dir}: clone beside ../shared or set VARSTREAM_SHARED_DIR`);
  }
  const files = names.filter((n) => /\.vcf(\.gz)?$/.test(n)).sort();
  if (files.length === 0) throw new Error(`no .vcf or .vcf.gz files in ${dir}`);
  return files.map((n) => join(dir, n));
}

/**
 * An endless cycle of messages over `files`. Within a pass the files are interleaved in proportion
 * to their record counts, so any prefix of the cycle has the mix of the whole set (a 2,504-sample
 * file does not come first and dominate a small backlog).
 */
export async function* realVariantMessages(files = realVcfFiles()): AsyncGenerator<OutgoingMessage> {
  const headers = { 'content-type': VARIANT_CONTENT_TYPE };
  const counts = await Promise.all(files.map(countRecords));
  for (let pass = 0; ; pass++) {
    const sources = await Promise.all(
      files.map(async (path, i) => {
        const reader = await openVcf(path);
        return {
          name: basename(path),
          reader,
          records: reader[Symbol.asyncIterator](),
          count: counts[i] ?? 0,
          read: 0,
        };
      }),
    );
    try {
      for (;;) {
        let next: (typeof sources)[number] | undefined;
        for (const s of sources)
          if (s.read < s.count && (!next || s.read / s.count < next.read / next.count)) next = s;
        if (!next) break;
        const record = await next.records.next();
        if (record.done) {
          next.count = next.read; // fewer records than lines counted: this file is done
          continue;
        }
        next.read++;
        const message = toVariantMessage(record.value, next.reader.header, next.name);
        if (message.pos > 0) message.pos += pass * POS_SHIFT;
        yield { key: messageKey(message), value: JSON.stringify(message), headers };
      }
    } finally {
      for (const s of sources) s.reader.close();
    }
  }
}

/** Data lines (not starting with `#`) of a plain or gzip/bgzip VCF. */
async function countRecords(path: string): Promise<number> {
  const raw = createReadStream(path);
  const text = path.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  let records = 0;
  for await (const line of createInterface({ input: text, crlfDelay: Number.POSITIVE_INFINITY }))
    if (line.length > 0 && line.charCodeAt(0) !== 35) records++;
  return records;
}

/** Publishes the next `count` messages of `source` (by default a new cycle) to `topic`. */
export async function produceRealVariants(
  kafka: Kafka,
  topic: string,
  count: number,
  source: AsyncIterator<OutgoingMessage> | Iterator<OutgoingMessage> = realVariantMessages(),
): Promise<{ messages: number; bytes: number }> {
  const publisher = new TopicPublisher(kafka, topic);
  await publisher.connect();
  try {
    for (let n = 0; n < count; n++) {
      const next = await source.next();
      if (next.done) break;
      await publisher.publish(next.value);
    }
    await publisher.flush();
  } finally {
    await publisher.close();
  }
  return { messages: publisher.published, bytes: publisher.bytes };
}
