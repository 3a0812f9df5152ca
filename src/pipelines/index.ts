/** The pipelines the configuration selects. */
import type { Config } from '../config/schema.ts';
import type { PipelineSpec } from '../consumers/pipeline.ts';
import type { Logger } from '../core/logger.ts';
import type { Sink } from '../core/sink.ts';
import { DelayedSink } from '../sinks/delayed-sink.ts';
import { FaultInjectingSink } from '../sinks/fault-injecting-sink.ts';
import { VectorDimension } from '../sinks/lancedb/embeddings-sink.ts';
import { embeddingPipeline, embeddingSinks } from './embeddings.ts';
import { variantPipeline, variantSinks } from './variants.ts';

// biome-ignore lint/suspicious/noExplicitAny: pipelines of different payload types run side by side
export function configuredPipelines(config: Config, logger: Logger): PipelineSpec<any, any>[] {
  const {
    sinkDelayMs: delay,
    sinkBallastRssBytes: ballast,
    sinkFailureRate,
    sinkRejectEvery,
  } = config.testing;
  const faulty = sinkFailureRate > 0 || sinkRejectEvery > 0;
  const slow = <P>(sinks: readonly Sink<P>[]): Sink<P>[] =>
    sinks.map((sink) => {
      let s = delay > 0 ? new DelayedSink(sink, delay, ballast, logger) : sink;
      if (faulty)
        s = new FaultInjectingSink(s, { failureRate: sinkFailureRate, rejectEvery: sinkRejectEvery });
      return s;
    });
  return config.pipelines.map((name) => {
    if (name === 'variants') return variantPipeline(config, slow(variantSinks(config, logger)));
    const dimension = new VectorDimension(config.embeddings.dim);
    return embeddingPipeline(config, logger, {
      dimension,
      sinks: slow(embeddingSinks(config, logger, dimension)),
    });
  });
}
