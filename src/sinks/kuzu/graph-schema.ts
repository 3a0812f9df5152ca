/**
 * The Kuzu graph, schema v2 (ARCHITECTURE.md section 4; measurements in docs/design/kuzu-at-scale.md).
 *
 * - Variants are partitioned by chromosome into nine node tables `Variant_<shard>` (SHARDS), keyed
 *   by `key` (variantKey: a UUID of the variant id) with the id as a property. Kuzu 0.11's cost per
 *   write grows with the table written (its checkpoint walks every node group of a rel table, its
 *   LOAD ... MATCH scans the table): a shard bounds both by the chromosomes it holds.
 * - `CARRIED_BY` (variant -> sample) is stored forward only: a sample would otherwise be a hub
 *   whose adjacency Kuzu rewrites at every checkpoint. A sample's variants are read through the
 *   variants, its count from `Sample.variants`, kept exact in each batch's transaction.
 * - `IN_GENE` (variant -> gene) is stored both ways, so a gene's variants are one lookup.
 * - `GraphSchema` holds the version; a database of another version is refused at start.
 */

export const SCHEMA_VERSION = 2;

/**
 * Shards of the human primary chromosomes, in genome order, about 350-490 Mb each. A name is matched
 * without a `chr` prefix and in any case (`chr17`, `17`); everything else (MT, unplaced, alt and
 * decoy contigs, other organisms) goes to `other`.
 */
const PRIMARY_SHARDS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['chr1_2', ['1', '2']],
  ['chr3_4', ['3', '4']],
  ['chr5_6', ['5', '6']],
  ['chr7_8', ['7', '8']],
  ['chr9_11', ['9', '10', '11']],
  ['chr12_14', ['12', '13', '14']],
  ['chr15_18', ['15', '16', '17', '18']],
  ['chr19_Y', ['19', '20', '21', '22', 'X', 'Y']],
];

export const SHARDS: readonly string[] = [...PRIMARY_SHARDS.map(([name]) => name), 'other'];

const SHARD_OF = new Map(PRIMARY_SHARDS.flatMap(([name, chroms]) => chroms.map((c) => [c, name] as const)));

/** The shard holding a chromosome's variants. */
export function shardOf(chrom: string): string {
  return SHARD_OF.get(chrom.replace(/^chr/i, '').toUpperCase()) ?? 'other';
}

/** The node table of a shard (names are from SHARDS, never from input). */
export function variantTable(shard: string): string {
  if (!SHARDS.includes(shard)) throw new Error(`unknown variant shard ${shard}`);
  return `Variant_${shard}`;
}

export const VARIANT_TABLES: readonly string[] = SHARDS.map(variantTable);

const VARIANT_PROPERTIES =
  'key UUID PRIMARY KEY, id STRING, chrom STRING, pos INT64, ref STRING, alt STRING, rsid STRING, qual DOUBLE';
const pairs = (to: string) => VARIANT_TABLES.map((t) => `FROM ${t} TO ${to}`).join(', ');

export const GRAPH_DDL: readonly string[] = [
  'CREATE NODE TABLE IF NOT EXISTS GraphSchema(name STRING PRIMARY KEY, version INT64)',
  'CREATE NODE TABLE IF NOT EXISTS Gene(symbol STRING PRIMARY KEY)',
  'CREATE NODE TABLE IF NOT EXISTS Sample(id STRING PRIMARY KEY, variants INT64)',
  ...VARIANT_TABLES.map((t) => `CREATE NODE TABLE IF NOT EXISTS ${t}(${VARIANT_PROPERTIES})`),
  `CREATE REL TABLE IF NOT EXISTS IN_GENE(${pairs('Gene')})`,
  `CREATE REL TABLE IF NOT EXISTS CARRIED_BY(${pairs('Sample')}, gt STRING, zygosity STRING, dp INT64, gq INT64) WITH (storage_direction = 'fwd')`,
  // `{topic}:{partition}` -> next offset to apply, committed in the same transaction as each batch.
  'CREATE NODE TABLE IF NOT EXISTS KafkaOffset(id STRING PRIMARY KEY, next_offset INT64)',
];

/** Every table schema v2 creates; anything else in a database means it is not a v2 graph. */
export const V2_TABLES: ReadonlySet<string> = new Set([
  'GraphSchema',
  'Gene',
  'Sample',
  ...VARIANT_TABLES,
  'IN_GENE',
  'CARRIED_BY',
  'KafkaOffset',
]);

export const SCHEMA_NAME = 'varstream';
export const READ_SCHEMA_VERSION = 'MATCH (m:GraphSchema) RETURN m.name AS name, m.version AS version';
export const WRITE_SCHEMA_VERSION = `MERGE (m:GraphSchema {name: '${SCHEMA_NAME}'}) SET m.version = ${SCHEMA_VERSION}`;
export const READ_OFFSETS = 'MATCH (o:KafkaOffset) RETURN o.id AS id, o.next_offset AS next';

const VARIANT_COLUMNS =
  'key UUID, id STRING, chrom STRING, pos INT64, ref STRING, alt STRING, rsid STRING, qual DOUBLE';
