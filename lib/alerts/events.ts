/**
 * The events an alert rule can ask for. Failure events and `job.recovered` carry the job's count
 * of consecutive failed slots, which a rule's `after_consecutive_failures` compares against.
 */
export const ALERT_EVENTS = [
  'run.failed',
  'run.timed_out',
  'run.lost',
  'job.recovered',
  'job.auto_paused',
  'slot.missed',
] as const;

export type AlertEventType = (typeof ALERT_EVENTS)[number];

/** Events a rule's `after_consecutive_failures` applies to; the others always match. */
export const COUNTED_EVENTS: readonly AlertEventType[] = [
  'run.failed',
  'run.timed_out',
  'run.lost',
  'job.recovered',
];

export const EVENT_DESCRIPTIONS: Record<AlertEventType, string> = {
  'run.failed':
    'a slot failed: its last attempt ended in an error (a retry pending is not yet a failure)',
  'run.timed_out': "a slot failed: its last attempt ran past the job's timeout_seconds",
  'run.lost': "a slot failed: its last attempt's process stopped (lease expired)",
  'job.recovered': 'the first success after failed slots (as many as after_consecutive_failures)',
  'job.auto_paused': 'the engine paused the job after pause_after_failures failed slots',
  'slot.missed':
    'slots passed without a run were recorded as missed: one event per missed run (a gap of consecutive slots), with its first and last slot and how many',
};

/** What a delivery sends: the event as the outbox stored it (the webhook body's `data`). */
export interface AlertEventData {
  job: { id: string; name: string; tenant_id: string | null; function_name: string } | null;
  run: {
    id: string;
    status: string;
    trigger: string;
    attempt: number;
    scheduled_for: string | null;
    finished_at: string | null;
    duration_ms: number | null;
    error: string | null;
  } | null;
  consecutive_failures?: number;
  /** `slot.missed`: the gap of slots one missed run records (first and last inclusive). */
  missed?: { first: string; last: string; count: number };
  /** Set on a test-send. */
  test?: boolean;
}
