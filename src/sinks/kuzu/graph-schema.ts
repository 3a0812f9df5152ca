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

/** One LOAD statement per staged file; `$FILE` is replaced by a path the sink itself chose. */
export const LOAD_STATEMENTS = {
  variants:
    "LOAD WITH HEADERS (id STRING, chrom STRING, pos INT64, ref STRING, alt STRING, rsid STRING, qual DOUBLE) FROM '$FILE' $OPTS " +
    'MERGE (v:Variant {id: id}) SET v.chrom = chrom, v.pos = pos, v.ref = ref, v.alt = alt, v.rsid = rsid, v.qual = qual',
  genes: "LOAD WITH HEADERS (symbol STRING) FROM '$FILE' $OPTS MERGE (:Gene {symbol: symbol})",
  samples: "LOAD WITH HEADERS (id STRING) FROM '$FILE' $OPTS MERGE (:Sample {id: id})",
  inGene:
    "LOAD WITH HEADERS (variant STRING, gene STRING) FROM '$FILE' $OPTS " +
    'MATCH (v:Variant {id: variant}) MATCH (g:Gene {symbol: gene}) MERGE (v)-[:IN_GENE]->(g)',
  /** Edges of variants that did not exist before the batch cannot exist yet: CREATE is safe. */
  hasVariant:
    "LOAD WITH HEADERS (sample STRING, variant STRING, gt STRING, zygosity STRING, dp INT64, gq INT64) FROM '$FILE' $OPTS " +
    'MATCH (s:Sample {id: sample}) MATCH (v:Variant {id: variant}) ' +
    'CREATE (s)-[:HAS_VARIANT {gt: gt, zygosity: zygosity, dp: dp, gq: gq}]->(v)',
  /** Run first for the calls of variants that existed: the CREATE above then replaces them. */
  dropHasVariant:
    "LOAD WITH HEADERS (sample STRING, variant STRING, gt STRING, zygosity STRING, dp INT64, gq INT64) FROM '$FILE' $OPTS " +
    'MATCH (s:Sample {id: sample})-[e:HAS_VARIANT]->(v:Variant {id: variant}) DELETE e',
  existingVariants:
    "LOAD WITH HEADERS (id STRING, chrom STRING, pos INT64, ref STRING, alt STRING, rsid STRING, qual DOUBLE) FROM '$FILE' $OPTS " +
    'MATCH (v:Variant {id: id}) RETURN v.id AS id',
} as const;

export const UPSERT_OFFSET = 'MERGE (o:KafkaOffset {id: $id}) SET o.next_offset = $next';
export const READ_OFFSETS = 'MATCH (o:KafkaOffset) RETURN o.id AS id, o.next_offset AS next';
