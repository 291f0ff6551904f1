import { beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { fairDueOrder } from '../../lib/engine/claim';
import { sweep } from '../../lib/engine/sweep';
import { createRegistry } from '../../lib/executors/registry';
import { defineExecutor } from '../../lib/executors/types';
import { silentLog } from '../../lib/logger';
import { createTestDatabase } from '../helpers/database';
import { insertJobs } from '../helpers/jobs';

// Priority orders the claim among due jobs, within the fair round-robin across tenants.

const { sql } = await createTestDatabase();
const at = (iso: string) => new Date(iso);
const now = at('2026-12-01T10:00:00Z');

beforeEach(async () => {
  await sql`truncate cron_job cascade`;
});

async function jobs(count: number, tenant: string | null, priority: number, due: string) {
  const ids = await insertJobs(sql, count, {
    name: `${tenant ?? 'global'}/${priority}/${due}`,
    tenant_id: tenant,
    next_run: at(due),
  });
  await sql`update cron_job set priority = ${priority} where id = any(${ids}::uuid[])`;
  return ids;
}

describe('priority', () => {
  it('goes first within a tenant and within a turn, but never lets a tenant hold back another', async () => {
    // The oldest due job, which the sweep's small first claim takes by slot alone.
    await jobs(1, null, 0, '2026-12-01T08:00:00Z');
    await jobs(30, 'a', 0, '2026-12-01T09:00:00Z');
    await jobs(5, 'a', 5, '2026-12-01T09:30:00Z');
    await jobs(3, 'b', -5, '2026-12-01T09:00:00Z');
    await jobs(3, 'b', 0, '2026-12-01T09:10:00Z');
    const registry = createRegistry([
      defineExecutor({
        name: 'noop',
        description: 'does nothing',
        configSchema: z.object({}).loose(),
        run: async () => null,
      }),
    ]);
    const names = new Map(
      (
        await sql<
          { id: string; name: string }[]
        >`select id, split_part(name, ' ', 1) as name from cron_job`
      ).map((row) => [row.id, row.name]),
    );
    const summary = await sweep(
      { sql, registry, log: silentLog },
      { now: () => now, concurrency: 1, firstClaimSize: 1, claimBatchSize: 4 },
    );
    expect(summary.executed).toBe(42);
    const ran = summary.results.map((result) => names.get(result.job_id)!);
    const p = (tenant: string, priority: number, due: string) => `${tenant}/${priority}/${due}`;
    const a5 = p('a', 5, '2026-12-01T09:30:00Z');
    const a0 = p('a', 0, '2026-12-01T09:00:00Z');
    const b0 = p('b', 0, '2026-12-01T09:10:00Z');
    const bLow = p('b', -5, '2026-12-01T09:00:00Z');
    expect(ran).toEqual([
      p('global', 0, '2026-12-01T08:00:00Z'),
      // Turns 1-3: each tenant's highest priority first, and within a turn a's 5 before b's 0.
      a5,
      b0,
      a5,
      b0,
      a5,
      b0,
      // Turns 4-6: b's -5 jobs, older than everything of a's, still come after a's 5s and 0s.
      a5,
      bLow,
      a5,
      bLow,
      a0,
      bLow,
      ...Array.from({ length: 29 }, () => a0),
    ]);
  });

  it('orders a tenant with many high-priority jobs fairly against another tenant', async () => {
    await jobs(200, 'a', 10, '2026-12-01T09:00:00Z');
    await jobs(2, 'b', -10, '2026-12-01T09:59:00Z');
    const ids = await fairDueOrder(sql, { now, maxTimeoutSeconds: 900, limit: 1000 });
    const tenants = await sql<{ id: string; tenant_id: string }[]>`
      select id, tenant_id from cron_job where id = any(${ids}::uuid[])`;
    const tenantOf = new Map(tenants.map((row) => [row.id, row.tenant_id]));
    const positions = ids.flatMap((id, index) => (tenantOf.get(id) === 'b' ? [index] : []));
    // b's two jobs of the lowest priority are each in their tenant's first and second turn.
    expect(positions).toEqual([1, 3]);
  });
});
