import type { Sql, TransactionSql } from '../db';
import { jsonb } from '../db';
import type { Caller } from '../identity/caller';
import { tenantScope } from './scope';

export type AuditAction = 'create' | 'update' | 'delete' | 'run' | 'pause' | 'resume' | 'backfill';

/** One field's change: `before` absent on create, `after` absent on delete. */
export interface FieldChange {
  before?: unknown;
  after?: unknown;
}

export interface AuditEntry {
  job_id: string;
  /** The job's tenant when the action happened. */
  tenant_id: string | null;
  action: AuditAction;
  /** Who acted; `request_id` ties the entry to the request's log line. */
  actor: Caller;
  /** Field-level changes (see `diffJob`); secrets must already be redacted. */
  changes?: Record<string, FieldChange>;
}

export interface AuditRow {
  id: string;
  job_id: string;
  tenant_id: string | null;
  action: AuditAction;
  actor: string;
  actor_tenant_id: string | null;
  request_id: string | null;
  at: Date;
  changes: Record<string, FieldChange>;
}

const AUDIT_COLUMNS = [
  'id',
  'job_id',
  'tenant_id',
  'action',
  'actor',
  'actor_tenant_id',
  'request_id',
  'at',
  'changes',
];

/**
 * Appends one audit entry. Call it inside the transaction that makes the change, so the entry
 * exists exactly when the change does. The table is append-only: the app role may not update or
 * delete its rows.
 */
export async function recordAudit(tx: TransactionSql | Sql, entry: AuditEntry): Promise<void> {
  await tx`
    insert into cron_job_audit (job_id, tenant_id, action, actor, actor_tenant_id, request_id, changes)
    values (${entry.job_id}, ${entry.tenant_id}, ${entry.action}, ${entry.actor.subject},
      ${entry.actor.tenant_id}, ${entry.actor.request_id ?? null}, ${jsonb(tx, entry.changes ?? {})})`;
}

const REDACTED = '[redacted]';
// Config keys whose values are credentials; matched on the key name, whatever the executor.
const SECRET_KEY = /secret|token|password|passwd|api[_-]?key|authorization|credential/i;

/**
 * The field-level difference between two versions of a job (either may be undefined: create,
 * delete). Executor config (`metadata`) is compared key by key as `metadata.<key>`; engine-owned
 * keys and timestamps are left out, and values of secret-looking keys are replaced by
 * `[redacted]` (a change still shows that they changed).
 */
export function diffJob(
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown> | undefined,
  ignoredMetadataKeys: ReadonlySet<string> = new Set(),
): Record<string, FieldChange> {
  const changes: Record<string, FieldChange> = {};
  const flat = (job: Record<string, unknown> | undefined) => {
    const out = new Map<string, unknown>();
    if (!job) return out;
    for (const [key, value] of Object.entries(job)) {
      if (IGNORED_FIELDS.has(key)) continue;
      if (key === 'metadata' && value && typeof value === 'object') {
        for (const [configKey, configValue] of Object.entries(value)) {
          if (!ignoredMetadataKeys.has(configKey)) out.set(`metadata.${configKey}`, configValue);
        }
      } else out.set(key, value);
    }
    return out;
  };
  const old = flat(before);
  const next = flat(after);
  for (const field of new Set([...old.keys(), ...next.keys()])) {
    const a = old.get(field);
    const b = next.get(field);
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    const secret = SECRET_KEY.test(field);
    const change: FieldChange = {};
    if (old.has(field)) change.before = secret ? REDACTED : normalize(a);
    if (next.has(field)) change.after = secret ? REDACTED : normalize(b);
    changes[field] = change;
  }
  return changes;
}

// Derived or engine-written: they change on their own, not by anyone's action.
const IGNORED_FIELDS = new Set([
  'id',
  'created_at',
  'updated_at',
  'last_run',
  'next_run',
  'trigger_armed_for',
]);

function normalize(value: unknown): unknown {
  return value instanceof Date ? value.toISOString() : (value ?? null);
}

/**
 * A job's audit entries, newest first, as the caller may see them: a tenant caller only entries
 * recorded while the job was in its tenant. `before` pages on (an entry id).
 */
export async function listJobAudit(
  sql: Sql,
  caller: Caller,
  jobId: string,
  limit: number,
): Promise<AuditRow[]> {
  return sql<AuditRow[]>`
    select ${sql(AUDIT_COLUMNS)} from cron_job_audit
    where job_id = ${jobId} ${tenantScope(sql, caller)}
    order by id desc
    limit ${limit}`;
}

/** Every entry, newest first, for admins: filters by tenant, job and actor; keyset paging by id. */
export async function listAudit(
  sql: Sql,
  query: {
    tenant_id?: string | undefined;
    job_id?: string | undefined;
    actor?: string | undefined;
    before?: number | undefined;
    limit: number;
  },
): Promise<{ entries: AuditRow[]; next_before: string | null }> {
  const rows = await sql<AuditRow[]>`
    select ${sql(AUDIT_COLUMNS)} from cron_job_audit
    where true
      ${query.tenant_id === undefined ? sql`` : sql`and tenant_id = ${query.tenant_id}`}
      ${query.job_id === undefined ? sql`` : sql`and job_id = ${query.job_id}`}
      ${query.actor === undefined ? sql`` : sql`and actor = ${query.actor}`}
      ${query.before === undefined ? sql`` : sql`and id < ${query.before}`}
    order by id desc
    limit ${query.limit + 1}`;
  const entries = rows.slice(0, query.limit);
  return {
    entries,
    next_before: rows.length > query.limit ? (entries.at(-1)?.id ?? null) : null,
  };
}
