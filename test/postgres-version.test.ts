import { expect, inject, it } from 'vitest';
import config from '../vitest.config';
import { createTestDatabase } from './helpers/database';
import { TESTED_POSTGRES_MAJORS } from './helpers/postgres-versions';

const { sql } = await createTestDatabase();

it('runs on the PostgreSQL major its vitest project names', async () => {
  const [row] = await sql<{ version: string }[]>`
    select current_setting('server_version_num') as version`;
  const major = Math.floor(Number(row!.version) / 10_000);
  // Unset only with TEST_DATABASE_URL, whose server must still be one the contract supports.
  expect(major).toBe(inject('postgresMajor') ?? Math.max(major, TESTED_POSTGRES_MAJORS[0]));
});

it('has one project per tested major (one on TEST_DATABASE_URL)', () => {
  const projects = (config.test?.projects ?? []) as { test: { name: string; provide?: object } }[];
  const expected = process.env.TEST_DATABASE_URL
    ? [['external', undefined]]
    : [...TESTED_POSTGRES_MAJORS]
        .reverse()
        .map((major) => [`pg${major}`, { postgresMajor: major }]);
  expect(projects.map((project) => [project.test.name, project.test.provide])).toEqual(expected);
});
