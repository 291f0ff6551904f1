import * as z from 'zod';
import { defineExecutor } from '../types';

const presenceTables = ['users', 'employees'] as const;

/**
 * The example of docs/adding-an-executor.md. It ships unregistered (not in customExecutors, only in
 * examples/registry.ts), so the deployed system does not offer it until you add it.
 */
export const deactivateDormantUsers = defineExecutor({
  name: 'deactivateDormantUsers',
  description:
    'Sets is_active = false on active users and employees whose metadata.last_seen is older ' +
    'than dormant_days, and records metadata.deactivated_at and metadata.deactivated_reason. ' +
    'Rows without a valid last_seen are left alone. Returns { users, employees }: the rows ' +
    'changed (or, with dry_run, the rows that would change, and dry_run: true).',
  configSchema: z.strictObject({
    dormant_days: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .default(90)
      .describe('Accounts not seen for this many days are deactivated.'),
    dry_run: z.boolean().default(false).describe('Only count the accounts that would change.'),
  }),
  async run({ sql, config, tenantId, signal, log }) {
    // A tenant's job touches that tenant's rows only; a global job (tenantId null) touches all.
    const tenantFilter = tenantId === null ? sql`` : sql`and tenant_id = ${tenantId}`;
    const counts = { users: 0, employees: 0 };
    for (const table of presenceTables) {
      signal.throwIfAborted();
      // In silent mode a malformed last_seen yields null instead of failing the statement.
      const dormant = sql`
        is_active ${tenantFilter}
        and coalesce(
          jsonb_path_match_tz(
            metadata,
            'strict $.last_seen.datetime() < $cutoff.datetime()',
            jsonb_build_object('cutoff', now() - make_interval(days => ${config.dormant_days})),
            silent => true
          ),
          false
        )`;
      if (config.dry_run) {
        const [row] = await sql<{ count: number }[]>`
          select count(*)::int as count from ${sql(table)} where ${dormant}`;
        counts[table] = row!.count;
      } else {
        const result = await sql`
          update ${sql(table)}
          set is_active = false,
            metadata = metadata || jsonb_build_object(
              'deactivated_at', now(), 'deactivated_reason', 'dormant')
          where ${dormant}`;
        counts[table] = result.count;
      }
    }
    log.info('deactivated dormant users', { ...counts, dry_run: config.dry_run });
    return config.dry_run ? { ...counts, dry_run: true } : counts;
  },
});
