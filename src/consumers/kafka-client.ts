/**
 * Builds the kafkajs client from configuration (brokers, TLS, SASL), with kafkajs' own logs routed
 * to our logger.
 */
import { connect } from 'node:net';
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
 * kafkajs logs every error response in its Connection namespace, including those it then retries
 * (a coordinator still loading on a young broker, a leader not yet elected right after a topic is
 * created, a leader moving). Those are debug lines: an error that is not recovered reaches the
 * caller, which reports it itself.
 */
function kafkaLevel(level: number, namespace: string, message: string): 'error' | 'warn' | 'info' | 'debug' {
  if (level <= KafkaLogLevel.WARN && namespace === 'Connection' && message.startsWith('Response '))
    return 'debug';
  return LEVELS[level] ?? 'info';
}

/** How long `reachableKafka` waits for a TCP connection to a broker. */
export const REACH_TIMEOUT_MS = 3_000;

/** Which setting named the brokers, for the error that says they cannot be reached. */
function brokersSetting(config: Config): string {
  const source = config.sources?.['kafka.brokers'];
  if (source?.startsWith('env ')) return source.slice(4);
  if (source === 'file') return 'kafka.brokers in VARSTREAM_CONFIG';
  if (source === 'flag') return 'the command line';
  return 'the default; set KAFKA_BROKERS';
}

/**
 * The kafkajs client, once one of the brokers answers (within REACH_TIMEOUT_MS, all tried
 * together): a wrong address fails the command at once with one line
 * naming it and the setting, instead of kafkajs's retries (~12 s of connection errors).
 */
export async function reachableKafka(config: Config, logger: Logger): Promise<Kafka> {
  await assertBrokersReachable(config);
  return createKafka(config, logger);
}

/** Resolves when one of the brokers answers; else BrokerUnreachableError (see reachableKafka). */
export async function assertBrokersReachable(config: Config): Promise<void> {
  const failures = await Promise.all(
    config.kafka.brokers.map((broker) => tcpReach(broker, REACH_TIMEOUT_MS, config.kafka.ssl.enabled)),
  );
  if (failures.some((f) => f === undefined)) return;
  const local = config.kafka.brokers.every((b) => /^(127\.0\.0\.1|localhost):/.test(b));
  throw new BrokerUnreachableError(
    `cannot reach a Kafka broker at ${config.kafka.brokers.join(', ')} (${brokersSetting(config)}): ${failures.join('; ')}${local ? '; is the local broker running? `npm run kafka:up` starts it' : ''}`,
  );
}

export class BrokerUnreachableError extends Error {
  override name = 'BrokerUnreachableError';
}

/**
 * undefined when `host:port` answers within `timeoutMs`, else why not. Without TLS it must answer a
 * Kafka ApiVersions request (something else listening there does not count); with TLS a TCP
 * connection is enough here (the handshake is the client's, with its certificates).
 */
function tcpReach(broker: string, timeoutMs: number, tls: boolean): Promise<string | undefined> {
  const at = broker.lastIndexOf(':');
  const host = broker.slice(0, at).replace(/^\[|\]$/g, '');
  const port = Number(broker.slice(at + 1));
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let answered = Buffer.alloc(0);
    const done = (why: string | undefined) => {
      socket.destroy();
      resolve(why);
    };
    socket.setTimeout(timeoutMs, () => done(`${broker}: no answer within ${timeoutMs / 1000} s`));
    socket.once('connect', () => {
      if (tls) return done(undefined);
      // ApiVersions v0 (api key 18), correlation id 1, client id "varstream".
      const clientId = Buffer.from('varstream');
      const body = Buffer.alloc(10 + clientId.length);
      body.writeInt16BE(18, 0);
      body.writeInt16BE(0, 2);
      body.writeInt32BE(1, 4);
      body.writeInt16BE(clientId.length, 8);
      clientId.copy(body, 10);
      const size = Buffer.alloc(4);
      size.writeInt32BE(body.length, 0);
      socket.write(Buffer.concat([size, body]));
    });
    socket.on('data', (chunk: Buffer) => {
      answered = Buffer.concat([answered, chunk]);
      if (answered.length >= 8)
        done(answered.readInt32BE(4) === 1 ? undefined : `${broker}: does not answer as a Kafka broker`);
    });
    socket.once('end', () => done(`${broker}: closed the connection without a Kafka answer`));
    socket.once('error', (error: NodeJS.ErrnoException) => done(`${broker}: ${error.code ?? error.message}`));
  });
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
