import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { DEFAULT_APP_ROLE, setAppRolePassword } from '../../lib/app-role';
import { connect } from '../../lib/db';
import { startEmbeddedPostgres } from '../../lib/local/embedded-postgres';
import { migrate } from '../../lib/migrate';
import { TEMPLATE_DATABASE } from './database';
import { postgresBinaries, type PostgresMajor } from './postgres-versions';

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
    /** The major this project's embedded server runs (vitest.config.ts); unset on TEST_DATABASE_URL. */
    postgresMajor?: PostgresMajor;
    /** The app role's password on this server (set here; the role is the cluster's). */
    appRolePassword: string;
  }
}

/**
 * One PostgreSQL server per vitest project: TEST_DATABASE_URL when set, otherwise an embedded one
 * of the project's `postgresMajor`. A migrated template database lets each test file clone a
 * fresh database in milliseconds. TEST_APP_ROLE_PASSWORD says whoever set TEST_DATABASE_URL has
 * already migrated the template there and set that password (`npm run mutate` does, once for all
 * its test runs, which may be several at a time on the one server).
 */
export default async function setup(project: TestProject) {
  let adminUrl = process.env.TEST_DATABASE_URL;
  let stop = async () => {};
  if (!adminUrl) {
    const server = await startTestPostgres(project.getProvidedContext().postgresMajor ?? 17);
    adminUrl = server.url;
    stop = server.stop;
  }
  const prepared = process.env.TEST_DATABASE_URL && process.env.TEST_APP_ROLE_PASSWORD;
  const appRolePassword = prepared || (await migrateTemplate(adminUrl));
  project.provide('adminDatabaseUrl', adminUrl);
  project.provide('appRolePassword', appRolePassword);
  return stop;
}

/** An embedded PostgreSQL server of `major` in a temporary folder, removed when it stops. */
export async function startTestPostgres(
  major: PostgresMajor,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const folder = await mkdtemp(path.join(tmpdir(), `crm-cron-test-pg${major}-`));
  // Postgres runs as its own user when we are root, and must be able to reach its folder.
  await chmod(folder, 0o755);
  const server = await startEmbeddedPostgres({
    dataDir: path.join(folder, 'data'),
    persistent: false,
    binaries: await postgresBinaries(major),
  });
  return {
    url: server.url,
    stop: async () => {
      await server.stop();
      await rm(folder, { recursive: true, force: true });
    },
  };
}

/**
 * (Re)creates the migrated template database test files clone, and gives the app role a new
 * password, which it returns.
 */
export async function migrateTemplate(adminUrl: string): Promise<string> {
  const admin = connect(adminUrl, { max: 1 });
  await admin.unsafe(`drop database if exists ${TEMPLATE_DATABASE} with (force)`);
  await admin.unsafe(`create database ${TEMPLATE_DATABASE}`);
  const template = connect(withDatabase(adminUrl, TEMPLATE_DATABASE), { max: 1 });
  // Creates the app role (cluster-wide) with its grants in the template, which every test
  // database clones; the app of every test server then logs in as it.
  await migrate(template);
  await template.end();
  const appRolePassword = randomBytes(16).toString('hex');
  await setAppRolePassword(admin, DEFAULT_APP_ROLE, appRolePassword);
  await admin.end();
  return appRolePassword;
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
