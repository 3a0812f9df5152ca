/** The lag poller's offset readers (telemetry/lag-poller.ts's LagPollerOptions) on a kafkajs admin client. */
import type { Admin } from 'kafkajs';
import type { LagPollerOptions } from '../telemetry/lag-poller.ts';

/** LagPoller's offset functions from a connected kafkajs admin client. */
export function adminOffsets(
  admin: Pick<Admin, 'fetchTopicOffsets' | 'fetchOffsets'>,
  groupId: string,
): Pick<LagPollerOptions, 'endOffsets' | 'committedOffsets'> {
  return {
    endOffsets: async (topics) => {
      const perTopic = await Promise.all(
        topics.map(async (topic) =>
          (await admin.fetchTopicOffsets(topic)).map((o) => ({
            topic,
            partition: o.partition,
            high: Number(o.high),
            low: Number(o.low),
          })),
        ),
      );
      return perTopic.flat();
    },
    committedOffsets: async (topics) => {
      const result = await admin.fetchOffsets({ groupId, topics: [...topics] });
      return result.flatMap(({ topic, partitions }) =>
        partitions.map((p) => ({ topic, partition: p.partition, offset: Number(p.offset) })),
      );
    },
  };
}
