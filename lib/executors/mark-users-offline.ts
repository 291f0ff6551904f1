import * as z from 'zod/mini';
import { defineExecutor } from './types';

const presenceTables = ['users', 'employees'] as const;

export const markUsersOffline = defineExecutor({
  name: 'markUsersOffline',
  description:
    "Sets metadata.live_status to 'offline' in users and employees for online rows whose " +
    'metadata.last_seen is older than timeout_minutes, missing or not a valid ISO timestamp. ' +
    'Returns { users, employees }: the number of rows changed in each table.',
  requiresTables: presenceTables,
  configSchema: z.strictObject({
    timeout_minutes: z
      ._default(z.number().check(z.int(), z.gte(1), z.lte(1440)), 5)
      .check(
        z.describe('Minutes without a heartbeat after which an online user is marked offline.'),
      ),
  }),
  async run({ sql, config, tenantId, signal, log }) {
    /**
     * `last_seen` rewritten into the ISO 8601 forms jsonpath's datetime() reads on every
     * supported major: before PostgreSQL 17 it refuses the `Z` that `Date.toISOString()` writes,
     * and no major reads a zone without a colon (`+0530`) or more than 6 fractional digits. So
     * `Z`/`z` becomes `+00:00`, `+hhmm` becomes `+hh:mm` and the fraction is cut to microseconds.
     * Only a JSON string is read; anything else stays unparseable (stale).
     */
    const lastSeenAsPostgresReadsIt = sql`
      case when jsonb_typeof(metadata->'last_seen') = 'string' then
        regexp_replace(
          regexp_replace(
            regexp_replace(metadata->>'last_seen', ${String.raw`(\.\d{6})\d+`}, ${String.raw`\1`}),
            '[Zz]$',
            '+00:00'
          ),
          ${String.raw`([+-]\d{2})(\d{2})$`},
          ${String.raw`\1:\2`}
        )
      end`;
    const tenantFilter = tenantId === null ? sql`` : sql`and tenant_id = ${tenantId}`;
    const timeout = config.timeout_minutes;
    const counts = { users: 0, employees: 0 };
    for (const table of presenceTables) {
      signal.throwIfAborted();
      // jsonpath's datetime() in silent mode yields null instead of raising on a malformed
      // last_seen, so one bad row cannot fail the whole statement; null counts as stale.
      const result = await sql`
        update ${sql(table)}
        set metadata = metadata || '{"live_status":"offline"}'::jsonb
        where metadata->>'live_status' = 'online'
          ${tenantFilter}
          and not coalesce(
            jsonb_path_match_tz(
              jsonb_build_object('last_seen', ${lastSeenAsPostgresReadsIt}),
              'strict $.last_seen.datetime() >= $cutoff.datetime()',
              jsonb_build_object('cutoff', now() - make_interval(mins => ${timeout})),
              silent => true
            ),
            false
          )`;
      counts[table] = result.count;
    }
    log.info('marked users offline', counts);
    return counts;
  },
});
