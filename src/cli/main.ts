#!/usr/bin/env node
import { readFileSync } from 'node:fs';
/** The `varstream` command line. */
import { Command, InvalidArgumentError } from 'commander';
import { type Config, ConfigError, ENV_BINDINGS, loadConfig } from '../config/index.ts';
import { reachableKafka } from '../consumers/kafka-client.ts';
import { kafkaPublishers } from '../consumers/publisher.ts';
import { ensureTopics } from '../consumers/topics.ts';
import { createLogger } from '../core/logger.ts';
import { EMBEDDING_ENCODINGS, type EmbeddingEncoding } from '../producer/embedding-encoding.ts';
import { produceEmbeddings } from '../producer/produce-embeddings.ts';
import { describePosition, PublishFailedError, produceVcf } from '../producer/produce-vcf.ts';
import { loadVariantRefs } from '../producer/variant-refs.ts';
import { startTelemetry } from '../telemetry/sdk.ts';
import { nonNegativeInt, positiveInt } from './args.ts';
import { consume } from './consume.ts';
import { DEMO_VCF, demo, formatSummary } from './demo.ts';
import { addInspectCommands } from './inspect-commands.ts';
import { localKafka } from './local-kafka.ts';
import { Progress } from './progress.ts';
import { addQueryCommands } from './query-commands.ts';
import { skippedSummary, skipReporter } from './skipped.ts';

const PACKAGE_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const program = new Command('varstream')
  .description('Stream genomic variants from Kafka into LanceDB and Kuzu')
  .version(PACKAGE_VERSION, '-V, --version', 'print the version')
  .showHelpAfterError();

program
  .command('consume')
  .description('run the pipelines until SIGTERM/SIGINT (configured by environment variables)')
  .addHelpText(
    'after',
    `\nSettings (environment variables; \`varstream config\` prints their values and where each came from):\n${ENV_BINDINGS.map((b) => `  ${b.env.padEnd(42)}${b.description}`).join('\n')}\n  ${'VARSTREAM_CONFIG'.padEnd(42)}A JSON file of settings (the schema's shape)`,
  )
  .option('--pretty', 'a banner, a live status block and readable logs even when stdout is not a terminal')
  .action(async (opts: { pretty?: boolean }) => {
    const config = loadConfig({ overrides: opts.pretty ? { logFormat: 'pretty' } : undefined });
    // Exit explicitly: a sink call stuck past the grace period must not keep the process alive.
    process.exit(await consume(config));
  });

