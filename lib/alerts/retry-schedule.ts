/**
 * When a failed delivery is tried again: exponential backoff from `firstDelaySeconds`, doubling
 * per attempt up to `maxDelaySeconds`, for `windowSeconds` after the event. An attempt that would
 * start later than that is not made: the delivery is given up (`failed`) and its destination
 * marked `failing`. With the defaults: 30 s, 1, 2, 4, … min, then every 4 h, about 14 attempts.
 */
export const deliveryRetrySchedule = {
  firstDelaySeconds: 30,
  maxDelaySeconds: 4 * 60 * 60,
  windowSeconds: 24 * 60 * 60,
};

export type DeliveryRetrySchedule = typeof deliveryRetrySchedule;

/**
 * The next attempt after `attempts` failed ones (1 = the first failed), or null when it would
 * fall outside the window that started at `eventAt`.
 */
export function nextAttemptAt(
  eventAt: Date,
  failedAt: Date,
  attempts: number,
  schedule: DeliveryRetrySchedule = deliveryRetrySchedule,
): Date | null {
  const delay = Math.min(
    schedule.maxDelaySeconds,
    schedule.firstDelaySeconds * 2 ** Math.min(attempts - 1, 30),
  );
  const next = new Date(failedAt.getTime() + delay * 1000);
  return next.getTime() - eventAt.getTime() > schedule.windowSeconds * 1000 ? null : next;
}
