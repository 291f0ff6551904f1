import { randomBytes } from 'node:crypto';
import { afterAll, inject } from 'vitest';
import { appRoleUrl, DEFAULT_APP_ROLE } from '../../lib/app-role';
import { connect, type Sql } from '../../lib/db';

export const TEMPLATE_DATABASE = 'crm_cron_template';

export interface TestDatabase {
  /** As the owner (the server's superuser): for setup, DDL and checks. */
  url: string;
  sql: Sql;
  /**
   * As the app role `crm_cron_app`, as the functions and the local server connect: give this to
   * the code under test, so a missing grant fails the test.
   */
  appUrl: string;
  appSql: Sql;
}

function urlFor(database: string): string {
  const parsed = new URL(inject('adminDatabaseUrl'));
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/**
 * A database of its own for the calling test file, dropped when the file finishes. `migrated`
 * (the default) clones the migrated template; otherwise the database is empty.
 */
export async function createTestDatabase(
  options: { migrated?: boolean } = {},
): Promise<TestDatabase> {
  const name = `test_${randomBytes(6).toString('hex')}`;
  const admin = connect(inject('adminDatabaseUrl'), { max: 1 });
  const template = options.migrated === false ? 'template0' : TEMPLATE_DATABASE;
  await admin.unsafe(`create database ${name} template ${template}`);
  const url = urlFor(name);
  const sql = connect(url, { max: 10 });
  const appUrl = appRoleUrl(url, DEFAULT_APP_ROLE, inject('appRolePassword'));
  const appSql = connect(appUrl, { max: 10 });
  afterAll(async () => {
    await appSql.end({ timeout: 5 });
    await sql.end({ timeout: 5 });
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  });
  return { url, sql, appUrl, appSql };
}