const produce = program.command('produce').description('publish messages');
produce
  .command('vcf <file>')
  .description(
    'publish one variant message per record of a VCF (plain, gzip or bgzip); a record that cannot become a message is reported (file:line) and skipped',
  )
  .option('--topic <name>', 'topic (default: the configured variants topic)')
  .option('--source <name>', 'the messages\' "source" field (default: the file name)')
  .option('--strict', 'stop at the first record that cannot become a message (exit 1)')
  .option(
    '--skip <n>',
    'skip the first N records (resume: an interrupted or failed publish prints N)',
    nonNegativeInt,
  )
  .action(
    async (file: string, opts: { topic?: string; source?: string; strict?: boolean; skip?: number }) => {
      const config = configured();
      const logger = createLogger(config.logLevel);
      const kafka = await reachableKafka(config, logger);
      const topic = opts.topic ?? config.topics.variants;
      await ensureTopics(kafka, config, [topic]);
      // With OTEL_EXPORTER_OTLP_ENDPOINT set, each message's `create` span is exported, and its
      // context travels in the message's `traceparent` header either way.
      const telemetry = startTelemetry({ logger, prometheus: false });
      const progress = new Progress(`published records of ${file}`);
      // Ctrl-C: stop reading, let what is queued be acknowledged, say how far it got.
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let result: Awaited<ReturnType<typeof produceVcf>>;
      try {
        result = await produceVcf(kafkaPublishers(kafka), file, {
          topic,
          source: opts.source,
          strict: opts.strict,
          skipRecords: opts.skip,
          signal: stop.signal,
          onProgress: (count, fraction) => progress.update({ count, fraction }),
          ...skipReporter(),
        });
      } catch (error) {
        if (error instanceof PublishFailedError) {
          process.stderr.write('\n');
          throw new Error(`${error.message}\n${describePosition(error.position)}`);
        }
        throw error;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      progress.done({ count: result.records });
      const skipped = skippedSummary(result.skipped, result.firstSkipped);
      if (skipped) console.error(skipped);
      await telemetry.shutdown();
      if (result.interrupted) {
        console.error(`interrupted: ${describePosition(result.position)}`);
        process.exitCode = 130;
      }
    },
  );

produce
  .command('embeddings')
  .description('publish synthetic embeddings (unit-normalised, clustered) in one of the three encodings')
  .requiredOption('--count <n>', 'embeddings to publish', positiveInt)
  .option('--dim <d>', 'vector dimension', positiveInt, 1536)
  .option('--encoding <e>', `one of ${EMBEDDING_ENCODINGS.join(', ')}`, encodingArg, 'json')
  .option(
    '--batch <k>',
    'embeddings per Arrow message (arrow only; default: what fits in 4 MiB)',
    positiveInt,
  )
  .option('--seed <n>', 'random seed', positiveInt, 42)
  .option('--topic <name>', 'topic (default: the configured embeddings topic)')
  .option('--source-of-variants', 'embed variants already in the LanceDB variants table (id = variant id)')
  .action(
    async (opts: {
      count: number;
      dim: number;
      encoding: EmbeddingEncoding;
      batch?: number;
      seed: number;
      topic?: string;
      sourceOfVariants?: boolean;
    }) => {
      if (opts.batch !== undefined && opts.encoding !== 'arrow')
        throw new InvalidArgumentError('--batch applies to --encoding arrow only');
      const config = configured();
      const logger = createLogger(config.logLevel);
      const kafka = await reachableKafka(config, logger);
      const topic = opts.topic ?? config.topics.embeddings;
      await ensureTopics(kafka, config, [topic]);
      const variants = opts.sourceOfVariants
        ? await loadVariantRefs(config.lancedb.uri, config.lancedb.variantsTable, opts.count)
        : undefined;
      if (variants && variants.length < opts.count)
        console.error(
          `only ${variants.length} variants in the store: publishing ${variants.length} embeddings`,
        );
      const telemetry = startTelemetry({ logger, prometheus: false });
      const progress = new Progress(`published ${opts.encoding} embeddings to ${topic}`);
      const result = await produceEmbeddings(kafkaPublishers(kafka), {
        ...opts,
        topic,
        variants,
        onProgress: (count, fraction) => progress.update({ count, fraction }),
      });
      progress.done({ count: result.embeddings });
      await telemetry.shutdown();
    },
  );

addQueryCommands(program, configured);

program
  .command('demo')
  .description('local end-to-end run: broker, a VCF in, LanceDB and Kuzu out, a summary')
  .option('--vcf <path>', `VCF to publish (default: fixtures/vcf/${DEMO_VCF})`)
  .option(
    '--records <n>',
    'publish a generated VCF of this many records instead (default 20000)',
    positiveInt,
  )
  .option('--samples <n>', 'samples of the generated VCF (default 50)', positiveInt)
  .option('--data-dir <dir>', 'where each run writes its LanceDB and Kuzu data', './data')
  .option('--timeout <seconds>', 'give up when not caught up after this long', positiveInt, 1800)
  .action(
    async (opts: { vcf?: string; records?: number; samples?: number; dataDir: string; timeout: number }) => {
      const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');
      const summary = await demo({ ...opts, timeoutMs: opts.timeout * 1000 }, logger);
      console.log(formatSummary(summary));
    },
  );

program
  .command('kafka <command>')
  .description('the local single-node Apache Kafka broker: up | down | status | reset')
  .action((command: string) => {
    if (!['up', 'down', 'status', 'reset'].includes(command)) {
      throw new InvalidArgumentError(`unknown command "${command}": expected up, down, status or reset`);
    }
    localKafka(command as 'up');
  });

addInspectCommands(program, configured);

program
  .command('topics')
  .description('create the configured topics when missing')
  .action(async () => {
    const config = configured();
    const { created, existing } = await ensureTopics(
      await reachableKafka(config, createLogger(config.logLevel)),
      config,
    );
    const list = (topics: string[]) => topics.join(', ');
    console.log(
      [
        created.length > 0 ? `created ${list(created)}` : '',
        existing.length > 0 ? `already there: ${list(existing)}` : '',
      ]
        .filter((s) => s !== '')
        .join('; '),
    );
  });

/** The configuration, its warnings (unknown variables and file keys) on stderr. */
function configured(): Config {
  const config = loadConfig();
  for (const warning of config.warnings ?? []) console.error(`varstream: warning: ${warning}`);
  return config;
}

function encodingArg(value: string): EmbeddingEncoding {
  if (!(EMBEDDING_ENCODINGS as readonly string[]).includes(value))
    throw new InvalidArgumentError(`expected one of ${EMBEDDING_ENCODINGS.join(', ')}`);
  return value as EmbeddingEncoding;
}

program.parseAsync().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(`varstream: ${(error as Error).message ?? error}`);
  process.exit(1);
});
