/** The pipelines the configuration selects. */
import type { Config } from '../config/schema.ts';
import type { PipelineSpec } from '../consumers/pipeline-consumer.ts';
import type { Logger } from '../telemetry/logger.ts';
import { embeddingPipeline } from './embeddings.ts';
import { variantPipeline, variantSinks } from './variants.ts';

// biome-ignore lint/suspicious/noExplicitAny: pipelines of different payload types run side by side
export function configuredPipelines(config: Config, logger: Logger): PipelineSpec<any, any>[] {
  return config.pipelines.map((name) =>
    name === 'variants'
      ? variantPipeline(config, variantSinks(config, logger))
      : embeddingPipeline(config, logger),
  );
}
