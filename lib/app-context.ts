import type { Sql } from './db';
import type { ExecutorRegistry } from './executors/registry';
import type { Log } from './logger';
import type { TriggerPort } from './engine/triggers';
import type { AlertSettings } from './alerts/settings';
import type { RunQueue } from './engine/run-queue';

/**
 * What the job service, the engine and the HTTP handlers need, built once at start-up (Lambda
 * cold start or `npm start`) and passed down explicitly.
 */
export interface AppContext {
  sql: Sql;
  registry: ExecutorRegistry;
  log: Log;
  /** Exact-time triggers for precise and one-off jobs; absent where they are not configured. */
  triggers?: TriggerPort | undefined;
  /** How alert destination URLs are checked; absent: the default guard (public https only). */
  alerts?: AlertSettings | undefined;
  /**
   * Where run-now (and, with workers, the sweep) hands runs: SQS in AWS, the local queue table
   * with WORKERS=N. Absent: they start in this process after the request is answered.
   */
  runQueue?: RunQueue | undefined;
  settings: {
    /** Seconds between scheduled sweeps; schedules firing more often get a warning. */
    sweepIntervalSeconds: number;
    /** Jobs a sweep runs at once. */
    sweepConcurrency: number;
  };
}
