import { randomBytes } from 'node:crypto';
import { afterAll, inject } from 'vitest';
import { connect, type Sql } from '../../lib/db';

export const TEMPLATE_DATABASE = 'crm_cron_template';

export interface TestDatabase {
  url: string;
  sql: Sql;
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
  afterAll(async () => {
    await sql.end({ timeout: 5 });
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  });
  return { url, sql };
}
