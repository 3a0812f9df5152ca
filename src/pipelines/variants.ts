/** The variant pipeline: the variants topic, the v1 JSON decoder, and the sinks configuration names. */
import { VariantBatch } from '../batching/variant-batch.ts';
import type { Config } from '../config/schema.ts';
import type { PipelineSpec } from '../consumers/pipeline-consumer.ts';
import type { VariantLimits } from '../contract/limits.ts';
import { type DecodedVariantMessage, decodeVariantMessage } from '../contract/variant-decoder.ts';
import type { Logger } from '../core/logger.ts';
import type { Sink } from '../core/sink.ts';
import { KuzuGraphSink } from '../sinks/kuzu/graph-sink.ts';
import { KuzuStore } from '../sinks/kuzu/kuzu-store.ts';
import { LanceVariantsSink } from '../sinks/lancedb/variants-sink.ts';
import { upkeepPolicy } from './upkeep.ts';

export type VariantPipeline = PipelineSpec<VariantBatch, DecodedVariantMessage>;

export function variantSinks(config: Config, logger: Logger): Sink<VariantBatch>[] {
  return config.variants.sinks.map((name) =>
    name === 'lancedb'
      ? new LanceVariantsSink({
          uri: config.lancedb.uri,
          table: config.lancedb.variantsTable,
          cache: config.lancedb,
          upkeep: upkeepPolicy(config),
          logger,
        })
      : new KuzuGraphSink(new KuzuStore(config.kuzu.path, config.kuzu.bufferPoolBytes), {
          // What the batches since the last checkpoint staged stays in the pool until it: an eighth.
          checkpointBytes: Math.max(4 * 1024 * 1024, Math.floor(config.kuzu.bufferPoolBytes / 8)),
        }),
  );
}

/** The per-message bounds of the configuration (README, "Bounded work per message"). */
export function variantLimits(config: Config): VariantLimits {
  const { maxAlts, maxPloidy, maxCalls, maxNameBytes, maxAlleleBytes, maxInfoBytes, maxInfoDepth } =
    config.variants;
  return { maxAlts, maxPloidy, maxCalls, maxNameBytes, maxAlleleBytes, maxInfoBytes, maxInfoDepth };
}

export function variantPipeline(config: Config, sinks: readonly Sink<VariantBatch>[]): VariantPipeline {
  const limits = variantLimits(config);
  return {
    topic: config.topics.variants,
    decode: (message) => decodeVariantMessage(message.value, message.header('content-type'), limits),
    newPayload: () => new VariantBatch(),
    sinks,
  };
}
