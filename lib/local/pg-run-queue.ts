import type { Sql } from '../db';
import type { RunQueue } from '../engine/run-queue';
import { pickUpRuns, type PickedRun } from '../engine/run-state';

/** Worker processes LISTEN here; every send NOTIFYs it. */
export const RUN_QUEUE_CHANNEL = 'cron_run_queue';

/**
 * The local stand-in of SQS: a table of run ids. Sending inserts them and wakes the workers in
 * the same statement (NOTIFY is delivered when it commits).
 */
export function createPgRunQueue(sql: Sql): RunQueue {
  return {
    send: async (runIds) => {
      if (runIds.length === 0) return;
      await sql`
        with queued as (
          insert into cron_run_queue (run_id) select unnest(${runIds}::uuid[]) returning 1
        )
        select pg_notify(${RUN_QUEUE_CHANNEL}, count(*)::text) from queued`;
    },
  };
}

/**
 * Takes the oldest `limit` queued runs and picks them up (pickUpRuns) in one transaction, so a
 * message is never gone without its run having been picked up: a worker killed afterwards leaves
 * `running` runs whose lease runs out, and a sweep declares them lost. Several workers take at
 * once without waiting on each other (skip locked).
 */
export async function takeQueuedRuns(
  sql: Sql,
  limit: number,
  times: { now: Date; deadline: Date },
): Promise<PickedRun[]> {
  return sql.begin(async (tx) => {
    const taken = await tx<{ run_id: string }[]>`
      delete from cron_run_queue
      where seq in (
        select seq from cron_run_queue order by seq limit ${limit} for update skip locked)
      returning run_id`;
    return pickUpRuns(
      tx,
      taken.map((row) => row.run_id),
      times,
    );
  });
}
