import { describeExecutors } from '../lib/executors/describe';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { createDemoSchema } from '../lib/demo-data';
import { createBuiltInRegistry } from '../lib/executors/built-ins';
import { cleanOldActivities } from '../lib/executors/clean-old-activities';
import { markUsersOffline } from '../lib/executors/mark-users-offline';
import { syncDenormalizedFields } from '../lib/executors/sync-denormalized-fields';
import type { ConfigSchema, ExecutorContext, ExecutorDefinition } from '../lib/executors/types';
import { silentLog, type Log } from '../lib/logger';
import { createTestDatabase } from './helpers/database';

const { sql } = await createTestDatabase();

beforeAll(() => createDemoSchema(sql));
beforeEach(async () => {
  await sql`truncate users, employees, contacts, opportunities, accounts, activities`;
});

function contextFor<Schema extends ConfigSchema>(
  executor: ExecutorDefinition<Schema>,
  config: unknown,
  options: { tenantId?: string | null; signal?: AbortSignal; log?: Log } = {},
): ExecutorContext<z.output<Schema>> {
  return {
    sql,
    config: z.parse(executor.configSchema, config),
    tenantId: options.tenantId ?? null,
    attempt: 1,
    signal: options.signal ?? new AbortController().signal,
    secret: async () => null,
    log: options.log ?? silentLog,
  };
}

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

describe('markUsersOffline', () => {
  async function insertPresence(
    table: 'users' | 'employees',
    rows: Array<{ name: string; tenant?: string; metadata: Record<string, unknown> }>,
  ) {
    await sql`
      insert into ${sql(table)} ${sql(
        rows.map((row) => ({
          tenant_id: row.tenant ?? 'acme',
          email: `${row.name}@example.test`,
          name: row.name,
          metadata: sql.json(row.metadata as never),
        })),
      )}`;
  }

  async function presence(table: 'users' | 'employees') {
    const rows = await sql<{ name: string; metadata: Record<string, unknown> }[]>`
      select name, metadata from ${sql(table)} order by name`;
    return Object.fromEntries(rows.map((row) => [row.name, row.metadata]));
  }

  it('defaults to a 5 minute timeout and rejects unknown keys and out-of-range values', () => {
    expect(markUsersOffline.configSchema.parse({})).toEqual({ timeout_minutes: 5 });
    for (const bad of [{ timeout_minute: 5 }, { timeout_minutes: 0 }, { timeout_minutes: 1441 }]) {
      expect(markUsersOffline.configSchema.safeParse(bad).success).toBe(false);
    }
    expect(markUsersOffline.configSchema.safeParse({ timeout_minutes: 2.5 }).success).toBe(false);
  });

  it('marks stale, missing and unparseable presence offline, nothing else', async () => {
    await insertPresence('users', [
      {
        name: 'fresh',
        metadata: { live_status: 'online', last_seen: minutesAgo(1), theme: 'dark' },
      },
      {
        name: 'stale',
        metadata: { live_status: 'online', last_seen: minutesAgo(10), theme: 'dark' },
      },
      { name: 'missing', metadata: { live_status: 'online' } },
      { name: 'null', metadata: { live_status: 'online', last_seen: null } },
      { name: 'garbage', metadata: { live_status: 'online', last_seen: 'yesterday' } },
      {
        name: 'impossible',
        metadata: { live_status: 'online', last_seen: '2024-02-30T00:00:00Z' },
      },
      { name: 'number', metadata: { live_status: 'online', last_seen: 5 } },
      { name: 'array', metadata: { live_status: 'online', last_seen: [minutesAgo(1)] } },
      { name: 'offline', metadata: { live_status: 'offline', last_seen: minutesAgo(120) } },
      { name: 'unknown', metadata: { last_seen: minutesAgo(120) } },
    ]);
    await insertPresence('employees', [
      { name: 'fresh', metadata: { live_status: 'online', last_seen: minutesAgo(2) } },
      { name: 'stale', metadata: { live_status: 'online', last_seen: minutesAgo(6) } },
    ]);
    const users = await presence('users');
    const employees = await presence('employees');

    const result = await markUsersOffline.run(contextFor(markUsersOffline, {}));

    expect(result).toEqual({ users: 7, employees: 1 });
    const offline = (metadata: Record<string, unknown> | undefined) => ({
      ...metadata,
      live_status: 'offline',
    });
    expect(await presence('users')).toEqual({
      ...users,
      stale: offline(users.stale),
      missing: offline(users.missing),
      null: offline(users.null),
      garbage: offline(users.garbage),
      impossible: offline(users.impossible),
      number: offline(users.number),
      array: offline(users.array),
    });
    expect(await presence('employees')).toEqual({ ...employees, stale: offline(employees.stale) });
    expect(await markUsersOffline.run(contextFor(markUsersOffline, {}))).toEqual({
      users: 0,
      employees: 0,
    });
  });

  it('honours timeout_minutes', async () => {
    await insertPresence('users', [
      { name: 'ten', metadata: { live_status: 'online', last_seen: minutesAgo(10) } },
      { name: 'twenty', metadata: { live_status: 'online', last_seen: minutesAgo(20) } },
    ]);
    const result = await markUsersOffline.run(
      contextFor(markUsersOffline, { timeout_minutes: 15 }),
    );
    expect(result).toEqual({ users: 1, employees: 0 });
    const users = await presence('users');
    expect(users.ten?.live_status).toBe('online');
    expect(users.twenty?.live_status).toBe('offline');
  });

  it('confines a tenant job to its tenant', async () => {
    for (const table of ['users', 'employees'] as const) {
      await insertPresence(table, [
        { name: 'acme', tenant: 'acme', metadata: { live_status: 'online' } },
        { name: 'globex', tenant: 'globex', metadata: { live_status: 'online' } },
      ]);
    }
    const result = await markUsersOffline.run(
      contextFor(markUsersOffline, {}, { tenantId: 'acme' }),
    );
    expect(result).toEqual({ users: 1, employees: 1 });
    for (const table of ['users', 'employees'] as const) {
      const rows = await presence(table);
      expect(rows.acme?.live_status).toBe('offline');
      expect(rows.globex?.live_status).toBe('online');
    }
  });
});

