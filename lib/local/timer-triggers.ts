import type { TriggerPort } from '../engine/triggers';

// setTimeout's ceiling (about 24.8 days); longer waits are chained.
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * The trigger port on one machine: an in-process timer per job that asks the engine to run the
 * slot when it comes. Timers die with the process, which is why start-up forgets what was armed.
 */
export function createTimerTriggers(
  fire: (jobId: string, slot: Date) => Promise<unknown>,
): TriggerPort & { close(): void } {
  const timers = new Map<string, NodeJS.Timeout>();
  const schedule = (jobId: string, slot: Date) => {
    const delay = slot.getTime() - Date.now();
    const timer = setTimeout(
      () => {
        if (delay > MAX_DELAY_MS) return schedule(jobId, slot);
        timers.delete(jobId);
        void fire(jobId, slot);
      },
      Math.max(0, Math.min(delay, MAX_DELAY_MS)),
    );
    timer.unref();
    timers.set(jobId, timer);
  };
  return {
    async arm({ job_id, next_run }) {
      clearTimeout(timers.get(job_id));
      schedule(job_id, next_run);
    },
    async disarm(jobId) {
      clearTimeout(timers.get(jobId));
      timers.delete(jobId);
    },
    close() {
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
    },
  };
}
