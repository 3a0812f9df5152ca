/** The embedding pipeline: the embeddings topic, the three-encoding decoder, the configured sinks. */
import { EmbeddingBatch } from '../batching/embedding-batch.ts';
import type { Config } from '../config/schema.ts';
import type { PipelineSpec } from '../consumers/pipeline.ts';
import { type DecodedEmbeddings, decodeEmbeddingMessage } from '../contract/embedding-decoder.ts';
import type { Logger } from '../core/logger.ts';
import type { Sink } from '../core/sink.ts';
import { VectorDimension } from '../sinks/lancedb/embeddings-sink.ts';
import { EMBEDDING_SINK_FACTORIES } from '../sinks/registry.ts';

export type EmbeddingPipeline = PipelineSpec<EmbeddingBatch, DecodedEmbeddings>;

/** The configured embedding sinks, in the configured order. */
export function embeddingSinks(
  config: Config,
  logger: Logger,
  dimension: VectorDimension,
): Sink<EmbeddingBatch>[] {
  return config.embeddings.sinks.map((name) => EMBEDDING_SINK_FACTORIES[name]({ config, logger, dimension }));
}

/**
 * `sinks` replaces the LanceDB sink (tests); `dimension` must then be the one those sinks settle,
 * or be settled by the caller.
 */
export function embeddingPipeline(
  config: Config,
  logger: Logger,
  options: { sinks?: readonly Sink<EmbeddingBatch>[]; dimension?: VectorDimension } = {},
): EmbeddingPipeline {
  const dimension = options.dimension ?? new VectorDimension(config.embeddings.dim);
  return {
    topic: config.topics.embeddings,
    decode: (message) => decodeEmbeddingMessage(message, dimension.value),
    newPayload: () => new EmbeddingBatch(),
    sinks: options.sinks ?? embeddingSinks(config, logger, dimension),
  };
}
