/**
 * The sinks, by the names the configuration uses (`VARSTREAM_VARIANT_SINKS`,
 * `VARSTREAM_EMBEDDING_SINKS`). A pipeline builds its sinks from here only; a name that is not
 * here is refused at start by the configuration schema, whose name lists these records' keys must
 * match (a missing factory is a type error).
 *
 * Adding a sink: its folder under src/sinks/, one line here (and its name in the schema's list),
 * and a harness in test/integration/sink-conformance.test.ts, the suite every sink must pass.
 */
import type { EmbeddingBatch } from '../batching/embedding-batch.ts';
import type { VariantBatch } from '../batching/variant-batch.ts';
import type { Config, EmbeddingSinkName, VariantSinkName } from '../config/schema.ts';
import type { Logger } from '../core/logger.ts';
import type { Sink } from '../core/sink.ts';
import { KuzuGraphSink } from './kuzu/graph-sink.ts';
import { KuzuStore } from './kuzu/kuzu-store.ts';
import { LanceEmbeddingsSink, type VectorDimension } from './lancedb/embeddings-sink.ts';
import { upkeepPolicy } from './lancedb/upkeep-policy.ts';
import { LanceVariantsSink } from './lancedb/variants-sink.ts';

export interface SinkContext {
  config: Config;
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
      upkeep: upkeepPolicy(config),
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
      upkeep: upkeepPolicy(config),
      logger,
    }),
};
