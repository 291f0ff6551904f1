import type { Sql, TransactionSql } from './db';

/**
 * The database role the functions (and the local server) connect as: it may read and write the
 * product's tables and the CRM tables the executors declare (`requiresTables`), and nothing
 * else: no DDL, no other table. Migrations alone run as the owner, who creates the role and keeps
 * its grants exact (syncAppRole, at the end of every migrate()).
 */
export const DEFAULT_APP_ROLE = 'crm_cron_app';

type Privilege = 'select' | 'insert' | 'update' | 'delete';
const READ_WRITE: readonly Privilege[] = ['select', 'insert', 'update', 'delete'];

/**
 * The product's tables and what the app role may do with each: the one declaration of its
 * rights. A migration that adds a table adds it here (test/database-role.test.ts fails on a
 * `cron_` table missing from this list, and every test through the API runs as the role).
 */
export const APP_TABLE_PRIVILEGES: Readonly<Record<string, readonly Privilege[]>> = {
  cron_job: READ_WRITE,
  cron_job_run: READ_WRITE,
  cron_job_run_log: READ_WRITE,
  cron_job_secret: READ_WRITE,
  cron_sweep_state: READ_WRITE,
  // Backfill slots: queued by the API, taken by the sweep.
  cron_job_backfill: READ_WRITE,
  cron_alert_destination: READ_WRITE,
  cron_alert_rule: READ_WRITE,
  // The outbox and delivery log: written by the run-outcome statement and the delivery side.
  cron_alert_delivery: READ_WRITE,
  // Written with an upstream job's success; the sweep locks (`for update`, hence update) and
  // deletes what it consumes.
  cron_job_dependency_event: READ_WRITE,
  // Per-tenant caps on runs in progress, set by operators (as the owner): the claim reads a cap
  // and locks its row (`for update`, hence update) while it counts the tenant's runs.
  cron_tenant_limit: ['select', 'update'],
  // The local run queue (npm start with WORKERS=N): sent, taken and deleted by the app; workers
  // lock the rows they take (`for update skip locked`, hence update) before deleting them.
  cron_run_queue: READ_WRITE,
  // Append-only for the app: entries are added, never changed; retention ages them out through
  // cron_job_audit_prune, which deletes nothing younger than a day.
  cron_job_audit: ['select', 'insert'],
  cron_migrations: ['select'],
};

/** Functions the app role may call (security definer, owned by the owner). */
export const APP_FUNCTIONS = ['cron_job_audit_prune(timestamptz, integer)'] as const;

/** What the executors' declared CRM tables grant: they read and write rows, never the schema. */
export const EXECUTOR_TABLE_PRIVILEGES: readonly Privilege[] = READ_WRITE;

/** Tables the product leaves alone although they are named like its own. */
const NOT_PRODUCT_TABLES = new Set(['cron_job_earlier']);

export interface AppRoleReport {
  /** null: the role is turned off (the app connects as the owner). */
  role: string | null;
  created: boolean;
  /** Tables the role was granted rights on. */
  granted: string[];
  /** What could not be done, and why (the migration itself still succeeds). */
  skipped: { object: string; reason: string }[];
}

const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Checks a role name from configuration; it is spliced into GRANT statements as an identifier. */
export function parseAppRole(value: string | undefined): string | null {
  const trimmed = value?.trim();
  if (trimmed === undefined || trimmed === '') return DEFAULT_APP_ROLE;
  if (trimmed === 'none') return null;
  if (!ROLE_NAME.test(trimmed)) {
    throw new Error(
      `the app role must be a lowercase PostgreSQL name (letters, digits, _) or none: got "${trimmed}"`,
    );
  }
  return trimmed;
}

/** The CRM tables the registry's executors declare. */
export function executorTables(registry: {
  list(): readonly { requiresTables?: readonly string[] | undefined }[];
}): string[] {
  return [...new Set(registry.list().flatMap((executor) => executor.requiresTables ?? []))].sort();
}

/**
 * Creates the app role when it is missing and the current user may create roles (a `login` role
 * without a password; on RDS it gets `rds_iam`, so it logs in with IAM tokens only), then makes
 * its grants exactly APP_TABLE_PRIVILEGES on the product's tables, EXECUTOR_TABLE_PRIVILEGES on
 * `executorTables` that exist, and APP_FUNCTIONS. Idempotent. Nothing here fails the migration:
 * a user who may not create roles, or a CRM table owned by someone else, ends up in `skipped`
 * (README "The database role" says what an administrator runs instead). Each step runs in its own
 * savepoint so a refused one leaves the surrounding transaction usable.
 */
