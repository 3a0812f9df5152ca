/** The Kuzu graph schema (ARCHITECTURE.md section 4), plus the table of applied Kafka offsets. */

export const GRAPH_DDL = [
  'CREATE NODE TABLE IF NOT EXISTS Variant(id STRING PRIMARY KEY, chrom STRING, pos INT64, ref STRING, alt STRING, rsid STRING, qual DOUBLE)',
  'CREATE NODE TABLE IF NOT EXISTS Gene(symbol STRING PRIMARY KEY)',
  'CREATE NODE TABLE IF NOT EXISTS Sample(id STRING PRIMARY KEY)',
  'CREATE REL TABLE IF NOT EXISTS IN_GENE(FROM Variant TO Gene)',
  'CREATE REL TABLE IF NOT EXISTS HAS_VARIANT(FROM Sample TO Variant, gt STRING, zygosity STRING, dp INT64, gq INT64)',
  // Committed in the same transaction as each batch: `{topic}:{partition}` -> next offset to apply.
  'CREATE NODE TABLE IF NOT EXISTS KafkaOffset(id STRING PRIMARY KEY, next_offset INT64)',
] as const;

const VARIANT_COLUMNS =
  'id STRING, chrom STRING, pos INT64, ref STRING, alt STRING, rsid STRING, qual DOUBLE';
const CALL_COLUMNS = 'sample STRING, variant STRING, gt STRING, zygosity STRING, dp INT64, gq INT64';

/**
 * One LOAD statement per staged file; `$FILE` is replaced by a path the sink itself chose. Rows
 * are written only where they change: the sink first reads what the batch's variants and calls
 * already hold (`existingVariants`, `existingCalls`), then CREATEs what is new and SETs what
 * differs, in place. Deleting and re-creating unchanged edges made Kuzu's file grow with every
 * redelivery until its buffer pool could no longer hold a write (measured: 100k sites rewritten
 * 11 times failed at 128 MiB).
 */
export const LOAD_STATEMENTS = {
  existingVariants:
    `LOAD WITH HEADERS (${VARIANT_COLUMNS}) FROM '$FILE' $OPTS MATCH (v:Variant {id: id}) ` +
    'RETURN v.id AS id, v.chrom AS chrom, v.pos AS pos, v.ref AS ref, v.alt AS alt, v.rsid AS rsid, v.qual AS qual',
  /** Variants that did not exist before the batch (the batch holds each id once). */
  createVariants:
    `LOAD WITH HEADERS (${VARIANT_COLUMNS}) FROM '$FILE' $OPTS ` +
    'CREATE (:Variant {id: id, chrom: chrom, pos: pos, ref: ref, alt: alt, rsid: rsid, qual: qual})',
  updateVariants:
    `LOAD WITH HEADERS (${VARIANT_COLUMNS}) FROM '$FILE' $OPTS MATCH (v:Variant {id: id}) ` +
    'SET v.chrom = chrom, v.pos = pos, v.ref = ref, v.alt = alt, v.rsid = rsid, v.qual = qual',
  genes: "LOAD WITH HEADERS (symbol STRING) FROM '$FILE' $OPTS MERGE (:Gene {symbol: symbol})",
  samples: "LOAD WITH HEADERS (id STRING) FROM '$FILE' $OPTS MERGE (:Sample {id: id})",
  inGene:
    "LOAD WITH HEADERS (variant STRING, gene STRING) FROM '$FILE' $OPTS " +
    'MATCH (v:Variant {id: variant}) MATCH (g:Gene {symbol: gene}) MERGE (v)-[:IN_GENE]->(g)',
  /** The HAS_VARIANT edges the staged calls (of variants that existed) already have. */
  existingCalls:
    `LOAD WITH HEADERS (${CALL_COLUMNS}) FROM '$FILE' $OPTS ` +
    'MATCH (s:Sample {id: sample})-[e:HAS_VARIANT]->(v:Variant {id: variant}) ' +
    'RETURN s.id AS sample, v.id AS variant, e.gt AS gt, e.zygosity AS zygosity, e.dp AS dp, e.gq AS gq',
  /** Calls with no edge yet (all calls of new variants): CREATE is safe, none can exist. */
  createCalls:
    `LOAD WITH HEADERS (${CALL_COLUMNS}) FROM '$FILE' $OPTS ` +
    'MATCH (s:Sample {id: sample}) MATCH (v:Variant {id: variant}) ' +
    'CREATE (s)-[:HAS_VARIANT {gt: gt, zygosity: zygosity, dp: dp, gq: gq}]->(v)',
  /**
   * Edges whose properties changed are deleted, then CREATEd with the rest: SET on rel properties
   * held Kuzu 0.11's buffer pool per edge (one batch of 50k changed edges filled 128 MiB), a
   * delete and a create do not.
   */
  deleteCalls:
    `LOAD WITH HEADERS (${CALL_COLUMNS}) FROM '$FILE' $OPTS ` +
    'MATCH (s:Sample {id: sample})-[e:HAS_VARIANT]->(v:Variant {id: variant}) DELETE e',
  /**
   * The next offset of each partition the batch covers, staged like the data: a parameterised
   * MERGE would prepare a statement per batch, and Kuzu holds each until the connection closes.
   */
  offsets:
    "LOAD WITH HEADERS (id STRING, next INT64) FROM '$FILE' $OPTS " +
    'MERGE (o:KafkaOffset {id: id}) SET o.next_offset = next',
} as const;

export const READ_OFFSETS = 'MATCH (o:KafkaOffset) RETURN o.id AS id, o.next_offset AS next';
