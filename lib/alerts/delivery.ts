import { jsonb, type Sql } from '../db';
import type { Log } from '../logger';
import { deliveryRetrySchedule, nextAttemptAt, type DeliveryRetrySchedule } from './retry-schedule';
import {
  attemptDelivery,
  type AttemptResult,
  type DeliveryTask,
  type SenderSettings,
} from './send';

/**
 * The delivery side of the outbox (lib/alerts/outbox.ts): claim due deliveries, attempt them,
 * record how each went. Runs apart from the sweep (locally a loop in the `npm start` process; in
 * AWS the alert functions, infra/alerts.ts), so a slow or dead receiver never delays a sweep.
 *
 * Concurrency: a claim takes due rows `for update skip locked` and moves their `next_attempt_at`
 * past the attempt's longest duration (the lease), so two workers never attempt one delivery at
 * once, and a worker that dies mid-attempt leaves it due again after the lease. A result is
 * recorded only while its delivery is `pending`. A delivery can therefore be attempted again after
 * a crash between sending and recording: receivers see the same `webhook-id` and drop it.
 */

export interface DeliveryOptions {
  /** The clock attempts are scheduled by; tests move it. */
  now?: () => Date;
  /** Deliveries claimed per round. */
  batchSize?: number;
  /** Attempts in flight at once. */
  concurrency?: number;
  schedule?: DeliveryRetrySchedule;
  /** No batch is claimed after this instant (a Lambda's remaining time). */
  deadline?: Date;
}

export interface DeliveryPass {
  attempted: number;
  delivered: number;
  retrying: number;
  failed: number;
}

/** Claims up to `limit` due deliveries and leases them for `leaseMs`. */
export async function claimDueDeliveries(
  sql: Sql,
  options: { now: Date; limit: number; leaseMs: number },
): Promise<DeliveryTask[]> {
  const { now, limit, leaseMs } = options;
  const rows = await sql<
    (Omit<DeliveryTask, 'destination'> & {
      destination_id: string;
      kind: DeliveryTask['destination']['kind'];
      target: string;
      secret: string | null;
    })[]
  >`
    with due as (
      select id from cron_alert_delivery
      where status = 'pending' and next_attempt_at <= ${now}
      order by next_attempt_at
      limit ${limit}
      for update skip locked
    )
    update cron_alert_delivery d
    set next_attempt_at = ${new Date(now.getTime() + leaseMs)}
    from due, cron_alert_destination dest
    where d.id = due.id and dest.id = d.destination_id
    returning d.id, d.event_id, d.event_type, d.created_at, d.tenant_id, d.payload, d.attempts,
      dest.id as destination_id, dest.kind, dest.target, dest.secret`;
  return rows.map(({ destination_id, kind, target, secret, ...task }) => ({
    ...task,
    destination: { id: destination_id, kind, target, secret },
  }));
}

export interface RecordedAttempt extends AttemptResult {
  at: Date;
  /** The next attempt; null: none (delivered, or given up). */
  next_attempt_at: Date | null;
}

/**
 * Records attempts in one statement: delivered, pending with its next attempt, or failed (given
 * up). A destination whose delivery was given up becomes `failing`; one that took a delivery is
 * `active` again.
 */
export async function recordAttempts(sql: Sql, attempts: RecordedAttempt[]): Promise<void> {
  if (attempts.length === 0) return;
  await sql`
    with r as (
      select * from jsonb_to_recordset(${jsonb(sql, attempts)}) as r(
        delivery_id uuid, ok boolean, status_code integer, latency_ms integer, error text,
        at timestamptz, next_attempt_at timestamptz)
    ), recorded as (
      update cron_alert_delivery d set
        attempts = d.attempts + 1,
        attempt_log = d.attempt_log || jsonb_build_array(jsonb_build_object('at', r.at,
          'status_code', r.status_code, 'latency_ms', r.latency_ms, 'error', r.error)),
        last_status_code = r.status_code, last_latency_ms = r.latency_ms, last_error = r.error,
        status = case when r.ok then 'delivered'
          when r.next_attempt_at is null then 'failed' else 'pending' end,
        delivered_at = case when r.ok then r.at end,
        next_attempt_at = coalesce(r.next_attempt_at, r.at)
      from r
      where d.id = r.delivery_id and d.status = 'pending'
      returning d.destination_id, d.status, r.error, r.at
    ), verdict as (
      select destination_id, bool_or(status = 'delivered') as took_one,
        bool_or(status = 'failed') as gave_up, max(at) as at,
        (array_agg(error order by at desc) filter (where status = 'failed'))[1] as error
      from recorded group by destination_id
    )
    update cron_alert_destination dest set
      status = case when v.took_one then 'active' else 'failing' end,
      status_changed_at = v.at,
      last_error = case when v.took_one then null else v.error end
    from verdict v
    where dest.id = v.destination_id
      and dest.status <> case when v.took_one then 'active' else 'failing' end
      and (v.took_one or v.gave_up)`;
}

/**
 * Delivers what is due until nothing is, a batch at a time, `concurrency` attempts at once.
 * Never throws for a receiver's failure (that is a recorded attempt); throws when the database
 * fails, leaving claimed deliveries to come due again after their lease.
 */
export async function deliverDue(
  deps: { sql: Sql; log: Log; senders: SenderSettings },
  options: DeliveryOptions = {},
): Promise<DeliveryPass> {
  const now = options.now ?? (() => new Date());
  const batchSize = options.batchSize ?? 100;
  const concurrency = options.concurrency ?? 8;
  const schedule = options.schedule ?? deliveryRetrySchedule;
  // The longest an attempt can take, plus room to record it.
  const leaseMs = deps.senders.timeoutMs * 2 + 30_000;
  const pass: DeliveryPass = { attempted: 0, delivered: 0, retrying: 0, failed: 0 };
  for (;;) {
    if (options.deadline && Date.now() >= options.deadline.getTime()) return pass;
    const tasks = await claimDueDeliveries(deps.sql, { now: now(), limit: batchSize, leaseMs });
    if (tasks.length === 0) return pass;
    const recorded: RecordedAttempt[] = [];
    let next = 0;
    const worker = async () => {
      for (let task = tasks[next++]; task; task = tasks[next++]) {
        const result = await attemptDelivery(task, deps.senders);
        const at = now();
        const retryAt = result.ok
          ? null
          : nextAttemptAt(task.created_at, at, task.attempts + 1, schedule);
        recorded.push({ ...result, at, next_attempt_at: retryAt });
        pass.attempted += 1;
        if (result.ok) pass.delivered += 1;
        else if (retryAt) pass.retrying += 1;
        else {
          pass.failed += 1;
          deps.log.warn('alert delivery gave up after its retries', {
            delivery_id: task.id,
            destination_id: task.destination.id,
            attempts: task.attempts + 1,
            error: result.error,
          });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, worker));
    await recordAttempts(deps.sql, recorded);
    if (tasks.length < batchSize) return pass;
  }
}
