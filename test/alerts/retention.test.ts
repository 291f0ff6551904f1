import { beforeEach, describe, expect, it } from 'vitest';
import { pruneAlertDeliveries } from '../../lib/alerts/retention';
import { pruneAfterSweep } from '../../lib/engine/retention';
import { createTestDatabase } from '../helpers/database';
import { capturingLog } from '../reliability/helpers';

// The delivery log ages out with the run history (RUN_RETENTION_DAYS): finished deliveries older
// than that go, pending ones (still owed to a receiver) and younger ones stay. Deleted as the app
// role, which the functions and the local server connect as.
const { sql, appSql } = await createTestDatabase();
const now = new Date('2026-11-29T12:00:00Z');
const DAY = 86_400_000;
let destinationId: string;

beforeEach(async () => {
  await sql`truncate cron_job, cron_alert_destination, cron_alert_delivery cascade`;
  const [destination] = await sql<{ id: string }[]>`
    insert into cron_alert_destination (tenant_id, name, kind, target)
    values ('acme', 'on-call', 'email', 'oncall@example.com') returning id`;
  destinationId = destination!.id;
});

/** One delivery per entry: created that many days before `now`, with that status. */
async function insertDeliveries(entries: Array<[daysAgo: number, status: string]>) {
  for (const [daysAgo, status] of entries) {
    const created = new Date(now.getTime() - daysAgo * DAY);
    await sql`
      insert into cron_alert_delivery (event_id, event_type, destination_id, tenant_id, payload,
        status, next_attempt_at, created_at, delivered_at)
      values (gen_random_uuid(), 'run.failed', ${destinationId}, 'acme',
        ${sql.json({ job: null, run: null })}, ${status}, ${created}, ${created},
        ${status === 'delivered' ? created : null})`;
  }
}

const left = async () =>
  (
    await sql<{ days: number; status: string }[]>`
      select round(extract(epoch from (${now}::timestamptz - created_at)) / 86400)::int as days,
        status
      from cron_alert_delivery order by created_at`
  ).map((row) => `${row.days} ${row.status}`);

describe('delivery log retention', () => {
  it('removes delivered and failed deliveries older than the retention, in batches; pending and younger ones stay', async () => {
    await insertDeliveries([
      [90, 'delivered'],
      [60, 'failed'],
      [45, 'pending'],
      [35, 'delivered'],
      [31, 'failed'],
      [29, 'delivered'],
      [29, 'failed'],
      [1, 'pending'],
    ]);

    const deleted = await pruneAlertDeliveries(appSql, { retentionDays: 30, now, batchSize: 2 });

    expect(deleted).toBe(4);
    expect(await left()).toEqual(['45 pending', '29 delivered', '29 failed', '1 pending']);
    // Again: nothing more to do.
    expect(await pruneAlertDeliveries(appSql, { retentionDays: 30, now, batchSize: 2 })).toBe(0);
  });

  it('runs after each sweep with the run retention, logged with the runs and audit entries it removed', async () => {
    await insertDeliveries([
      [10, 'delivered'],
      [8, 'failed'],
      [3, 'delivered'],
    ]);
    const log = capturingLog();

    await pruneAfterSweep({ sql: appSql, log }, { retentionDays: 7, now });

    expect(await left()).toEqual(['3 delivered']);
    expect(log.entries).toEqual([
      {
        level: 'info',
        message: 'run history pruned',
        extra: expect.objectContaining({
          deleted: 0,
          alert_deliveries_deleted: 2,
          retention_days: 7,
        }),
      },
    ]);
  });
});
