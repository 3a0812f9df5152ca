/** The variant pipeline: the variants topic, the v1 JSON decoder, and the sinks configuration names. */
import { VariantBatch } from '../batching/variant-batch.ts';
import type { Config } from '../config/schema.ts';
import type { PipelineSpec } from '../consumers/pipeline.ts';
import type { VariantLimits } from '../contract/limits.ts';
import { type DecodedVariantMessage, decodeVariantMessage } from '../contract/variant-decoder.ts';
import type { Logger } from '../core/logger.ts';
import type { Sink } from '../core/sink.ts';
import { VARIANT_SINK_FACTORIES } from '../sinks/registry.ts';

export type VariantPipeline = PipelineSpec<VariantBatch, DecodedVariantMessage>;

/** The configured variant sinks, in the configured order. */
export function variantSinks(config: Config, logger: Logger): Sink<VariantBatch>[] {
  return config.variants.sinks.map((name) => VARIANT_SINK_FACTORIES[name]({ config, logger }));
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
