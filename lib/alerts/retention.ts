import type { Sql } from '../db';

/**
 * Removes finished deliveries (`delivered` or `failed`) created more than `retentionDays` before
 * `now` from the delivery log, oldest first along cron_alert_delivery_recent, `batchSize` per
 * statement, each its own short transaction. The log ages out with the run history it reports
 * (the same RUN_RETENTION_DAYS: one setting for all history). A `pending` delivery stays whatever
 * its age: it is still owed to its receiver (retries end 24 hours after the event, so none is ever
 * that old). Safe beside the delivery workers: they update only `pending` rows, which this never
 * deletes, and beside another prune: a row deleted by one is not found by the other.
 */
export async function pruneAlertDeliveries(
  sql: Sql,
  options: { retentionDays: number; now?: Date; batchSize: number; deadline?: Date },
): Promise<number> {
  const now = options.now ?? new Date();
  const cutoff = new Date(now.getTime() - options.retentionDays * 86_400_000);
  let deleted = 0;
  for (;;) {
    if (options.deadline && Date.now() >= options.deadline.getTime()) break;
    const [batch] = await sql<{ deleted: number }[]>`
      with doomed as (
        select id from cron_alert_delivery
        where created_at < ${cutoff} and status <> 'pending'
        order by created_at
        limit ${options.batchSize}
      ), gone as (
        delete from cron_alert_delivery d using doomed where d.id = doomed.id returning 1
      )
      select count(*)::int as deleted from gone`;
    deleted += batch?.deleted ?? 0;
    if ((batch?.deleted ?? 0) < options.batchSize) break;
  }
  return deleted;
}
