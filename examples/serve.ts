/**
 * The local stack with the example registry: what `npm start` does, with the tutorial's
 * executor registered too (docs/adding-an-executor.md, "Watch it run locally").
 *
 *   npx tsx examples/serve.ts
 *
 * Same environment variables as `npm start`. Without DATABASE_URL it boots an embedded
 * PostgreSQL of its own in .data/example-postgres (not npm start's .data/postgres, whose jobs
 * must not name an executor that npm start does not know) and loads the demo data set into it.
 */
import { createDemoSchema, loadDemoData } from '../lib/demo-data';
import { connect } from '../lib/db';
import { seedDefaultJobs } from '../lib/default-jobs';
import { createLocalApp, LOCAL_SWEEP_CONCURRENCY } from '../lib/local/app';
import { parseLocalConfig, redactUrl } from '../lib/local/config';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../lib/local/embedded-postgres';
import { startLocalServer } from '../lib/local/server';
import { createLogger } from '../lib/logger';
import { migrate } from '../lib/migrate';
import { sweep } from '../lib/sweep';
import { createExampleRegistry } from './registry';

const DATA_DIR = '.data/example-postgres';

async function main() {
  const config = parseLocalConfig(process.env);
  const log = createLogger(config.logLevel);
  let embedded: EmbeddedDatabase | undefined;
  if (!config.databaseUrl)
    embedded = await startEmbeddedPostgres({ dataDir: DATA_DIR, persistent: true });
  const databaseUrl = config.databaseUrl ?? embedded!.url;
  const sql = connect(databaseUrl, { max: 10 });
  const registry = createExampleRegistry();
  await migrate(sql);
  await seedDefaultJobs(sql, registry);
  if (embedded) {
    await createDemoSchema(sql);
    await loadDemoData(sql);
  }
  const interval = config.tickIntervalSeconds;
  const app = await createLocalApp({ sql, registry, log, sweepIntervalSeconds: interval || 300 });
  const server = await startLocalServer({
    app,
    log,
    host: config.host,
    port: config.port,
    apiToken: config.apiToken,
  });
  log.info('crm-cron example is up', {
    url: `${server.url}/api/cron`,
    database: embedded ? `embedded PostgreSQL in ${DATA_DIR}` : redactUrl(databaseUrl),
    executors: registry.names(),
    sweep_every_seconds: interval || 'off',
  });

  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<unknown> | undefined;
  let stopping = false;
  const tick = () => {
    sweeping = sweep(app, { concurrency: LOCAL_SWEEP_CONCURRENCY })
      .catch((error: unknown) => log.error('sweep failed', { error: (error as Error).message }))
      .finally(() => {
        if (!stopping) timer = setTimeout(tick, interval * 1000);
      });
  };
  if (interval > 0) tick();

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    clearTimeout(timer);
    app.close();
    await sweeping;
    await server.close();
    await sql.end({ timeout: 5 });
    await embedded?.stop();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  console.error(`crm-cron example failed to start: ${(error as Error).message}`);
  process.exit(1);
});
