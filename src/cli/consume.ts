/**
 * `varstream consume`: run the configured pipelines until SIGTERM/SIGINT, then stop cleanly. The
 * OpenTelemetry SDK (OTLP export from OTEL_* variables, Prometheus on /metrics) and the HTTP
 * endpoint (/healthz, /readyz, /metrics) are started here; library code uses only the API.
 */
import { readFileSync } from 'node:fs';
import { describeBudget } from '../backpressure/memory-budget.ts';
import { type Config, describeConfig } from '../config/index.ts';
import { pipelineTopics } from '../config/schema.ts';
import { type KafkaInspector, kafkaInspector } from '../consumers/inspect.ts';
import { assertBrokersReachable, createKafka } from '../consumers/kafka-client.ts';
import { PipelineConsumer } from '../consumers/pipeline-consumer.ts';
import { ensureTopics } from '../consumers/topics.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import { configuredPipelines } from '../pipelines/index.ts';
import { lanceCacheBytes } from '../sinks/lancedb/open-table.ts';
import { HealthServer } from '../telemetry/health.ts';
import { ConsumerMetrics } from '../telemetry/metrics.ts';
import { startTelemetry } from '../telemetry/sdk.ts';
import { BatchTracer } from '../telemetry/tracing.ts';
import { ConsumeDisplay, wantsPretty } from './consume-display.ts';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** Signals this close to the first stop signal are the same one, relayed (see onSignal). */
const SAME_SIGNAL_MS = 1_000;

/**
 * Runs until stopped; resolves to the exit code. Output: JSON log lines, or on a terminal (see
 * consume-display.ts) a banner, a live status block and readable log lines. `given` replaces the
 * logger made from the configuration.
 */
export async function consume(config: Config, given?: Logger): Promise<number> {
  const topics = pipelineTopics(config);
  let inspector: KafkaInspector | undefined;
  const display =
    !given && wantsPretty(config) ? new ConsumeDisplay(config, topics, () => inspector) : undefined;
  const logger = given ?? createLogger(config.logLevel, display?.logStream);
  display?.banner(VERSION, {
    [config.topics.variants]: config.variants.sinks,
    [config.topics.embeddings]: config.embeddings.sinks,
  });
  logger.info({ config: describeConfig(config) }, 'starting varstream');
  for (const warning of config.warnings ?? []) logger.warn({ warning }, 'unknown setting ignored');
  if (config.memoryBudget)
    logger.info(
      { memory: describeBudget(config.memoryBudget) },
      'memory budget (explicit settings win over derived sizes)',
    );
  const telemetry = startTelemetry({ logger, serviceVersion: VERSION });
  const { groupId } = config.kafka;
  const metrics = new ConsumerMetrics({ groupId, readLanceCacheBytes: lanceCacheBytes });
  const tracing = new BatchTracer({ groupId, deadLetterTopic: config.topics.deadLetter });
  const { httpPort, httpHost, livenessTtlMs, sinkStallMs, lagIntervalMs } = config.telemetry;
  const health =
    httpPort > 0
      ? new HealthServer({
          port: httpPort,
          host: httpHost,
          livenessTtlMs,
          sinkStallMs,
          metrics: telemetry.metricsHandler,
          logger,
        })
      : undefined;
  await health?.start();
  const kafka = createKafka(config, logger);
  inspector = kafkaInspector(kafka);
  const consumer = new PipelineConsumer({
    kafka,
    config,
    logger,
    // After the stores opened (a refused database fails first), before any Kafka client connects.
    afterSinksStart: async () => {
      await assertBrokersReachable(config);
      await ensureTopics(kafka, config);
    },
    pipelines: configuredPipelines(config, logger),
    telemetry: { metrics, tracing, health, lagIntervalMs },
  });
  const stopped = new Promise<number>((resolve) => {
    let signals = 0;
    const stop = () => {
      // A sink call stuck in native code cannot be cancelled: past the grace period the process
      // exits anyway (non-zero); what it had not committed is re-read by the next run.
      const deadline = setTimeout(() => {
        logger.error(
          { graceMs: config.shutdownGraceMs },
          'grace period over before the stop completed: exiting; uncommitted messages will be re-read',
        );
        resolve(1);
      }, config.shutdownGraceMs);
      deadline.unref();
      void consumer.stop().then((clean) => {
        clearTimeout(deadline);
        resolve(clean && consumer.failure === undefined ? 0 : 1);
      });
    };
    let firstAt = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      // One Ctrl-C can arrive twice: from the terminal (to the whole foreground process group) and
      // relayed by a parent (npm, the tsx CLI) a few milliseconds later. A signal within
      // SAME_SIGNAL_MS of the first is that same one; a person's second Ctrl-C comes later.
      if (signals > 0 && performance.now() - firstAt < SAME_SIGNAL_MS) {
        logger.debug({ signal }, 'the same stop signal again (relayed by a parent process): ignored');
        return;
      }
      signals++;
      if (signals > 1) {
        logger.warn({ signal }, 'second signal: exiting now; unwritten batches will be re-read');
        process.exit(130);
      }
      firstAt = performance.now();
      logger.info({ signal }, 'stopping: flushing buffered batches and committing');
      stop();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    consumer.once('failed', () => stop());
  });
  display?.watch(consumer);
  await consumer.start();
  const code = await stopped;
  display?.stop(consumer);
  logger.info({ stats: consumer.stats, exitCode: code }, 'stopped');
  // Export what is left, but a collector that does not answer must not hold the exit.
  await Promise.race([
    telemetry.shutdown().catch(() => undefined),
    new Promise((resolve) => setTimeout(resolve, 3_000).unref()),
  ]);
  await health?.stop();
  return code;
}
