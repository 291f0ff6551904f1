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

/** Structured JSON logs, the same shape in Lambda and locally. */
export function createLogger(level: LogLevel, serviceName = 'crm-cron'): Logger {
  return new Logger({ serviceName, logLevel: level.toUpperCase() as Uppercase<LogLevel> });
}

/** A logger that drops everything, for tests and benchmarks. */
export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };
