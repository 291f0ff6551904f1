import * as z from 'zod';
import { defineExecutor } from './types';

export const cleanOldActivities = defineExecutor({
  name: 'cleanOldActivities',
  description:
    'Deletes activities whose created_at is older than retention_days, batch_size rows per ' +
    'statement so locks stay short. Returns { deleted }, or { would_delete, dry_run: true } ' +
    'when dry_run is set. On timeout it stops between batches; deleted batches stay deleted.',
  requiresTables: ['activities'],
  configSchema: z.strictObject({
    retention_days: z
      .number()
      .int()
      .min(1)
      .max(36500)
      .default(365)
      .describe('Activities older than this many days are deleted.'),
    batch_size: z
      .number()
      .int()
      .min(1)
      .max(10000)
      .default(1000)
      .describe('Rows deleted per statement.'),
    dry_run: z
      .boolean()
      .default(false)
      .describe('Only count the activities that would be deleted.'),
  }),
  async run({ sql, config, tenantId, signal, log }) {
    const tenantFilter = tenantId === null ? sql`` : sql`and tenant_id = ${tenantId}`;
    // Fixed once so every batch works towards the same cutoff however long the run takes.
    const [row] = await sql<{ cutoff: Date }[]>`
      select now() - make_interval(days => ${config.retention_days}) as cutoff`;
    const cutoff = row!.cutoff;

    if (config.dry_run) {
      const [counted] = await sql<{ count: number }[]>`
        select count(*)::int as count from activities where created_at < ${cutoff} ${tenantFilter}`;
      return { would_delete: counted!.count, dry_run: true };
    }

    let deleted = 0;
    for (;;) {
      if (signal.aborted) {
        log.warn('cleanOldActivities aborted', { deleted });
        throw new Error(`aborted after deleting ${deleted} activities`, { cause: signal.reason });
      }
      const result = await sql`
        delete from activities
        where id in (
          select id from activities
          where created_at < ${cutoff} ${tenantFilter}
          limit ${config.batch_size}
        )`;
      deleted += result.count;
      log.debug('deleted activity batch', { batch: result.count, deleted });
      if (result.count < config.batch_size) break;
    }
    log.info('cleaned old activities', { deleted });
    return { deleted };
  },
});
