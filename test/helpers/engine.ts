import { beforeEach } from 'vitest';
import type { ExecutorRegistry } from '../../lib/executors/registry';
import { silentLog, type Log } from '../../lib/logger';
import { createTestDatabase, type TestDatabase } from './database';
import { testRegistry } from './jobs';

export interface EngineTestDatabase extends TestDatabase {
  deps: { sql: TestDatabase['sql']; registry: ExecutorRegistry; log: Log };
}

/**
 * A test file's own migrated database for engine tests, emptied of jobs (and with them their runs)
 * before each test, and the dependencies sweep() takes: that database, `registry` (the test
 * executors by default) and a silent log.
 */
export async function createEngineTestDatabase(
  registry: ExecutorRegistry = testRegistry,
): Promise<EngineTestDatabase> {
  const database = await createTestDatabase();
  beforeEach(async () => {
    await database.sql`truncate cron_job cascade`;
  });
  return { ...database, deps: { sql: database.sql, registry, log: silentLog } };
}
