/** `varstream query similar | variants | graph | cypher`: read what landed, never write. */
import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import type { Config } from '../config/index.ts';
import {
  cypherParam,
  formatRows,
  GRAPH_QUESTIONS,
  type GraphArgs,
  type GraphQuestion,
  queryCypher,
  queryGraph,
} from '../query/graph.ts';
import { formatHits, QueryError, querySimilar } from '../query/similar.ts';
import { formatVariants, queryVariants } from '../query/variants.ts';
import { positiveInt } from './args.ts';

export function addQueryCommands(program: Command, configured: () => Config): void {
  const query = program.command('query').description('read what landed');
  query
    .command('similar')
    .description(
      'nearest embeddings to a stored one (--id) or a vector (--vector-file), joined to their variants',
    )
    .option('--id <id>', 'the id of a stored embedding')
    .option('--vector-file <file>', 'a vector: a JSON array, or raw little-endian float32')
    .option('-k <n>', 'how many neighbours', positiveInt, 10)
    .option('--gene <symbol>', 'only embeddings of variants IN_GENE this gene (reads the Kuzu graph)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { id?: string; vectorFile?: string; k: number; gene?: string; json?: boolean }) => {
      if ((opts.id === undefined) === (opts.vectorFile === undefined))
        throw new InvalidArgumentError('give exactly one of --id or --vector-file');
      const config = configured();
      const vector = opts.vectorFile ? readVectorFile(opts.vectorFile) : undefined;
      const hits = await querySimilar(config, { id: opts.id, vector, k: opts.k, gene: opts.gene });
      console.log(opts.json ? JSON.stringify(hits, null, 2) : formatHits(hits));
    });

  query
    .command('variants')
    .description(
      'variant ids to ask about, from the LanceDB variants table (readable while a consumer runs): of a gene, or a chromosome',
    )
    .option('--gene <symbol>', 'only variants of this gene')
    .option('--chrom <name>', 'only variants of this chromosome (as the records name it)')
    .option('--limit <n>', 'how many (the first found, sorted by position)', positiveInt, 20)
    .option('--json', 'machine-readable output')
    .action(async (opts: { gene?: string; chrom?: string; limit: number; json?: boolean }) => {
      const rows = await queryVariants(configured(), opts);
      console.log(opts.json ? JSON.stringify(rows, null, 2) : formatVariants(rows));
    });

  query
    .command('graph <question>')
    .description(
      `ask the variant graph (read-only; the graph consumer must be stopped): ${GRAPH_QUESTIONS.join(', ')}`,
    )
    .option('--variant <id>', 'carriers: the variant id, e.g. chr17-43045712-G-A')
    .option('--sample <id>', 'sample-variants, sample-count: the sample')
    .option('--gene <symbol>', 'sample-variants, gene-variants: the gene symbol')
    .option('--limit <n>', 'samples, genes: how many (most variants first)', positiveInt, 20)
    .option('--json', 'machine-readable output')
    .action(async (question: string, opts: GraphArgs & { json?: boolean }) => {
      if (!(GRAPH_QUESTIONS as readonly string[]).includes(question))
        throw new InvalidArgumentError(
          `unknown question "${question}": expected ${GRAPH_QUESTIONS.join(', ')}`,
        );
      const rows = await queryGraph(configured(), question as GraphQuestion, opts);
      console.log(opts.json ? JSON.stringify(rows, null, 2) : formatRows(rows));
    });

  query
    .command('cypher <statement>')
    .description('run one Cypher statement on the graph opened read-only (writes are refused)')
    .option('--param <name=value>', 'bind $name (repeatable; JSON values, else text)', cypherParamArg, {})
    .option('--json', 'machine-readable output')
    .action(async (statement: string, opts: { param: Record<string, unknown>; json?: boolean }) => {
      const rows = await queryCypher(configured(), statement, opts.param);
      console.log(opts.json ? JSON.stringify(rows, null, 2) : formatRows(rows));
    });
}

function readVectorFile(file: string): Float32Array {
  const bytes = readFileSync(file);
  if (file.endsWith('.json')) {
    const parsed: unknown = JSON.parse(bytes.toString('utf8'));
    if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === 'number' && Number.isFinite(v)))
      throw new QueryError(`${file}: expected a JSON array of finite numbers`);
    return Float32Array.from(parsed as number[]);
  }
  if (bytes.length === 0 || bytes.length % 4 !== 0)
    throw new QueryError(`${file}: ${bytes.length} bytes is not a whole number of float32 values`);
  const vector = new Float32Array(bytes.length / 4);
  for (let i = 0; i < vector.length; i++) vector[i] = bytes.readFloatLE(i * 4);
  return vector;
}

function cypherParamArg(value: string, previous: Record<string, unknown>): Record<string, unknown> {
  try {
    return cypherParam(value, previous);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}
