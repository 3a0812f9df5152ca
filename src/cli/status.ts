/**
 * `varstream status`: what landed, in one answer. Per pipeline, the group's committed offsets
 * against the end offsets (lag) and its members; the LanceDB tables' rows, versions and indices;
 * the Kuzu graph's nodes and edges (or that a running writer holds it); the dead letters by code.
 * Like `rpk group describe` and DuckDB's `.tables`; nothing is written and no offset moves.
 */
import { type Config, pipelineTopics } from '../config/schema.ts';
import type { GroupState, KafkaInspector, TopicLag } from '../consumers/inspect.ts';
import { type GraphCounts, graphCounts } from '../sinks/kuzu/inspect.ts';
import { lanceTableStats, type TableStats } from '../sinks/lancedb/inspect.ts';

export interface StatusReport {
  brokers: string[];
  group: GroupState;
  topics: TopicLag[];
  lancedb?: { uri: string; tables: TableStats[] };
  kuzu?: { path: string } & GraphCounts;
  deadLetters: {
    topic: string;
    exists: boolean;
    /** Letters on the topic. */
    total: number;
    /** Letters read to count (the last `scan` of each partition at most). */
    read: number;
    complete: boolean;
    byCode: Record<string, number>;
    bySource: Record<string, number>;
  };
}

export async function status(
  kafka: KafkaInspector,
  config: Config,
  options: { dlqScan: number },
): Promise<StatusReport> {
  const topics = pipelineTopics(config);
  const [group, lags] = await Promise.all([
    kafka.groupState(config.kafka.groupId),
    kafka.topicLags(config.kafka.groupId, topics),
  ]);
  const byCode: Record<string, number> = {};
  const bySource: Record<string, number> = {};
  const dlq = await kafka.forEachDeadLetter(
    config.topics.deadLetter,
    (letter) => {
      byCode[letter.code] = (byCode[letter.code] ?? 0) + 1;
      bySource[letter.source.topic] = (bySource[letter.source.topic] ?? 0) + 1;
    },
    { lastPerPartition: options.dlqScan },
  );
  const variants = config.pipelines.includes('variants');
  const lanceTables = [
    ...(variants && config.variants.sinks.includes('lancedb') ? [config.lancedb.variantsTable] : []),
    ...(config.pipelines.includes('embeddings') ? [config.lancedb.embeddingsTable] : []),
  ];
  return {
    brokers: config.kafka.brokers,
    group,
    topics: lags,
    lancedb:
      lanceTables.length > 0
        ? { uri: config.lancedb.uri, tables: await lanceTableStats(config.lancedb.uri, lanceTables) }
        : undefined,
    kuzu:
      variants && config.variants.sinks.includes('kuzu')
        ? { path: config.kuzu.path, ...(await graphCounts(config.kuzu.path)) }
        : undefined,
    deadLetters: { topic: config.topics.deadLetter, ...dlq, byCode, bySource },
  };
}

const n = (x: number) => x.toLocaleString('en-US');

export function formatStatus(r: StatusReport): string {
  const lines: string[] = [];
  const members = r.group.members.map((m) => {
    const parts = Object.entries(m.assignment).map(([t, ps]) => `${t} ${ps.join(',')}`);
    return `${m.clientId}@${m.host}${parts.length > 0 ? ` (${parts.join('; ')})` : ''}`;
  });
  lines.push(
    `group ${r.group.groupId} on ${r.brokers.join(',')}: ${r.group.state}, ${members.length} member${members.length === 1 ? '' : 's'}${members.length > 0 ? `: ${members.join(', ')}` : ''}`,
  );
  for (const t of r.topics) {
    if (!t.exists) {
      lines.push(`topic ${t.topic}: does not exist`);
      continue;
    }
    lines.push(
      `topic ${t.topic}: committed ${n(t.committed)} of ${n(t.end)}, lag ${n(t.lag)}${t.lag === 0 ? ' (caught up)' : ''}`,
    );
    for (const p of t.partitions)
      lines.push(
        `  partition ${p.partition}: committed ${p.committed === undefined ? '-' : n(p.committed)}, end ${n(p.end)}, lag ${n(p.lag)}`,
      );
  }
  if (r.lancedb)
    for (const t of r.lancedb.tables)
      lines.push(
        t.state === 'missing'
          ? `LanceDB ${r.lancedb.uri} table ${t.table}: none yet`
          : `LanceDB ${r.lancedb.uri} table ${t.table}: ${n(t.rows)} rows, version ${t.version}, indices ${t.indices.map((i) => `${i.columns.join(',')} ${i.type}`).join('; ') || 'none'}`,
      );
  if (r.kuzu)
    lines.push(
      r.kuzu.state === 'open'
        ? `Kuzu ${r.kuzu.path}: ${n(r.kuzu.variants)} variants, ${n(r.kuzu.genes)} genes, ${n(r.kuzu.samples)} samples, ${n(r.kuzu.carriedBy)} CARRIED_BY and ${n(r.kuzu.inGene)} IN_GENE edges`
        : `Kuzu ${r.kuzu.path}: ${r.kuzu.reason}`,
    );
  const d = r.deadLetters;
  const codes = Object.entries(d.byCode)
    .sort((a, b) => b[1] - a[1])
    .map(([code, count]) => `${code} ${n(count)}`);
  lines.push(
    !d.exists
      ? `dead letters (${d.topic}): the topic does not exist`
      : `dead letters (${d.topic}): ${n(d.total)}${codes.length > 0 ? `; by code${d.read < d.total ? ` (the last ${n(d.read)})` : ''}: ${codes.join(', ')}` : ''}`,
  );
  return lines.join('\n');
}
