/** Builds the kafkajs client from configuration, with kafkajs' own logs routed to our logger. */
import { type ConsumerConfig, Kafka, logLevel as KafkaLogLevel, type LogEntry } from 'kafkajs';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../telemetry/logger.ts';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

export function createKafka(config: Config, logger: Logger): Kafka {
  const log = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: config.kafka.clientId,
    brokers: config.kafka.brokers,
    logLevel: KafkaLogLevel.WARN,
    logCreator:
      () =>
      ({ level, namespace, log: entry }: LogEntry) => {
        const { message, timestamp: _t, logger: _l, ...rest } = entry;
        log[LEVELS[level] ?? 'info']({ namespace, ...rest }, message);
      },
  });
}

/** The consumer settings every varstream consumer uses (group, session, fetch sizes). */
export function consumerConfig(config: Config): ConsumerConfig {
  return {
    groupId: config.kafka.groupId,
    sessionTimeout: config.kafka.sessionTimeoutMs,
    maxBytes: config.kafka.fetchMaxBytes,
    maxBytesPerPartition: config.kafka.fetchMaxBytesPerPartition,
    maxWaitTimeInMs: config.kafka.fetchMaxWaitMs,
    allowAutoTopicCreation: false,
  };
}
