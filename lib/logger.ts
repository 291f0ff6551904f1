import { Logger } from '@aws-lambda-powertools/logger';

export const logLevels = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof logLevels)[number];

/** The narrow logging surface the engine and executors depend on. */
export interface Log {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** Structured JSON logs (Powertools), the same shape in Lambda and locally. */
export function createLogger(
  level: LogLevel,
  serviceName = 'crm-cron',
): Log & { powertools: Logger } {
  const logger = new Logger({ serviceName, logLevel: level.toUpperCase() as Uppercase<LogLevel> });
  const emit =
    (write: (message: string, ...extra: Record<string, unknown>[]) => void) =>
    (message: string, extra?: Record<string, unknown>) =>
      extra ? write.call(logger, message, extra) : write.call(logger, message);
  return {
    debug: emit(logger.debug),
    info: emit(logger.info),
    warn: emit(logger.warn),
    error: emit(logger.error),
    powertools: logger,
  };
}

/** A logger that drops everything, for tests and benchmarks. */
export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };
