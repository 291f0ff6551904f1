import { expect, inject, it } from 'vitest';
import { createTestDatabase } from './helpers/database';
import { TESTED_POSTGRES_MAJORS } from './helpers/postgres-versions';

const { sql } = await createTestDatabase();

it('runs on the PostgreSQL major its vitest project names', async () => {
  const [row] = await sql<
    { version: string }[]
  >`select current_setting('server_version_num') as version`;
  const major = Math.floor(Number(row!.version) / 10_000);
  const expected = inject('postgresMajor');
  if (expected === undefined) {
    // TEST_DATABASE_URL: whatever server it names must be one the contract supports.
    expect(major).toBeGreaterThanOrEqual(TESTED_POSTGRES_MAJORS[0]);
  } else {
    expect(major).toBe(expected);
  }
});
