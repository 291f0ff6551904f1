import { beforeAll, describe, expect, it } from 'vitest';
import { createDemoSchema, demoTenants, loadDemoData } from '../lib/demo-data';
import { cleanOldActivities } from '../lib/executors/clean-old-activities';
import { markUsersOffline } from '../lib/executors/mark-users-offline';
import { syncDenormalizedFields } from '../lib/executors/sync-denormalized-fields';
import type { ExecutorContext } from '../lib/executors/types';
import { silentLog } from '../lib/logger';
import { createTestDatabase } from './helpers/database';

const { sql } = await createTestDatabase({ migrated: false });
const tables = ['users', 'employees', 'accounts', 'contacts', 'opportunities', 'activities'];

async function rowCounts() {
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const [row] = await sql<{ count: number }[]>`select count(*)::int as count from ${sql(table)}`;
    counts[table] = row!.count;
  }
  return counts;
}

const context = <Config>(config: Config): ExecutorContext<Config> => ({
  sql,
  config,
  tenantId: null,
  attempt: 1,
  signal: new AbortController().signal,
  secret: async () => null,
  log: silentLog,
});

describe('demo data', () => {
  let loaded: boolean;

  beforeAll(async () => {
    await createDemoSchema(sql);
    await createDemoSchema(sql);
    loaded = await loadDemoData(sql);
  });

  it('loads a few hundred rows over three tenants into empty tables', async () => {
    expect(loaded).toBe(true);
    expect(await rowCounts()).toEqual({
      users: 60,
      employees: 24,
      accounts: 30,
      contacts: 120,
      opportunities: 60,
      activities: 180,
    });
    for (const table of tables) {
      const rows = await sql<{ tenant_id: string }[]>`
        select distinct tenant_id from ${sql(table)} order by tenant_id`;
      expect(rows.map((row) => row.tenant_id)).toEqual([...demoTenants]);
    }
  });

  it('loads nothing a second time', async () => {
    const before = await rowCounts();
    expect(await loadDemoData(sql)).toBe(false);
    expect(await rowCounts()).toEqual(before);
  });

  it('has fresh, stale, missing and offline presence in users and employees', async () => {
    for (const [table, perKind] of [
      ['users', 15],
      ['employees', 6],
    ] as const) {
      const rows = await sql<{ kind: string; count: number }[]>`
        select
          case
            when metadata->>'live_status' = 'offline' then 'offline'
            when not metadata ? 'last_seen' then 'missing'
            when (metadata->>'last_seen')::timestamptz > now() - interval '5 minutes' then 'fresh'
            else 'stale'
          end as kind,
          count(*)::int as count
        from ${sql(table)} group by 1 order by 1`;
      expect(rows).toEqual(
        ['fresh', 'missing', 'offline', 'stale'].map((kind) => ({ kind, count: perKind })),
      );
    }
  });

  it('gives every built-in job real work', async () => {
    expect(
      await cleanOldActivities.run(
        context(cleanOldActivities.configSchema.parse({ dry_run: true })),
      ),
    ).toEqual({ would_delete: 60, dry_run: true });
    expect(
      await syncDenormalizedFields.run(context(syncDenormalizedFields.configSchema.parse({}))),
    ).toEqual({
      mappings: [
        { table: 'contacts', column: 'account_name', changed: 12 },
        { table: 'opportunities', column: 'account_name', changed: 6 },
      ],
    });
  });

  // The earlier system's integration scenario, on the demo rows.
  it('takes 10-minute-old users offline while recent ones stay online', async () => {
    const stale = await sql<{ id: string }[]>`
      select id from users where metadata ? 'last_seen' and metadata->>'live_status' = 'online'
        and (metadata->>'last_seen')::timestamptz < now() - interval '9 minutes'`;
    expect(stale).toHaveLength(15);

    const result = await markUsersOffline.run(context(markUsersOffline.configSchema.parse({})));

    expect(result).toEqual({ users: 30, employees: 12 });
    const [counts] = await sql<{ online: number; offline: number; stale_online: number }[]>`
      select
        count(*) filter (where metadata->>'live_status' = 'online')::int as online,
        count(*) filter (where metadata->>'live_status' = 'offline')::int as offline,
        count(*) filter (
          where metadata->>'live_status' = 'online' and id in ${sql(stale.map((row) => row.id))}
        )::int as stale_online
      from users`;
    expect(counts).toEqual({ online: 15, offline: 45, stale_online: 0 });
  });
});
