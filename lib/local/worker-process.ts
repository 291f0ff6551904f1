import * as z from 'zod';
import { connect } from '../db';
import type { ExecutorRegistry } from '../executors/registry';
import { createLogger, logLevels } from '../logger';
import { runQueueWorker } from './queue-worker';

const workerEnvironment = z.object({
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// connection string'),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  LOG_LEVEL: z.enum(logLevels).default('info'),
});

/**
 * A local worker process (npm start with WORKERS=N starts N of these): runs queued runs until
 * SIGTERM or SIGINT, then finishes the runs in progress, writes their outcomes and exits 0.
 */
export async function startWorkerProcess(registry: ExecutorRegistry): Promise<void> {
  const settings = workerEnvironment.parse(process.env);
  const log = createLogger(settings.LOG_LEVEL, 'crm-cron-worker');
  const sql = connect(settings.DATABASE_URL, { max: Math.min(settings.WORKER_CONCURRENCY, 8) + 2 });
  const stop = new AbortController();
  process.on('SIGTERM', () => stop.abort());
  process.on('SIGINT', () => stop.abort());
  log.info('worker started', { pid: process.pid, concurrency: settings.WORKER_CONCURRENCY });
  const counts = await runQueueWorker({
    sql,
    registry,
    log,
    concurrency: settings.WORKER_CONCURRENCY,
    signal: stop.signal,
  });
  log.info('worker stopped', { pid: process.pid, ...counts });
  await sql.end({ timeout: 5 });
}
