import type { Sql } from './db';
import type { ExecutorRegistry } from './executors/registry';
import type { Log } from './logger';

/**
 * What the job service, the engine and the HTTP handlers need, built once at start-up (Lambda
 * cold start or `npm start`) and passed down explicitly.
 */
export interface AppContext {
  sql: Sql;
  registry: ExecutorRegistry;
  log: Log;
  settings: {
    /** Seconds between scheduled sweeps; schedules firing more often get a warning. */
    sweepIntervalSeconds: number;
    /** Jobs a sweep runs at once. */
    sweepConcurrency: number;
  };
}
