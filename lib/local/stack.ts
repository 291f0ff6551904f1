import { randomBytes } from 'node:crypto';
import { appRoleUrl, DEFAULT_APP_ROLE, setAppRolePassword } from '../app-role';
import { createDemoSchema, loadDemoData } from '../demo-data';
import { connect, type Sql } from '../db';
import { seedDefaultJobs } from '../default-jobs';
import type { ExecutorRegistry } from '../executors/registry';
import { createLogger } from '../logger';
import { migrateWithReport } from '../migrate';
import { describeAdoption } from '../adoption';
import { pruneAfterSweep } from '../engine/retention';
import { sweep } from '../engine/sweep';
import { createLocalApp, LOCAL_SWEEP_CONCURRENCY } from './app';
import { parseLocalConfig, redactUrl } from './config';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded-postgres';
import { consoleDist, ensureConsoleBuilt } from './console-assets';
import { startLocalServer } from './server';
import { startDeliveryLoop } from '../alerts/delivery-loop';
import { loggingEmailSender } from '../alerts/send';
import { createEgressClient } from '../egress/http-client';

// How often `npm start` looks for due alert deliveries, and how long one attempt may wait.
const ALERT_DELIVERY_INTERVAL_MS = 5_000;
const ALERT_ATTEMPT_TIMEOUT_MS = 10_000;
import { createPgRunQueue } from './pg-run-queue';
import { startWorkerProcesses } from './worker-processes';

/**
 * The whole system on one machine, configured from the environment (contract section 2): the
 * database (embedded in `dataDir` unless DATABASE_URL is set), migrations, default jobs, demo data
 * on an embedded database, the HTTP API and the sweep timer. Ctrl-C (or SIGTERM) lets a sweep in
 * progress finish and record its runs, then stops the server, the pool and PostgreSQL; a second
 * Ctrl-C exits at once (unfinished runs are then declared lost by a later sweep).
 */