export async function syncAppRole(
  tx: TransactionSql,
  options: { role: string | null; executorTables: readonly string[] },
): Promise<AppRoleReport> {
  const { role } = options;
  const report: AppRoleReport = { role, created: false, granted: [], skipped: [] };
  if (role === null) return report;
  if (!ROLE_NAME.test(role)) throw new Error(`invalid app role name "${role}"`);
  const attempt = async (object: string, work: (sp: TransactionSql) => Promise<unknown>) => {
    try {
      await tx.savepoint((sp) => work(sp));
      return true;
    } catch (error) {
      report.skipped.push({ object, reason: (error as Error).message });
      return false;
    }
  };

  const [existing] = await tx`select 1 from pg_roles where rolname = ${role}`;
  if (!existing) {
    const [me] = await tx<{ may: boolean }[]>`
      select rolsuper or rolcreaterole as may from pg_roles where rolname = current_user`;
    if (!me?.may) {
      report.skipped.push({
        object: `role ${role}`,
        reason: `the role does not exist and ${await currentUser(tx)} may not create roles`,
      });
      return report;
    }
    report.created = await attempt(`role ${role}`, (sp) => sp`create role ${sp(role)} login`);
    if (!report.created) return report;
    const [rdsIam] = await tx`select 1 from pg_roles where rolname = 'rds_iam'`;
    if (rdsIam) await attempt(`grant rds_iam`, (sp) => sp`grant rds_iam to ${sp(role)}`);
  }

  const [{ schema } = { schema: 'public' }] = await tx<{ schema: string }[]>`
    select current_schema() as schema`;
  await attempt(`schema ${schema}`, (sp) => sp`grant usage on schema ${sp(schema)} to ${sp(role)}`);
  const declared = Object.keys(APP_TABLE_PRIVILEGES);
  const wanted = [...declared, ...options.executorTables];
  const present = new Set(
    (
      await tx<{ name: string }[]>`
        select table_name as name from information_schema.tables
        where table_schema = current_schema() and table_name in ${tx(wanted)}`
    ).map((row) => row.name),
  );
  const grant = async (table: string, privileges: readonly Privilege[]) => {
    if (!present.has(table)) return;
    const done = await attempt(`table ${table}`, async (sp) => {
      // Revoke first so the grants are exactly the declared ones, also after a declaration shrank.
      await sp`revoke all on table ${sp(table)} from ${sp(role)}`;
      await sp.unsafe(`grant ${privileges.join(', ')} on table ${ident(table)} to ${ident(role)}`);
      // Identity and serial columns draw from sequences the inserts need.
      const sequences = await sp<{ name: string }[]>`
        select s.relname as name from pg_class s
        join pg_depend d on d.objid = s.oid and d.classid = 'pg_class'::regclass
        where s.relkind = 'S' and d.refobjid = ${table}::regclass`;
      for (const { name } of sequences) {
        await sp`grant usage on sequence ${sp(name)} to ${sp(role)}`;
      }
    });
    if (done) report.granted.push(table);
  };
  for (const [table, privileges] of Object.entries(APP_TABLE_PRIVILEGES)) {
    await grant(table, privileges);
  }
  for (const table of options.executorTables) {
    if (!(table in APP_TABLE_PRIVILEGES)) await grant(table, EXECUTOR_TABLE_PRIVILEGES);
  }
  for (const fn of APP_FUNCTIONS) {
    const name = fn.slice(0, fn.indexOf('('));
    const [exists] = await tx`select 1 from pg_proc where proname = ${name}`;
    if (exists) {
      await attempt(`function ${name}`, (sp) =>
        sp.unsafe(`grant execute on function ${fn} to ${ident(role)}`),
      );
    }
  }
  return report;
}

/** Product tables in the current schema (named `cron_…`), for the declaration check. */
export async function productTables(sql: Sql): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    select table_name as name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE'
      and table_name like 'cron\\_%'
    order by 1`;
  return rows.map((row) => row.name).filter((name) => !NOT_PRODUCT_TABLES.has(name));
}

/**
 * Sets the app role's password (local stack and tests, where it logs in with one; in AWS it logs
 * in with IAM tokens). Hex only, so it can be written as a literal: ALTER ROLE takes no parameters.
 */
export async function setAppRolePassword(sql: Sql, role: string, password: string): Promise<void> {
  if (!ROLE_NAME.test(role) || !/^[0-9a-f]{16,}$/.test(password)) {
    throw new Error('setAppRolePassword: a role name and a hex password are required');
  }
  await sql.unsafe(`alter role ${ident(role)} login password '${password}'`);
}

/** The owner's connection string with the app role's user and password in it. */
export function appRoleUrl(ownerUrl: string, role: string, password: string): string {
  const url = new URL(ownerUrl);
  url.username = role;
  url.password = password;
  return url.toString();
}

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

async function currentUser(tx: TransactionSql): Promise<string> {
  const [row] = await tx<{ name: string }[]>`select current_user as name`;
  return row?.name ?? 'the current user';
}
