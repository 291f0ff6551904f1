import cronTables from './0001-cron-tables';
import preciseTriggers from './0002-precise-triggers';
import writePath from './0003-write-path';
import runRetention from './0004-run-retention';
import audit from './0010-audit';
import auditRetention from './0011-audit-retention';
import enginePauseAudit from './0012-engine-pause-audit';
import retriesAndPause from './0015-retries-and-pause';
import inactiveReason from './0020-inactive-reason';
import jobSecrets from './0021-job-secrets';
import legacyId from './0022-legacy-id';
import recentRuns from './0023-recent-runs';
import runQueue from './0025-run-queue';
import tenantLimits from './0026-tenant-limits';
import alerts from './0030-alerts';
import catchUpAndSpread from './0035-catch-up-and-spread';
import runLog from './0040-run-log';
import systemStatus from './0041-system-status';
import overlapPriorityDependencies from './0045-overlap-priority-dependencies';
import leanRunIndexes from './0050-lean-run-indexes';
import pausedByRun from './0031-paused-by-run';
import backfill from './0036-backfill';

/** Applied in order, each once. Never edit a shipped migration: add the next number. */
export const migrations: ReadonlyArray<{ id: number; name: string; sql: string }> = [
  { id: 1, name: 'cron-tables', sql: cronTables },
  { id: 2, name: 'precise-triggers', sql: preciseTriggers },
  { id: 3, name: 'write-path', sql: writePath },
  { id: 4, name: 'run-retention', sql: runRetention },
  { id: 10, name: 'audit', sql: audit },
  { id: 11, name: 'audit-retention', sql: auditRetention },
  { id: 15, name: 'retries-and-pause', sql: retriesAndPause },
  // After 15, which adds the pause columns its trigger reads.
  { id: 12, name: 'engine-pause-audit', sql: enginePauseAudit },
  { id: 20, name: 'inactive-reason', sql: inactiveReason },
  { id: 21, name: 'job-secrets', sql: jobSecrets },
  { id: 22, name: 'legacy-id', sql: legacyId },
  { id: 23, name: 'recent-runs', sql: recentRuns },
  { id: 25, name: 'run-queue', sql: runQueue },
  { id: 26, name: 'tenant-limits', sql: tenantLimits },
  { id: 30, name: 'alerts', sql: alerts },
  { id: 35, name: 'catch-up-and-spread', sql: catchUpAndSpread },
  { id: 40, name: 'run-log', sql: runLog },
  { id: 41, name: 'system-status', sql: systemStatus },
  { id: 45, name: 'overlap-priority-dependencies', sql: overlapPriorityDependencies },
  { id: 50, name: 'lean-run-indexes', sql: leanRunIndexes },
  { id: 31, name: 'paused-by-run', sql: pausedByRun },
  // After 45, whose trigger list it extends.
  { id: 36, name: 'backfill', sql: backfill },
];
