import { DEFAULT_APP_ROLE, syncAppRole } from './app-role';
import type { Sql } from './db';

export const demoTenants = ['acme', 'globex', 'initech'] as const;

// Any constant works; it only serializes concurrent loads of the demo data.
const DEMO_DATA_LOCK = 7_345_210_982;

/** Stand-ins for the CRM's own tables, which the real CRM owns and our migrations never create. */
const demoSchema = /* sql */ `
create table if not exists users (
  id uuid primary key default gen_random_uuid(),
  tenant_id text not null,
  email text not null,
  name text not null,
  is_active boolean not null default true,
  metadata jsonb not null default '{}'
);
create index if not exists users_tenant on users (tenant_id);

create table if not exists employees (
  id uuid primary key default gen_random_uuid(),
  tenant_id text not null,
  email text not null,
  name text not null,
  is_active boolean not null default true,
  metadata jsonb not null default '{}'
);
create index if not exists employees_tenant on employees (tenant_id);

create table if not exists accounts (
  id uuid primary key default gen_random_uuid(),
  tenant_id text not null,
  name text not null
);
create index if not exists accounts_tenant on accounts (tenant_id);

create table if not exists contacts (
  id uuid primary key default gen_random_uuid(),
  tenant_id text not null,
  account_id uuid references accounts (id),
  name text not null,
  account_name text
);
create index if not exists contacts_tenant on contacts (tenant_id);
create index if not exists contacts_account on contacts (account_id);

create table if not exists opportunities (
  id uuid primary key default gen_random_uuid(),
  tenant_id text not null,
  account_id uuid references accounts (id),
  name text not null,
  account_name text,
  amount numeric
);
create index if not exists opportunities_tenant on opportunities (tenant_id);
create index if not exists opportunities_account on opportunities (account_id);

create table if not exists activities (
  id uuid primary key default gen_random_uuid(),
  tenant_id text not null,
  type text not null,
  subject text,
  created_at timestamptz not null default now()
);
create index if not exists activities_tenant_created on activities (tenant_id, created_at);
create index if not exists activities_created on activities (created_at);
`;

/** The demo CRM's tables: exactly those the built-in executors declare (`requiresTables`). */
export const demoTables = [
  'accounts',
  'activities',
  'contacts',
  'employees',
  'opportunities',
  'users',
] as const;

/**
 * Creates the demo CRM tables when missing; leaves existing ones as they are. Run as the owner;
 * it grants the app role its rights on them, as a migration does on a CRM's tables that exist.
 */
export async function createDemoSchema(sql: Sql, appRole = DEFAULT_APP_ROLE): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${DEMO_DATA_LOCK})`;
    await tx.unsafe(demoSchema);
    await syncAppRole(tx, { role: appRole, executorTables: demoTables });
  });
}

/**
 * Fills the demo tables (see createDemoSchema) when all of them are empty and returns whether it
 * did. Per tenant: 20 users and 8 employees, a quarter each online with last_seen 1 minute ago,
 * online with last_seen exactly 10 minutes ago, online without last_seen, and offline; 10
 * accounts; 40 contacts and 20 opportunities, every tenth with a stale account_name; 60
 * activities, 20 of them 400–419 days old. Ids derive from each row's identity.
 */
export async function loadDemoData(sql: Sql, now: Date = new Date()): Promise<boolean> {
  const minutesAgo = (minutes: number) => new Date(now.getTime() - minutes * 60_000).toISOString();
  const [fresh, stale, old] = [minutesAgo(1), minutesAgo(10), minutesAgo(120)];
  const tenants = [...demoTenants];
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${DEMO_DATA_LOCK})`;
    const [state] = await tx<{ populated: boolean }[]>`
      select exists (select from users) or exists (select from employees)
        or exists (select from accounts) or exists (select from contacts)
        or exists (select from opportunities) or exists (select from activities) as populated`;
    if (state!.populated) return false;

    for (const [table, perTenant] of [
      ['users', 20],
      ['employees', 8],
    ] as const) {
      await tx`
        insert into ${tx(table)} (id, tenant_id, email, name, metadata)
        select
          md5(${table} || ':' || tenant || ':' || i)::uuid,
          tenant,
          ${table} || i || '@' || tenant || '.example',
          initcap(tenant) || ' ' || ${table} || ' ' || i,
          case i % 4
            when 0 then jsonb_build_object('live_status', 'online', 'last_seen', ${fresh}::text)
            when 1 then jsonb_build_object('live_status', 'online', 'last_seen', ${stale}::text)
            when 2 then jsonb_build_object('live_status', 'online')
            else jsonb_build_object('live_status', 'offline', 'last_seen', ${old}::text)
          end
        from unnest(${tenants}::text[]) as tenant, generate_series(1, ${perTenant}) as i`;
    }

    await tx`
      insert into accounts (id, tenant_id, name)
      select
        md5('accounts:' || tenant || ':' || i)::uuid,
        tenant,
        initcap(tenant) || ' Account ' || i
      from unnest(${tenants}::text[]) as tenant, generate_series(1, 10) as i`;

    for (const [table, perTenant] of [
      ['contacts', 40],
      ['opportunities', 20],
    ] as const) {
      const withAmount = table === 'opportunities';
      const amountColumn = withAmount ? tx`, amount` : tx``;
      await tx`
        insert into ${tx(table)} (id, tenant_id, account_id, name, account_name ${amountColumn})
        select
          md5(${table} || ':' || tenant || ':' || i)::uuid,
          tenant,
          a.id,
          initcap(tenant) || ' ' || ${table} || ' ' || i,
          case when i % 10 = 0 then a.name || ' (renamed)' else a.name end
          ${withAmount ? tx`, i * 1500` : tx``}
        from unnest(${tenants}::text[]) as tenant,
          generate_series(1, ${perTenant}) as i,
          accounts as a
        where a.id = md5('accounts:' || tenant || ':' || (i % 10 + 1))::uuid`;
    }

    await tx`
      insert into activities (id, tenant_id, type, subject, created_at)
      select
        md5('activities:' || tenant || ':' || i)::uuid,
        tenant,
        (array['call', 'email', 'meeting', 'note'])[i % 4 + 1],
        'Demo activity ' || i,
        case
          when i <= 20 then ${now}::timestamptz - make_interval(days => 399 + i)
          else ${now}::timestamptz - make_interval(hours => i)
        end
      from unnest(${tenants}::text[]) as tenant, generate_series(1, 60) as i`;
    return true;
  });
}