describe('cleanOldActivities', () => {
  async function insertActivities(count: number, daysOld: number, tenant = 'acme') {
    await sql`
      insert into activities (tenant_id, type, subject, created_at)
      select ${tenant}, 'note', 'activity ' || i, now() - make_interval(days => ${daysOld})
      from generate_series(1, ${count}) as i`;
  }

  const remaining = async () =>
    sql<{ id: string; tenant_id: string; created_at: Date }[]>`
      select id, tenant_id, created_at from activities order by id`;

  function batchCounter(onBatch: (batches: number) => void = () => {}) {
    let batches = 0;
    const log: Log = {
      ...silentLog,
      debug: (message) => {
        if (message === 'deleted activity batch') onBatch(++batches);
      },
    };
    return { log, batches: () => batches };
  }

  it('defaults to 365 days, batches of 1000, no dry run', () => {
    expect(cleanOldActivities.configSchema.parse({})).toEqual({
      retention_days: 365,
      batch_size: 1000,
      dry_run: false,
    });
    for (const bad of [
      { retention_days: 0 },
      { retention_days: 36501 },
      { batch_size: 0 },
      { batch_size: 10001 },
      { dry_run: 'yes' },
      { retention: 30 },
    ]) {
      expect(cleanOldActivities.configSchema.safeParse(bad).success).toBe(false);
    }
  });

  it('deletes activities older than the retention and keeps the rest', async () => {
    await insertActivities(30, 400);
    await insertActivities(5, 366);
    await insertActivities(5, 364);
    await insertActivities(5, 1);
    const before = await remaining();

    const result = await cleanOldActivities.run(contextFor(cleanOldActivities, {}));

    expect(result).toEqual({ deleted: 35 });
    const cutoff = Date.now() - 365 * 86_400_000;
    expect(await remaining()).toEqual(before.filter((row) => row.created_at.getTime() > cutoff));
  });

  it('deletes in batches of batch_size until a short batch', async () => {
    await insertActivities(30, 400);
    await insertActivities(3, 10);
    const counter = batchCounter();
    const result = await cleanOldActivities.run(
      contextFor(cleanOldActivities, { batch_size: 7 }, { log: counter.log }),
    );
    expect(result).toEqual({ deleted: 30 });
    expect(counter.batches()).toBe(5);
    expect(await remaining()).toHaveLength(3);
  });

  it('only counts in a dry run', async () => {
    await insertActivities(30, 400);
    await insertActivities(3, 10);
    const before = await remaining();
    const result = await cleanOldActivities.run(
      contextFor(cleanOldActivities, { dry_run: true, retention_days: 30 }),
    );
    expect(result).toEqual({ would_delete: 30, dry_run: true });
    expect(await remaining()).toEqual(before);
  });

  it('counts only its own tenant’s activities in a tenant job’s dry run', async () => {
    await insertActivities(10, 400, 'acme');
    await insertActivities(4, 400, 'globex');
    const before = await remaining();
    const result = await cleanOldActivities.run(
      contextFor(cleanOldActivities, { dry_run: true }, { tenantId: 'globex' }),
    );
    expect(result).toEqual({ would_delete: 4, dry_run: true });
    expect(await remaining()).toEqual(before);
  });

  it('confines a tenant job to its tenant', async () => {
    await insertActivities(10, 400, 'acme');
    await insertActivities(10, 400, 'globex');
    const result = await cleanOldActivities.run(
      contextFor(cleanOldActivities, {}, { tenantId: 'globex' }),
    );
    expect(result).toEqual({ deleted: 10 });
    expect(new Set((await remaining()).map((row) => row.tenant_id))).toEqual(new Set(['acme']));
  });

  it('stops between batches once aborted, keeping the batches already deleted', async () => {
    await insertActivities(30, 400);
    const controller = new AbortController();
    const counter = batchCounter((batches) => {
      if (batches === 2) controller.abort(new Error('timeout'));
    });
    await expect(
      cleanOldActivities.run(
        contextFor(
          cleanOldActivities,
          { batch_size: 7 },
          { signal: controller.signal, log: counter.log },
        ),
      ),
    ).rejects.toThrow('aborted after deleting 14 activities');
    expect(await remaining()).toHaveLength(16);
  });

  it('deletes nothing when aborted before it starts', async () => {
    await insertActivities(5, 400);
    const controller = new AbortController();
    controller.abort();
    await expect(
      cleanOldActivities.run(contextFor(cleanOldActivities, {}, { signal: controller.signal })),
    ).rejects.toThrow('aborted after deleting 0 activities');
    expect(await remaining()).toHaveLength(5);
  });
});

