import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import postgres from 'postgres';
import {
  APP_TABLE_PRIVILEGES,
  appRoleUrl,
  DEFAULT_APP_ROLE,
  productTables,
  setAppRolePassword,
} from '../lib/app-role';
import { connect, type Sql } from '../lib/db';
import { createDemoSchema } from '../lib/demo-data';
import { pruneAfterSweep } from '../lib/engine/retention';
import { sweep } from '../lib/engine/sweep';
import { createBuiltInRegistry } from '../lib/executors/built-ins';
import { silentLog } from '../lib/logger';
import { migrateWithReport } from '../lib/migrate';
import { createTestDatabase } from './helpers/database';

const { sql, appSql, url } = await createTestDatabase();
await createDemoSchema(sql);
// A CRM table no executor declares: the app role must not reach it.
await sql`create table invoices (id serial primary key, tenant_id text not null, total numeric)`;
await sql`insert into invoices (tenant_id, total) values ('acme', 100)`;

/** The SQLSTATE a statement fails with (undefined when it succeeds). */
async function failureCode(statement: Promise<unknown>): Promise<string | undefined> {
  try {
    await statement;
    return undefined;
  } catch (error) {
    if (error instanceof postgres.PostgresError) return error.code;
    throw error;
  }
}
const INSUFFICIENT_PRIVILEGE = '42501';

describe('the app role crm_cron_app', () => {
  it('is who the app logs in as', async () => {
    const [who] = await appSql<{ user: string; superuser: string }[]>`
      select current_user as user, current_setting('is_superuser') as superuser`;
    expect(who).toEqual({ user: DEFAULT_APP_ROLE, superuser: 'off' });
  });

  it('may not change the schema: create, alter, drop and truncate all fail', async () => {
    for (const statement of [
      appSql`create table sneaky (id int)`,
      appSql`alter table cron_job add column sneaky int`,
      appSql`create index sneaky on cron_job (name)`,
      appSql`drop table cron_job_run`,
      appSql`truncate cron_job`,
      appSql`alter table users add column sneaky int`,
    ]) {
      expect(await failureCode(statement)).toBe(INSUFFICIENT_PRIVILEGE);
    }
    const [columns] = await sql<{ n: number }[]>`
      select count(*)::int as n from information_schema.columns where column_name = 'sneaky'`;
    expect(columns!.n).toBe(0);
  });

  it('may not read or write a table no executor declares', async () => {
    for (const statement of [
      appSql`select * from invoices`,
      appSql`insert into invoices (tenant_id, total) values ('globex', 1)`,
      appSql`update invoices set total = 0`,
      appSql`delete from invoices`,
    ]) {
      expect(await failureCode(statement)).toBe(INSUFFICIENT_PRIVILEGE);
    }
    expect(await sql`select tenant_id, total::int from invoices`).toEqual([
      { tenant_id: 'acme', total: 100 },
    ]);
  });

  it('reads and writes the declared CRM tables and the product tables', async () => {
    await appSql`update users set is_active = is_active where false`;
    await appSql`delete from activities where false`;
    await appSql`select name from accounts limit 1`;
    const [job] = await appSql<{ id: string }[]>`
      insert into cron_job (name, schedule, function_name, is_active)
      values ('role check', 'daily', 'markUsersOffline', false)
      returning id`;
    await appSql`delete from cron_job where id = ${job!.id}`;
  });

  it('only appends to the audit trail: no update, no delete', async () => {
    await appSql`
      insert into cron_job_audit (job_id, action, actor)
      values (gen_random_uuid(), 'create', 'role-test')`;
    expect(await failureCode(appSql`update cron_job_audit set actor = 'someone else'`)).toBe(
      INSUFFICIENT_PRIVILEGE,
    );
    expect(await failureCode(appSql`delete from cron_job_audit`)).toBe(INSUFFICIENT_PRIVILEGE);
    // Retention's own function never removes an entry younger than a day, whatever it is asked.
    const [pruned] = await appSql<{ n: number }[]>`
      select cron_job_audit_prune(now() + interval '1 day', 1000) as n`;
    expect(pruned!.n).toBe(0);
    const [kept] = await sql<{ n: number }[]>`
      select count(*)::int as n from cron_job_audit where actor = 'role-test'`;
    expect(kept!.n).toBe(1);
  });

  it('runs a sweep and the retention after it, runs and audit entries alike', async () => {
    await sql`update users set metadata = jsonb_build_object('live_status', 'online')`;
    const [job] = await sql<{ id: string }[]>`
      insert into cron_job (name, schedule, function_name, is_active, next_run, metadata)
      values ('offline', 'every_5_minutes', 'markUsersOffline', true, now() - interval '1 minute',
        '{"timeout_minutes": 5}')
      returning id`;
    const summary = await sweep(
      { sql: appSql, registry: createBuiltInRegistry(), log: silentLog },
      { concurrency: 2 },
    );
    expect(summary.succeeded).toBe(1);
    // History of a deleted job, 40 days old: retention as the app role removes runs and audit.
    const gone = randomBytes(4).toString('hex');
    await sql`
      insert into cron_job_run (job_id, scheduled_for, trigger, status, started_at, finished_at)
      select gen_random_uuid(), now() - interval '40 days', 'schedule', 'success',
        now() - interval '40 days', now() - interval '40 days'
      from generate_series(1, 3)`;
    await sql`
      insert into cron_job_audit (job_id, action, actor, at)
      select gen_random_uuid(), 'delete', ${gone}, now() - interval '40 days'
      from generate_series(1, 4)`;
    const pruned = await pruneAfterSweep({ sql: appSql, log: silentLog }, { retentionDays: 30 });
    expect(pruned?.deleted).toBe(3);
    const [left] = await sql<{ n: number }[]>`
      select count(*)::int as n from cron_job_audit where actor = ${gone}`;
    expect(left!.n).toBe(0);
    const [run] = await sql`select status from cron_job_run where job_id = ${job!.id}`;
    expect(run?.status).toBe('success');
  });

  it('is declared for every product table the migrations create', async () => {
    const tables = await productTables(sql);
    expect(tables.length).toBeGreaterThan(5);
    expect(tables.filter((table) => !(table in APP_TABLE_PRIVILEGES))).toEqual([]);
  });
});

