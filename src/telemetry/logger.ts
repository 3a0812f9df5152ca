/** Structured JSON logs (pino). One root logger per process; components take children of it. */
import { pino } from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { service: 'varstream' }, timestamp: pino.stdTimeFunctions.isoTime });
}
