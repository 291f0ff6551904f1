import { randomUUID } from 'node:crypto';
import { decodePageCursor, encodePageCursor } from '../page-cursor';
import type { Caller } from '../identity/caller';
import { tenantScope } from '../jobs/scope';
import type { AlertDeps, DestinationRow } from './destinations';
import { findScoped } from './scope';

/** The event type of a test-send: goes to one destination, whatever its rules. */
export const TEST_EVENT = 'alert.test';

export interface DeliveryRow {
  id: string;
  event_id: string;
  event_type: string;
  destination_id: string;
  rule_id: string | null;
  tenant_id: string | null;
  job_id: string | null;
  run_id: string | null;
  payload: unknown;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  attempt_log: unknown[];
  next_attempt_at: Date;
  created_at: Date;
  delivered_at: Date | null;
  last_status_code: number | null;
  last_latency_ms: number | null;
  last_error: string | null;
}

/** The webhook-id of a delivery: the same on each of its attempts, so receivers can deduplicate. */
export function webhookId(deliveryId: string): string {
  return `msg_${deliveryId}`;
}

/** A delivery as the log shows it: how it went, not what it carried. */
function toDelivery(row: DeliveryRow) {
  return {
    id: row.id,
    webhook_id: webhookId(row.id),
    event_id: row.event_id,
    event_type: row.event_type,
    destination_id: row.destination_id,
    tenant_id: row.tenant_id,
    job_id: row.job_id,
    run_id: row.run_id,
    status: row.status,
    attempts: row.attempts,
    attempt_log: row.attempt_log,
    next_attempt_at: row.status === 'pending' ? row.next_attempt_at : null,
    created_at: row.created_at,
    delivered_at: row.delivered_at,
    last_status_code: row.last_status_code,
    last_latency_ms: row.last_latency_ms,
    last_error: row.last_error,
  };
}

export interface ListDeliveriesQuery {
  status?: string | undefined;
  destination_id?: string | undefined;
  job_id?: string | undefined;
  event_type?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

/**
 * The delivery log, newest first, paged by cursor. Scoped by the destination's tenant: a tenant
 * caller sees what went (or goes) to its own destinations only.
 */
export async function listDeliveries(
  deps: Pick<AlertDeps, 'sql'>,
  caller: Caller,
  query: ListDeliveriesQuery,
) {
  const { sql } = deps;
  const after = query.cursor === undefined ? undefined : decodePageCursor(query.cursor);
  const rows = await sql<(DeliveryRow & { cursor_us: string })[]>`
    select d.*, (extract(epoch from d.created_at) * 1000000)::bigint::text as cursor_us
    from cron_alert_delivery d join cron_alert_destination dest on dest.id = d.destination_id
    where true ${tenantScope(sql, caller, 'dest.tenant_id')}
      ${query.status === undefined ? sql`` : sql`and d.status = ${query.status}`}
      ${query.destination_id === undefined ? sql`` : sql`and d.destination_id = ${query.destination_id}`}
      ${query.job_id === undefined ? sql`` : sql`and d.job_id = ${query.job_id}`}
      ${query.event_type === undefined ? sql`` : sql`and d.event_type = ${query.event_type}`}
      ${
        after === undefined
          ? sql``
          : sql`and (d.created_at, d.id) < (timestamptz 'epoch' + ${after.us}::bigint * interval '1 microsecond', ${after.id}::uuid)`
      }
    order by d.created_at desc, d.id desc
    limit ${query.limit + 1}`;
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    deliveries: page.map(({ cursor_us: _, ...row }) => toDelivery(row)),
    next_cursor:
      rows.length > query.limit && last ? encodePageCursor(last.cursor_us, last.id) : null,
  };
}

/**
 * A test-send: one `alert.test` delivery to the destination, queued like any other (the delivery
 * path is the one under test, and in AWS only it can reach the internet). Returns it pending;
 * GET /alerts/deliveries?destination_id= shows how it went.
 */
export async function testDestination(
  deps: Pick<AlertDeps, 'sql'>,
  caller: Caller,
  id: string,
  now: Date = new Date(),
) {
  const destination = await findScoped<DestinationRow>(
    deps.sql,
    caller,
    'cron_alert_destination',
    id,
  );
  const [row] = await deps.sql<DeliveryRow[]>`
    insert into cron_alert_delivery (event_id, event_type, destination_id, tenant_id, payload,
      next_attempt_at, created_at)
    values (${randomUUID()}, ${TEST_EVENT}, ${destination.id}, ${destination.tenant_id},
      ${deps.sql.json({ test: true, job: null, run: null, destination: { id: destination.id, name: destination.name } })},
      ${now}, ${now})
    returning *`;
  return { delivery: toDelivery(row!) };
}
