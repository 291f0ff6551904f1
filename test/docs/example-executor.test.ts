import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { deactivateDormantUsers } from '../../lib/executors/custom/deactivate-dormant-users';
import { createExampleRegistry } from '../../examples/registry';
import { createDemoSchema, loadDemoData } from '../../lib/demo-data';
import { executeJob } from '../../lib/engine/execute';
import { silentLog } from '../../lib/logger';
import { createTestDatabase } from '../helpers/database';

const { sql } = await createTestDatabase();
await createDemoSchema(sql);
const deps = { sql, registry: createExampleRegistry(), log: silentLog };

beforeEach(async () => {
  await sql`truncate users, employees, accounts, contacts, opportunities, activities`;
  await loadDemoData(sql);
  // The demo's offline users of acme and globex were last seen 200 days ago.
  await sql`
    update users
    set metadata = jsonb_set(metadata, '{last_seen}', to_jsonb(now() - interval '200 days'))
    where tenant_id in ('acme', 'globex') and metadata->>'live_status' = 'offline'`;
});

/** Runs the executor the way the engine does: config parsed, defaults filled, under a timeout. */
const run = (tenantId: string | null, metadata: Record<string, unknown> = {}) =>
  executeJob(
    {
      id: randomUUID(),
      name: 'test',
      tenant_id: tenantId,
      function_name: 'deactivateDormantUsers',
      metadata,
      timeout_seconds: 10,
      attempt: 1,
    },
    deps,
  );

const inactiveUsers = async (tenantId: string) => {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from users
    where tenant_id = ${tenantId} and not is_active and metadata->>'deactivated_reason' = 'dormant'`;
  return row!.n;
};

describe('deactivateDormantUsers', () => {
  it("deactivates the dormant users of the job's tenant, and no one else", async () => {
    const outcome = await run('acme');
    expect(outcome).toMatchObject({ status: 'success', result: { users: 5, employees: 0 } });
    expect(await inactiveUsers('acme')).toBe(5);
    expect(await inactiveUsers('globex')).toBe(0);
    // Already inactive: a second run changes nothing.
    expect((await run('acme')).result).toEqual({ users: 0, employees: 0 });
  });

  it('a global job covers every tenant', async () => {
    expect((await run(null)).result).toEqual({ users: 10, employees: 0 });
  });

  it('dry_run counts without changing anything; dormant_days moves the cutoff', async () => {
    expect((await run('acme', { dry_run: true })).result).toEqual({
      users: 5,
      employees: 0,
      dry_run: true,
    });
    expect(await inactiveUsers('acme')).toBe(0);
    expect((await run('acme', { dormant_days: 365 })).result).toEqual({ users: 0, employees: 0 });
  });

  it('refuses a config outside its schema', async () => {
    expect(deactivateDormantUsers.configSchema.safeParse({ dormant_days: 0 }).success).toBe(false);
    const outcome = await run('acme', { dormant_days: 'ninety' });
    expect(outcome.status).toBe('error');
    expect(outcome.error).toMatch(/^invalid config: dormant_days/);
  });
});