describe('syncDenormalizedFields', () => {
  const ids = {
    alpha: '00000000-0000-4000-8000-00000000000a',
    beta: '00000000-0000-4000-8000-00000000000b',
  };

  beforeEach(async () => {
    await sql`
      insert into accounts (id, tenant_id, name)
      values (${ids.alpha}, 'acme', 'Alpha'), (${ids.beta}, 'globex', 'Beta')`;
    await sql`
      insert into contacts (tenant_id, account_id, name, account_name) values
        ('acme', ${ids.alpha}, 'in-sync', 'Alpha'),
        ('acme', ${ids.alpha}, 'renamed', 'Old Alpha'),
        ('acme', ${ids.alpha}, 'blank', null),
        ('acme', null, 'no-account', 'Whatever'),
        ('globex', ${ids.beta}, 'globex-renamed', 'Old Beta'),
        ('globex', ${ids.alpha}, 'cross-tenant', 'Not Alpha')`;
    await sql`
      insert into opportunities (tenant_id, account_id, name, account_name, amount) values
        ('acme', ${ids.alpha}, 'acme-deal', 'Old Alpha', 100),
        ('globex', ${ids.beta}, 'globex-deal', 'Beta', 200)`;
  });

  async function names(table: 'contacts' | 'opportunities') {
    const rows = await sql<{ name: string; account_name: string | null }[]>`
      select name, account_name from ${sql(table)} order by name`;
    return Object.fromEntries(rows.map((row) => [row.name, row.account_name]));
  }

  const snapshot = async () => ({
    contacts: await names('contacts'),
    opportunities: await names('opportunities'),
  });

  it('defaults to the account_name copies on contacts and opportunities', () => {
    const mapping = (table: string) => ({
      table,
      column: 'account_name',
      source_table: 'accounts',
      source_column: 'name',
      foreign_key: 'account_id',
    });
    expect(syncDenormalizedFields.configSchema.parse({})).toEqual({
      mappings: [mapping('contacts'), mapping('opportunities')],
    });
  });

  it('rejects names that are not plain identifiers, unknown keys and empty mappings', () => {
    const valid = syncDenormalizedFields.configSchema.parse({}).mappings[0]!;
    for (const bad of [
      { mappings: [{ ...valid, table: 'users; drop table users' }] },
      { mappings: [{ ...valid, source_column: 'Name' }] },
      { mappings: [{ ...valid, foreign_key: 'a'.repeat(64) }] },
      { mappings: [{ ...valid, where: 'true' }] },
      { mappings: [] },
      { mapping: [] },
    ]) {
      expect(syncDenormalizedFields.configSchema.safeParse(bad).success).toBe(false);
    }
  });

  it('copies differing values within each tenant and touches nothing else', async () => {
    const before = await snapshot();
    const result = await syncDenormalizedFields.run(contextFor(syncDenormalizedFields, {}));
    expect(result).toEqual({
      mappings: [
        { table: 'contacts', column: 'account_name', changed: 3 },
        { table: 'opportunities', column: 'account_name', changed: 1 },
      ],
    });
    expect(await snapshot()).toEqual({
      contacts: {
        ...before.contacts,
        renamed: 'Alpha',
        blank: 'Alpha',
        'globex-renamed': 'Beta',
      },
      opportunities: { ...before.opportunities, 'acme-deal': 'Alpha' },
    });

    const again = await syncDenormalizedFields.run(contextFor(syncDenormalizedFields, {}));
    expect(again).toEqual({
      mappings: [
        { table: 'contacts', column: 'account_name', changed: 0 },
        { table: 'opportunities', column: 'account_name', changed: 0 },
      ],
    });
  });

  it('confines a tenant job to its tenant', async () => {
    const before = await snapshot();
    const result = await syncDenormalizedFields.run(
      contextFor(syncDenormalizedFields, {}, { tenantId: 'globex' }),
    );
    expect(result).toEqual({
      mappings: [
        { table: 'contacts', column: 'account_name', changed: 1 },
        { table: 'opportunities', column: 'account_name', changed: 0 },
      ],
    });
    expect(await snapshot()).toEqual({
      ...before,
      contacts: { ...before.contacts, 'globex-renamed': 'Beta' },
    });
  });

  it.each([
    [{ table: 'nope' }],
    [{ column: 'nope' }],
    [{ source_table: 'leads' }],
    [{ source_column: 'title' }],
    [{ foreign_key: 'company_id' }],
  ])('refuses a mapping outside the declared reach (%o) in its config', (bad) => {
    const [valid] = syncDenormalizedFields.configSchema.parse({}).mappings;
    const parsed = syncDenormalizedFields.configSchema.safeParse({
      mappings: [valid, { ...valid, ...bad }],
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['mappings.1']);
  });
});

describe('built-in registry', () => {
  it('describes the built-in executors with their defaults in JSON Schema', () => {
    const described = describeExecutors(createBuiltInRegistry());
    expect(described.map((executor) => executor.name)).toEqual([
      'markUsersOffline',
      'cleanOldActivities',
      'syncDenormalizedFields',
      'httpRequest',
    ]);
    const schemas = Object.fromEntries(
      described.map((executor) => [executor.name, executor.config_schema as JsonSchema]),
    );
    expect(schemas.markUsersOffline?.properties.timeout_minutes?.default).toBe(5);
    expect(schemas.cleanOldActivities?.properties).toMatchObject({
      retention_days: { default: 365, minimum: 1, maximum: 36500 },
      batch_size: { default: 1000 },
      dry_run: { default: false },
    });
    expect(schemas.syncDenormalizedFields?.properties.mappings?.default).toHaveLength(2);
    for (const schema of Object.values(schemas)) {
      expect(schema.additionalProperties).toBe(false);
    }
    for (const executor of described) expect(executor.description).not.toBe('');
  });
});

interface JsonSchema {
  properties: Record<string, { default?: unknown }>;
  additionalProperties?: unknown;
}
