#!/usr/bin/env node
/** The `varstream` command line. */
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig } from '../config/index.ts';
import { createKafka } from '../consumers/kafka-client.ts';
import { ensureTopics } from '../consumers/topics.ts';
import { produceVcf } from '../producer/produce-vcf.ts';
import { createLogger } from '../telemetry/logger.ts';
import { consume } from './consume.ts';
import { demo, formatSummary } from './demo.ts';
import { localKafka } from './local-kafka.ts';
import { Progress } from './progress.ts';

const program = new Command('varstream')
  .description('Stream genomic variants from Kafka into LanceDB and Kuzu')
  .showHelpAfterError();

program
  .command('consume')
  .description('run the pipelines until SIGTERM/SIGINT (configured by environment variables)')
  .action(async () => {
    const config = loadConfig();
    // Exit explicitly: a sink call stuck past the grace period must not keep the process alive.
    process.exit(await consume(config, createLogger(config.logLevel)));
  });

const produce = program.command('produce').description('publish messages');
produce
  .command('vcf <file>')
  .description('publish one variant message per record of a VCF (plain, gzip or bgzip)')
  .option('--topic <name>', 'topic (default: the configured variants topic)')
  .option('--source <name>', 'the messages\' "source" field (default: the file name)')
  .action(async (file: string, opts: { topic?: string; source?: string }) => {
    const config = loadConfig();
    const logger = createLogger(config.logLevel);
    const kafka = createKafka(config, logger);
    const topic = opts.topic ?? config.topics.variants;
    await ensureTopics(kafka, config, [topic]);
    const progress = new Progress(`published records of ${file}`);
    const result = await produceVcf(kafka, file, {
      topic,
      source: opts.source,
      onProgress: (count, fraction) => progress.update({ count, fraction }),
    });
    progress.done({ count: result.records });
  });

program
  .command('demo')
  .description('local end-to-end run: broker, a VCF in, LanceDB and Kuzu out, a summary')
  .option('--vcf <path>', 'VCF to publish (default: a generated multi-sample VCF)')
  .option('--records <n>', 'records of the generated VCF', positiveInt, 20_000)
  .option('--samples <n>', 'samples of the generated VCF', positiveInt, 50)
  .option('--data-dir <dir>', 'where each run writes its LanceDB and Kuzu data', './data')
  .option('--timeout <seconds>', 'give up when not caught up after this long', positiveInt, 1800)
  .action(
    async (opts: { vcf?: string; records: number; samples: number; dataDir: string; timeout: number }) => {
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

program
  .command('topics')
  .description('create the configured topics when missing')
  .action(async () => {
    const config = loadConfig();
    await ensureTopics(createKafka(config, createLogger(config.logLevel)), config);
  });

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

program.parseAsync().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(`varstream: ${(error as Error).message ?? error}`);
  process.exit(1);
});
