import * as z from 'zod/mini';
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
      ._default(z.number().check(z.int(), z.gte(1), z.lte(36500)), 365)
      .check(z.describe('Activities older than this many days are deleted.')),
    batch_size: z
      ._default(z.number().check(z.int(), z.gte(1), z.lte(10000)), 1000)
      .check(z.describe('Rows deleted per statement.')),
    dry_run: z
      ._default(z.boolean(), false)
      .check(z.describe('Only count the activities that would be deleted.')),
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
