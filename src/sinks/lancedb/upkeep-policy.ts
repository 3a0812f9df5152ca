import type { DistanceType, LancedbOptions } from './options.ts';
import type { UpkeepPolicy } from './table-upkeep.ts';

/** The LanceDB table upkeep policy the options set (`distance`: the embeddings pipeline's). */
export function upkeepPolicy(options: LancedbOptions, distance: DistanceType): UpkeepPolicy {
  const { optimizeEveryWrites, versionRetentionMs, indexMinRows, indexType } = options;
  return { optimizeEveryWrites, versionRetentionMs, indexMinRows, indexType, distance };
}
