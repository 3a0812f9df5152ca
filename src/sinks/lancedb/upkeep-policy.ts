import type { Config } from '../../config/schema.ts';
import type { UpkeepPolicy } from './table-upkeep.ts';

/** The LanceDB table upkeep policy the configuration sets. */
export function upkeepPolicy(config: Config): UpkeepPolicy {
  const { optimizeEveryWrites, versionRetentionMs, indexMinRows, indexType } = config.lancedb;
  return {
    optimizeEveryWrites,
    versionRetentionMs,
    indexMinRows,
    indexType,
    distance: config.embeddings.distance,
  };
}