export async function runLocalStack(options: {
  registry: ExecutorRegistry;
  /** Where the embedded PostgreSQL keeps its data. */
  dataDir: string;
  /** Logged once everything is up. */
  upMessage: string;
}): Promise<void> {
  const config = parseLocalConfig(process.env);
  const log = createLogger(config.logLevel);
  const { registry } = options;

  // Built (when missing or stale) while the database starts.
  const consoleBuilt = ensureConsoleBuilt(log);
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({
      dataDir: options.dataDir,
      persistent: true,
      onLog: (line) => log.debug('postgres', { line: line.trim() }),
    });
    databaseUrl = embedded.url;
  }
  // Migrations, default jobs and demo data run as the owner (the embedded server's superuser, or
  // DATABASE_URL's user); the app itself connects as the app role where it can log in as it.
  const sql = connect(databaseUrl, { max: 2 });
  const { applied, adoption, app_role: appRole } = await migrateWithReport(sql, { registry });
  if (adoption.adopt) {
    log.info("adopted the earlier system's cron_job", {
      lines: describeAdoption(adoption),
      deactivated: adoption.deactivated,
    });
  }
  // The demo CRM tables come before the default jobs, which are seeded inactive without them.
  if (embedded) await createDemoSchema(sql);
  const seeded = await seedDefaultJobs(sql, registry);
  const appDb = embedded ? await connectAsAppRole(sql, databaseUrl) : { sql, url: databaseUrl };
  const appSql = appDb.sql;
  // WORKERS=N: N worker processes take runs from the local run queue; the sweep only dispatches.
  const runQueue = config.workers > 0 ? createPgRunQueue(appSql) : undefined;
  const workers = startWorkerProcesses(config.workers, appDb.url, log);
  const app = await createLocalApp({
    sql: appSql,
    registry,
    log,
    sweepIntervalSeconds: config.tickIntervalSeconds || 300,
    runQueue,
  });
  const demoLoaded = embedded ? await loadDemoData(sql) : false;
  const server = await startLocalServer({
    app,
    log,
    host: config.host,
    port: config.port,
    tokens: config.tokens,
    consoleDir: (await consoleBuilt) ? consoleDist : undefined,
  });
  // Alerts go out from this process, apart from the sweep (lib/alerts/delivery-loop.ts).
  const alerts = startDeliveryLoop({
    sql,
    log,
    senders: {
      egress: createEgressClient(),
      email: loggingEmailSender(log),
      timeoutMs: ALERT_ATTEMPT_TIMEOUT_MS,
      linkBaseUrl: server.url,
    },
    intervalMs: ALERT_DELIVERY_INTERVAL_MS,
  });
  log.info(options.upMessage, {
    url: `${server.url}/api/cron`,
    console: (await consoleBuilt) ? `${server.url}/` : 'not built',
    database: embedded ? `embedded PostgreSQL in ${options.dataDir}` : redactUrl(databaseUrl),
    // For psql: the password of the embedded server is in <dataDir>.password.
    database_url: redactUrl(databaseUrl),
    migrations_applied: applied,
    database_role: embedded
      ? DEFAULT_APP_ROLE
      : `DATABASE_URL's user (the app role ${appRole.role ?? 'is off'} is for the deployed functions)`,
    ...(appRole.skipped.length > 0 ? { app_role_skipped: appRole.skipped } : {}),
    default_jobs_seeded: seeded,
    demo_data_loaded: demoLoaded,
    executors: registry.names(),
    sweep_every_seconds: config.tickIntervalSeconds || 'off',
    run_retention_days: config.runRetentionDays,
    workers: config.workers,
    auth:
      config.tokens.length > 0
        ? `bearer tokens (${config.tokens.length} callers)`
        : 'none: the API is open and every caller is an admin (set CRON_API_TOKENS)',
  });

  let stopping = 0;
  let sweeping: Promise<unknown> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    sweeping = sweep(app, {
      concurrency: LOCAL_SWEEP_CONCURRENCY,
      dispatch: runQueue && { queue: runQueue, when: 'always' },
    })
      .then(() => alerts.kick())
      .then(() => pruneAfterSweep(app, { retentionDays: config.runRetentionDays }))
      .catch((error: unknown) => log.error('sweep failed', { error: (error as Error).message }))
      .finally(() => {
        sweeping = undefined;
        if (stopping === 0) timer = setTimeout(tick, config.tickIntervalSeconds * 1000);
      });
  };
  if (config.tickIntervalSeconds > 0) tick();

  const stop = async (signal: string) => {
    // npm and tsx pass the terminal's Ctrl-C on as well, so one key press can arrive twice.
    if (stopping > 0 && Date.now() - stopping > 1_000) {
      log.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    if (stopping > 0) return;
    stopping = Date.now();
    log.info('stopping', {
      signal,
      waiting_for: sweeping
        ? 'the running sweep to finish its jobs (each at most its timeout_seconds) and record their runs; press Ctrl-C again to exit now (unfinished runs are declared lost later)'
        : 'nothing running: closing the server, the pool and PostgreSQL',
    });
    clearTimeout(timer);
    app.close();
    await sweeping;
    await alerts.close();
    await server.close();
    await workers.stop();
    if (appSql !== sql) await appSql.end({ timeout: 5 });
    await sql.end({ timeout: 5 });
    await embedded?.stop();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/**
 * The app's pool on the embedded server, logged in as the app role (created by the migrations)
 * with a password made for this start: the server takes password logins only, and nobody else
 * needs it.
 */
async function connectAsAppRole(owner: Sql, ownerUrl: string): Promise<{ sql: Sql; url: string }> {
  const password = randomBytes(16).toString('hex');
  await setAppRolePassword(owner, DEFAULT_APP_ROLE, password);
  const url = appRoleUrl(ownerUrl, DEFAULT_APP_ROLE, password);
  return { sql: connect(url, { max: 10 }), url };
}
