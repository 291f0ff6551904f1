import type { Sql } from '../db';
import type { Log } from '../logger';
import { deliverDue } from './delivery';
import type { SenderSettings } from './send';

export interface DeliveryLoop {
  /** Start a pass now (after a sweep wrote new events) instead of at the next tick. */
  kick(): void;
  /** Stops the timer and waits for a pass under way. */
  close(): Promise<void>;
}

/**
 * Delivers alerts every `intervalMs` in this process (`npm start`): one pass at a time; a kick
 * during a pass runs one more after it. It shares nothing with the sweep but the database, so a
 * slow receiver delays only other deliveries. A failed pass is logged; the next tick tries again.
 */
export function startDeliveryLoop(deps: {
  sql: Sql;
  log: Log;
  senders: SenderSettings;
  intervalMs: number;
}): DeliveryLoop {
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;
  const pass = (): void => {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = deliverDue(deps)
      .then((result) => {
        if (result.attempted > 0) deps.log.info('alerts delivered', { ...result });
      })
      .catch((error: unknown) =>
        deps.log.error('alert delivery failed', { error: (error as Error).message }),
      )
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          pass();
        }
      });
  };
  const timer = setInterval(pass, deps.intervalMs);
  timer.unref();
  return {
    kick: pass,
    async close() {
      closed = true;
      clearInterval(timer);
      await running;
    },
  };
}