const CALL_COLUMNS = 'variant UUID, sample STRING, gt STRING, zygosity STRING, dp INT64, gq INT64';
/** A window of one chromosome and position range (shard-plan.ts), as parameters. */
const WINDOW = 'WHERE v.chrom = $chrom AND v.pos >= $lo AND v.pos <= $hi';

/**
 * The statements of one batch, all in one transaction. `$FILE` is replaced by a path the sink
 * chose, `$OPTS` by its CSV options, `$T` by a shard's table; values reach Kuzu only through the
 * staged files and parameters. What exists is read first, then only what is new or changed is
 * written: a redelivered batch writes nothing but its offsets. Reads return one row of lists
 * (`collect`): Kuzu's Node binding costs ~25 us per returned row.
 */
export const BATCH_STATEMENTS = {
  /** The batch's samples already in the graph (the others can have no calls yet). */
  existingSamples:
    "LOAD WITH HEADERS (id STRING) FROM '$FILE' $OPTS MATCH (s:Sample {id: id}) RETURN collect(id) AS found",
  samples:
    "LOAD WITH HEADERS (id STRING) FROM '$FILE' $OPTS MERGE (s:Sample {id: id}) ON CREATE SET s.variants = 0",
  genes: "LOAD WITH HEADERS (symbol STRING) FROM '$FILE' $OPTS MERGE (:Gene {symbol: symbol})",
  /** Row numbers (`i`) of the window's variants that exist. */
  existingVariants: `LOAD WITH HEADERS (i INT64, key UUID) FROM '$FILE' $OPTS MATCH (v:$T {key: key}) ${WINDOW} RETURN collect(i) AS found`,
  createVariants:
    `LOAD WITH HEADERS (${VARIANT_COLUMNS}) FROM '$FILE' $OPTS ` +
    'CREATE (:$T {key: key, id: id, chrom: chrom, pos: pos, ref: ref, alt: alt, rsid: rsid, qual: qual})',
  /**
   * Site fields of variants that existed, from a later message: last write wins (chrom, pos, ref
   * and alt are the id's, so the same for the same key).
   */
  updateVariants:
    `LOAD WITH HEADERS (${VARIANT_COLUMNS}) FROM '$FILE' $OPTS MATCH (v:$T {key: key}) ${WINDOW} ` +
    'SET v.rsid = rsid, v.qual = qual',
  /** Row numbers of gene pairs (of variants that existed) the graph holds. */
  existingGenePairs:
    "LOAD WITH HEADERS (i INT64, variant UUID, gene STRING) FROM '$FILE' $OPTS " +
    `MATCH (v:$T {key: variant})-[:IN_GENE]->(g:Gene {symbol: gene}) ${WINDOW} RETURN collect(i) AS found`,
  createGenePairs:
    "LOAD WITH HEADERS (variant UUID, gene STRING) FROM '$FILE' $OPTS " +
    `MATCH (v:$T {key: variant}) ${WINDOW} MATCH (g:Gene {symbol: gene}) CREATE (v)-[:IN_GENE]->(g)`,
  /** The CARRIED_BY edges the staged calls (of variants and samples that existed) already have. */
  existingCalls:
    "LOAD WITH HEADERS (i INT64, variant UUID, sample STRING) FROM '$FILE' $OPTS " +
    `MATCH (v:$T {key: variant})-[e:CARRIED_BY]->(s:Sample {id: sample}) ${WINDOW} ` +
    'RETURN collect({i: i, gt: e.gt, zygosity: e.zygosity, dp: e.dp, gq: e.gq}) AS found',
  /**
   * Edges whose properties changed are deleted, then CREATEd with the new ones: SET on rel
   * properties held Kuzu 0.11's buffer pool per edge, a delete and a create do not.
   */
  deleteCalls:
    `LOAD WITH HEADERS (${CALL_COLUMNS}) FROM '$FILE' $OPTS ` +
    `MATCH (v:$T {key: variant})-[e:CARRIED_BY]->(s:Sample {id: sample}) ${WINDOW} DELETE e`,
  createCalls:
    `LOAD WITH HEADERS (${CALL_COLUMNS}) FROM '$FILE' $OPTS ` +
    `MATCH (v:$T {key: variant}) ${WINDOW} MATCH (s:Sample {id: sample}) ` +
    'CREATE (v)-[:CARRIED_BY {gt: gt, zygosity: zygosity, dp: dp, gq: gq}]->(s)',
  /** Each sample's new CARRIED_BY edges, added to its count in the same transaction. */
  sampleCounts:
    "LOAD WITH HEADERS (id STRING, added INT64) FROM '$FILE' $OPTS " +
    'MATCH (s:Sample {id: id}) SET s.variants = s.variants + added',
  /**
   * The next offset of each partition the batch covers, staged like the data (a parameterised
   * MERGE would prepare a statement per batch for what a file does as well).
   */
  offsets:
    "LOAD WITH HEADERS (id STRING, next INT64) FROM '$FILE' $OPTS " +
    'MERGE (o:KafkaOffset {id: id}) SET o.next_offset = next',
} as const;
