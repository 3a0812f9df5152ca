/**
 * Publishes synthetic embeddings in one of the three encodings. With `variants`, each embedding
 * describes one variant already in the store (id and source_id = its variant id, clustered by
 * gene) so the two pipelines join in `query similar`.
 */
import type { PublisherPort } from '../core/publisher.ts';
import { traceOutgoingMessage } from '../telemetry/tracing.ts';
import {
  type EmbeddingEncoding,
  type EncodedMessage,
  encodeArrow,
  encodeFloat32,
  encodeJson,
} from './embedding-encoding.ts';
import { clusterOf, EmbeddingGenerator } from './synthetic-embeddings.ts';

export interface VariantRef {
  variantId: string;
  gene: string | null;
}

export interface ProduceEmbeddingsOptions {
  topic: string;
  count: number;
  dim: number;
  encoding: EmbeddingEncoding;
  /** Embeddings per Arrow message (arrow only); default: as many as fit in 4 MiB. */
  batch?: number;
  seed?: number;
  model?: string;
  /** Embeddings of these variants instead of free-standing ones (at most `count`). */
  variants?: readonly VariantRef[];
  onProgress?(embeddings: number, fraction: number): void;
}

export interface ProduceEmbeddingsResult {
  embeddings: number;
  messages: number;
  bytes: number;
  seconds: number;
}

export const ARROW_MESSAGE_TARGET_BYTES = 4 * 1024 * 1024;

export function defaultArrowBatch(dim: number): number {
  return Math.max(1, Math.floor(ARROW_MESSAGE_TARGET_BYTES / (dim * 4 + 32)));
}

export async function produceEmbeddings(
  publishers: PublisherPort,
  options: ProduceEmbeddingsOptions,
): Promise<ProduceEmbeddingsResult> {
  const started = performance.now();
  const { dim, encoding } = options;
  const total = options.variants ? Math.min(options.count, options.variants.length) : options.count;
  const generator = new EmbeddingGenerator({ dim, seed: options.seed ?? 42 });
  const model = options.model ?? 'varstream-synthetic-v1';
  const perMessage = encoding === 'arrow' ? (options.batch ?? defaultArrowBatch(dim)) : 1;
  const publisher = publishers.publisher(options.topic, { chunkBytes: 1024 * 1024 });
  const vectors = new Float32Array(perMessage * dim);
  await publisher.connect();
  let produced = 0;
  try {
    while (produced < total) {
      const n = Math.min(perMessage, total - produced);
      const ids: string[] = [];
      const sourceIds: (string | null)[] = [];
      const texts: (string | null)[] = [];
      const clusters: number[] = [];
      for (let r = 0; r < n; r++) {
        const i = produced + r;
        const variant = options.variants?.[i];
        const cluster = variant
          ? clusterOf(variant.gene ?? variant.variantId, generator.clusters)
          : i % generator.clusters;
        generator.next(vectors.subarray(r * dim, (r + 1) * dim), cluster);
        ids.push(variant ? variant.variantId : `emb-${String(i).padStart(9, '0')}`);
        sourceIds.push(variant ? variant.variantId : null);
        texts.push(
          variant
            ? `variant ${variant.variantId}${variant.gene ? ` in ${variant.gene}` : ''}`
            : `synthetic text ${i}`,
        );
        clusters.push(cluster);
      }
      const sourceKind = options.variants ? 'variant' : 'text';
      const messages: EncodedMessage[] =
        encoding === 'arrow'
          ? [
              encodeArrow(ids, vectors, dim, {
                model: ids.map(() => model),
                sourceKind: ids.map(() => sourceKind),
                sourceId: sourceIds,
                text: texts,
              }),
            ]
          : ids.map((id, r) => {
              const row = {
                id,
                vector: vectors.subarray(r * dim, (r + 1) * dim),
                model,
                sourceKind,
                sourceId: sourceIds[r] ?? null,
                text: texts[r] ?? null,
                metadata: { cluster: clusters[r] },
              };
              return encoding === 'json' ? encodeJson(row) : encodeFloat32(row);
            });
      // With telemetry started, each message carries its `create` span's context in `traceparent`.
      for (const m of messages)
        await publisher.publish({ ...m, headers: traceOutgoingMessage(options.topic, m.headers) });
      produced += n;
      options.onProgress?.(produced, produced / total);
    }
    await publisher.flush();
  } finally {
    await publisher.close();
  }
  return {
    embeddings: produced,
    messages: publisher.published,
    bytes: publisher.bytes,
    seconds: (performance.now() - started) / 1000,
  };
}