describe('migrations as an owner who may not create roles', () => {
  it('still migrate (and adopt), and report the role they could not create', async () => {
    // A database owned by an ordinary user, as a CRM's own database often is.
    const suffix = randomBytes(4).toString('hex');
    const owner = `crm_owner_${suffix}`;
    const database = `crm_${suffix}`;
    const password = randomBytes(16).toString('hex');
    await sql.unsafe(`create role ${owner} login password '${password}'`);
    await sql.unsafe(`create database ${database} owner ${owner}`);
    const ownerUrl = new URL(url);
    ownerUrl.pathname = `/${database}`;
    ownerUrl.username = owner;
    ownerUrl.password = password;
    const asOwner: Sql = connect(ownerUrl.toString(), { max: 1 });
    try {
      // The earlier system's table, to be adopted.
      await asOwner`create table cron_job (id serial primary key, name text, schedule text,
        function_name text, is_active boolean, metadata jsonb)`;
      await asOwner`insert into cron_job (name, schedule, function_name, is_active, metadata)
        values ('Mark users offline', 'every_5_minutes', 'markUsersOffline', true, '{}')`;
      const missingRole = `crm_cron_app_${suffix}`;
      const report = await migrateWithReport(asOwner, { appRole: missingRole });
      expect(report.adoption.adopt).toBe(true);
      expect(report.app_role).toMatchObject({ role: missingRole, created: false, granted: [] });
      expect(report.app_role.skipped).toEqual([
        {
          object: `role ${missingRole}`,
          reason: `the role does not exist and ${owner} may not create roles`,
        },
      ]);
      const [jobs] = await asOwner<{ n: number }[]>`select count(*)::int as n from cron_job`;
      expect(jobs!.n).toBe(1);

      // Once an administrator creates it, the next migrate grants it its rights.
      await sql.unsafe(`create role ${missingRole} login`);
      const again = await migrateWithReport(asOwner, { appRole: missingRole });
      expect(again.app_role.skipped).toEqual([]);
      expect(again.app_role.granted).toEqual(expect.arrayContaining(['cron_job', 'cron_job_run']));
      await setAppRolePassword(sql, missingRole, password);
      const asApp = connect(appRoleUrl(ownerUrl.toString(), missingRole, password), { max: 1 });
      try {
        const [count] = await asApp<{ n: number }[]>`select count(*)::int as n from cron_job`;
        expect(count!.n).toBe(1);
        expect(await failureCode(asApp`create table sneaky (id int)`)).toBe(INSUFFICIENT_PRIVILEGE);
      } finally {
        await asApp.end();
      }
    } finally {
      await asOwner.end();
      await sql.unsafe(`drop database if exists ${database} with (force)`);
    }
  });
});
