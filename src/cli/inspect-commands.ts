/**
 * The commands that look at what landed and at the dead letters, without writing to the stores:
 * `status`, `dlq tail`, `dlq replay` (which publishes back to the input topics) and `config`.
 * Their stdout is the answer (text or `--json`); Kafka client logs go to stderr.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { type Config, configRows } from '../config/index.ts';
import { kafkaInspector } from '../consumers/inspect.ts';
import { reachableKafka } from '../consumers/kafka-client.ts';
import { kafkaPublishers } from '../consumers/publisher.ts';
import { stderrLogger } from '../core/logger.ts';
import { textTable } from '../query/text-table.ts';
import { commaList, positiveInt, sourceOffsetArg } from './args.ts';
import { dlqReplay, dlqTail, formatLetter } from './dlq.ts';
import { formatStatus, status } from './status.ts';

/** kafkajs warnings and errors only (its info lines are not the answer), on stderr. */
const quietKafka = (config: Config) =>
  reachableKafka(config, stderrLogger(config.logLevel === 'info' ? 'warn' : config.logLevel));

export function addInspectCommands(program: Command, configured: () => Config): void {
  program
    .command('status')
    .description(
      "what landed: the group's committed vs end offsets per partition (lag) and its members, the LanceDB tables (rows, version, indices), the Kuzu graph's nodes and edges, the dead letters by code",
    )
    .option('--json', 'print JSON')
    .option(
      '--dlq-scan <n>',
      'count the codes of at most the last N dead letters per partition',
      positiveInt,
      100_000,
    )
    .action(async (opts: { json?: boolean; dlqScan: number }) => {
      const config = configured();
      const kafka = await quietKafka(config);
      const report = await status(kafkaInspector(kafka), config, { dlqScan: opts.dlqScan });
      console.log(opts.json ? JSON.stringify(report, null, 2) : formatStatus(report));
    });

  const dlq = program.command('dlq').description('read and replay the dead-letter topic');
  dlq
    .command('tail')
    .description('the latest dead letters: code, reason, where each came from, key, a preview of the value')
    .option('-n, --limit <n>', 'how many', positiveInt, 20)
    .option('--code <codes>', 'only these codes (comma-separated)', commaList)
    .option('--json', 'print JSON (one object per line)')
    .action(async (opts: { limit: number; code?: string[]; json?: boolean }) => {
      const config = configured();
      const kafka = await quietKafka(config);
      const { letters, total, exists } = await dlqTail(kafkaInspector(kafka), config, {
        limit: opts.limit,
        codes: opts.code,
      });
      if (opts.json) for (const letter of letters) console.log(JSON.stringify(letter));
      else {
        for (const letter of letters) console.log(formatLetter(letter));
        console.error(
          exists
            ? `${letters.length} shown of ${total.toLocaleString('en-US')} on ${config.topics.deadLetter}`
            : `no dead-letter topic ${config.topics.deadLetter} yet`,
        );
      }
    });
  dlq
    .command('replay')
    .description(
      'publish dead letters back to the topic they came from (once the cause is fixed): those of --code, or of --offsets; with --dry-run, only say what would be',
    )
    .option('--code <codes>', 'the letters of these codes (comma-separated)', commaList)
    .option(
      '--offsets <list>',
      'the letters of these source messages: topic:partition:offset, comma-separated (as `dlq tail` shows: topic/partition@offset)',
      (value: string) => commaList(value).map(sourceOffsetArg),
    )
    .option('--dry-run', 'read and count, publish nothing')
    .option('--json', 'print JSON')
    .action(async (opts: { code?: string[]; offsets?: string[]; dryRun?: boolean; json?: boolean }) => {
      if (!opts.code && !opts.offsets)
        throw new InvalidArgumentError('choose the letters to replay: --code CODES or --offsets LIST');
      const config = configured();
      const kafka = await quietKafka(config);
      const result = await dlqReplay(kafkaInspector(kafka), kafkaPublishers(kafka), config, {
        codes: opts.code,
        sources: opts.offsets,
        dryRun: opts.dryRun ?? false,
      });
      if (opts.json) {
        console.log(JSON.stringify(result, null, 2));
        return;
      }
      const to = Object.entries(result.replayed).map(
        ([topic, count]) => `${count.toLocaleString('en-US')} to ${topic}`,
      );
      console.log(
        `${result.dryRun ? 'would replay' : 'replayed'} ${to.length > 0 ? to.join(', ') : 'nothing'} (of ${result.read.toLocaleString('en-US')} dead letters read)`,
      );
      for (const letter of result.skipped)
        console.log(
          `skipped ${letter.source} (${letter.code}): its value was not kept on the dead-letter topic`,
        );
    });

  program
    .command('config')
    .description(
      'print the effective configuration: every setting, its variable, its value (secrets redacted) and where it came from (default, derived, file, env, flag)',
    )
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const config = configured();
      const rows = configRows(config);
      if (opts.json) console.log(JSON.stringify(rows, null, 2));
      else
        console.log(
          textTable(
            ['setting', 'variable', 'value', 'from'],
            rows.map((r) => [
              r.field,
              r.env,
              r.value === undefined ? '(unset)' : JSON.stringify(r.value),
              r.source,
            ]),
          ),
        );
    });
}
