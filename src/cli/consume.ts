/** `varstream consume`: run the configured pipelines until SIGTERM/SIGINT, then stop cleanly. */
import { describeBudget } from '../backpressure/memory-budget.ts';
import { type Config, describeConfig } from '../config/index.ts';
import { createKafka } from '../consumers/kafka-client.ts';
import { PipelineConsumer } from '../consumers/pipeline-consumer.ts';
import { ensureTopics } from '../consumers/topics.ts';
import { configuredPipelines } from '../pipelines/index.ts';
import type { Logger } from '../telemetry/logger.ts';

export async function consume(config: Config, logger: Logger): Promise<number> {
  logger.info({ config: describeConfig(config) }, 'starting varstream');
  if (config.memoryBudget)
    logger.info(
      { memory: describeBudget(config.memoryBudget) },
      'memory budget (explicit settings win over derived sizes)',
    );
  const kafka = createKafka(config, logger);
  await ensureTopics(kafka, config);
  const consumer = new PipelineConsumer({
    kafka,
    config,
    logger,
    pipelines: configuredPipelines(config, logger),
  });
  const stopped = new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        logger.warn({ signal }, 'second signal: exiting now; unwritten batches will be re-read');
        process.exit(130);
      }
      logger.info({ signal }, 'stopping: flushing buffered batches and committing');
      void consumer.stop().then((clean) => resolve(clean ? 0 : 1));
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  await consumer.start();
  const code = await stopped;
  logger.info({ stats: consumer.stats, exitCode: code }, 'stopped');
  return code;
}
