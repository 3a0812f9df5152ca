/**
 * The sinks, by the names the configuration uses (`VARSTREAM_VARIANT_SINKS`,
 * `VARSTREAM_EMBEDDING_SINKS`). A pipeline builds its sinks from here only; a name that is not in
 * names.ts is refused at start by the configuration schema, and every name there needs a factory
 * here (a missing one is a type error).
 *
 * Adding a sink: its folder under src/sinks/ (the sink, and its options.ts if it has settings,
 * included by config/schema.ts), its name in names.ts, one line here, and a harness in
 * test/helpers/sink-harnesses.ts: the conformance suite every sink must pass.
 */
import type { EmbeddingBatch } from '../batching/embedding-batch.ts';
import type { VariantBatch } from '../batching/variant-batch.ts';
import type { Logger } from '../core/logger.ts';
import type { Sink } from '../core/sink.ts';
import { KuzuGraphSink } from './kuzu/graph-sink.ts';
import { KuzuStore } from './kuzu/kuzu-store.ts';
import type { KuzuOptions } from './kuzu/options.ts';
import { LanceEmbeddingsSink, type VectorDimension } from './lancedb/embeddings-sink.ts';
import type { DistanceType, LancedbOptions } from './lancedb/options.ts';
import { upkeepPolicy } from './lancedb/upkeep-policy.ts';
import { LanceVariantsSink } from './lancedb/variants-sink.ts';
import type { EmbeddingSinkName, VariantSinkName } from './names.ts';

/** The options the sinks read: each sink's own section, and the embeddings' distance. */
export interface SinkOptions {
  readonly lancedb: LancedbOptions;
  readonly kuzu: KuzuOptions;
  readonly embeddings: { readonly distance: DistanceType };
}

export interface SinkContext {
  /** The whole configuration fits (config/schema.ts includes each sink's options). */
  config: SinkOptions;
  logger: Logger;
}

export const VARIANT_SINK_FACTORIES: Readonly<
  Record<VariantSinkName, (context: SinkContext) => Sink<VariantBatch>>
> = {
  lancedb: ({ config, logger }) =>
    new LanceVariantsSink({
      uri: config.lancedb.uri,
      table: config.lancedb.variantsTable,
      cache: config.lancedb,
      upkeep: upkeepPolicy(config.lancedb, config.embeddings.distance),
      logger,
    }),
  kuzu: ({ config }) =>
    new KuzuGraphSink(new KuzuStore(config.kuzu.path, config.kuzu.bufferPoolBytes), {
      // What the batches since the last checkpoint staged stays in the pool until it: an eighth.
      checkpointBytes: Math.max(4 * 1024 * 1024, Math.floor(config.kuzu.bufferPoolBytes / 8)),
    }),
};

export const EMBEDDING_SINK_FACTORIES: Readonly<
  Record<EmbeddingSinkName, (context: SinkContext & { dimension: VectorDimension }) => Sink<EmbeddingBatch>>
> = {
  lancedb: ({ config, logger, dimension }) =>
    new LanceEmbeddingsSink({
      uri: config.lancedb.uri,
      table: config.lancedb.embeddingsTable,
      cache: config.lancedb,
      dimension,
      upkeep: upkeepPolicy(config.lancedb, config.embeddings.distance),
      logger,
    }),
};
