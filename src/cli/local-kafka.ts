/** Runs the project's local Apache Kafka script (scripts/kafka/kafka.sh) for the CLI and the demo. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../scripts/kafka/kafka.sh', import.meta.url));

/** Runs `kafka.sh <command>`; throws with the script's exit code when it fails. */
export function localKafka(command: 'up' | 'down' | 'status' | 'reset', quiet = false): void {
  const result = spawnSync('bash', [SCRIPT, command], {
    stdio: quiet ? 'ignore' : ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0) {
    throw new Error(
      `local Kafka "${command}" failed (exit ${result.status ?? result.signal}); see the output above`,
    );
  }
}

export function localBrokerAddress(): string {
  return `127.0.0.1:${process.env.KAFKA_PORT ?? '19092'}`;
}

/**
 * The brokers to use: KAFKA_BROKERS when set; otherwise the local broker, started (or reused)
 * and written to KAFKA_BROKERS so child processes and loadConfig() see it too.
 */
export function brokersOrLocal(): string {
  if (!process.env.KAFKA_BROKERS) {
    localKafka('up');
    process.env.KAFKA_BROKERS = localBrokerAddress();
  }
  return process.env.KAFKA_BROKERS;
}
