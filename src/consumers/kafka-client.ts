/**
 * Builds the kafkajs client from configuration (brokers, TLS, SASL), with kafkajs' own logs routed
 * to our logger.
 */
import {
  type ConsumerConfig,
  Kafka,
  type KafkaConfig,
  logLevel as KafkaLogLevel,
  type LogEntry,
  type SASLOptions,
} from 'kafkajs';
import { ConfigError, readKafkaTls } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../core/logger.ts';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

/**
 * kafkajs logs every error response at ERROR in its Connection namespace, including those it then
 * retries (a coordinator still loading on a young broker, a leader moving). Those are warnings:
 * an error that is not recovered reaches the caller, which logs it as an error itself.
 */
function kafkaLevel(level: number, namespace: string, message: string): 'error' | 'warn' | 'info' | 'debug' {
  if (level === KafkaLogLevel.ERROR && namespace === 'Connection' && message.startsWith('Response '))
    return 'warn';
  return LEVELS[level] ?? 'info';
}

export function createKafka(config: Config, logger: Logger): Kafka {
  const log = logger.child({ component: 'kafkajs' });
  const security = kafkaSecurity(config);
  if (security.sasl?.mechanism === 'plain' && !security.ssl) {
    logger.warn(
      { component: 'kafka-client' },
      'SASL PLAIN without TLS sends the password in clear text; set KAFKA_SSL=true',
    );
  }
  return new Kafka({
    clientId: config.kafka.clientId,
    brokers: config.kafka.brokers,
    ...security,
    logLevel: KafkaLogLevel.WARN,
    logCreator:
      () =>
      ({ level, namespace, log: entry }: LogEntry) => {
        const { message, timestamp: _t, logger: _l, ...rest } = entry;
        log[kafkaLevel(level, namespace, message)]({ namespace, ...rest }, message);
      },
  });
}

/**
 * The `ssl` and `sasl` options of kafkajs for `config.kafka`; neither when TLS and SASL are off.
 * Reads the PEM files `kafka.ssl` names (a ConfigError naming the environment variable if one
 * cannot be read or does not fit).
 */
export function kafkaSecurity(config: Config): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const { ssl, sasl } = config.kafka;
  const options: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  if (ssl.enabled) {
    options.ssl = {
      ...readKafkaTls(config),
      ...(ssl.keyPassword !== undefined && { passphrase: ssl.keyPassword }),
      ...(ssl.servername !== undefined && { servername: ssl.servername }),
      rejectUnauthorized: ssl.rejectUnauthorized,
    };
  }
  if (sasl.mechanism !== undefined) {
    if (sasl.username === undefined || sasl.password === undefined) {
      throw new ConfigError([
        `kafka.sasl (env KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD): required with KAFKA_SASL_MECHANISM=${sasl.mechanism}`,
      ]);
    }
    // One object for the three mechanisms; TypeScript does not spread the union over SASLOptions.
    options.sasl = {
      mechanism: sasl.mechanism,
      username: sasl.username,
      password: sasl.password,
    } as SASLOptions;
  }
  return options;
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
