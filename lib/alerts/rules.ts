import type * as z from 'zod';
import { ValidationError, type FieldError } from '../errors';
import type { Caller } from '../identity/caller';
import { findScopedJob, tenantScope } from '../jobs/scope';
import type { AlertDeps, DestinationRow } from './destinations';
import type { AlertEventType } from './events';
import type { createRuleBody, updateRuleBody } from './schemas';
import { findScoped, ownerTenant } from './scope';

export interface Rule {
  id: string;
  tenant_id: string | null;
  destination_id: string;
  job_id: string | null;
  events: AlertEventType[];
  after_consecutive_failures: number;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export async function listRules(
  deps: Pick<AlertDeps, 'sql'>,
  caller: Caller,
  query: { destination_id?: string | undefined; job_id?: string | undefined; limit: number },
): Promise<{ rules: Rule[] }> {
  const { sql } = deps;
  const rules = await sql<Rule[]>`
    select * from cron_alert_rule
    where true ${tenantScope(sql, caller)}
      ${query.destination_id === undefined ? sql`` : sql`and destination_id = ${query.destination_id}`}
      ${query.job_id === undefined ? sql`` : sql`and job_id = ${query.job_id}`}
    order by created_at, id
    limit ${query.limit}`;
  return { rules };
}

export async function getRule(
  deps: Pick<AlertDeps, 'sql'>,
  caller: Caller,
  id: string,
): Promise<Rule> {
  return findScoped<Rule>(deps.sql, caller, 'cron_alert_rule', id);
}

/**
 * Creates a rule. Its tenant is the caller's (a tenant caller), or for an admin the body's
 * `tenant_id`, else the job's, else the destination's. What it names must fit that tenant: the
 * destination belongs to it (admins may also use a global one), and the job is one of its jobs
 * (a global rule may name any job). Anything the caller cannot see, or that does not fit, is a
 * 400 naming the field, worded alike for both, so nothing leaks about other tenants.
 */
export async function createRule(
  deps: Pick<AlertDeps, 'sql' | 'log'>,
  caller: Caller,
  body: z.output<typeof createRuleBody>,
): Promise<Rule> {
  const { sql } = deps;
  // A tenant caller naming another tenant is refused before anything is looked up.
  if (body.tenant_id !== undefined) ownerTenant(caller, body.tenant_id);
  return sql.begin(async (tx) => {
    const errors: FieldError[] = [];
    const destination = await findScoped<DestinationRow>(
      tx,
      caller,
      'cron_alert_destination',
      body.destination_id,
      { forUpdate: true },
    ).catch(() => undefined);
    if (!destination) {
      errors.push({ path: 'destination_id', message: 'no such destination' });
    }
    let job: { id: string; tenant_id: string | null } | undefined;
    if (body.job_id) {
      job = await findScopedJob<{ id: string; tenant_id: string | null }>(
        tx,
        caller,
        body.job_id,
        ['id', 'tenant_id'],
        { forUpdate: true },
      ).catch(() => undefined);
      if (!job) errors.push({ path: 'job_id', message: 'no such job' });
    }
    if (errors.length > 0) throw new ValidationError(errors);
    const fallback =
      body.tenant_id === undefined ? (job?.tenant_id ?? destination!.tenant_id) : body.tenant_id;
    const tenant = ownerTenant(caller, body.tenant_id, fallback);
    if (destination!.tenant_id !== null && destination!.tenant_id !== tenant) {
      errors.push({
        path: 'destination_id',
        message: `the destination belongs to another tenant than the rule (${JSON.stringify(tenant)})`,
      });
    }
    if (destination!.tenant_id === null && tenant !== null && !caller.admin) {
      errors.push({ path: 'destination_id', message: 'no such destination' });
    }
    if (job && tenant !== null && job.tenant_id !== tenant) {
      errors.push({
        path: 'job_id',
        message: `the job belongs to another tenant than the rule (${JSON.stringify(tenant)})`,
      });
    }
    if (errors.length > 0) throw new ValidationError(errors);
    const [rule] = await tx<Rule[]>`
      insert into cron_alert_rule (tenant_id, destination_id, job_id, events,
        after_consecutive_failures, enabled)
      values (${tenant}, ${destination!.id}, ${job?.id ?? null}, ${body.events},
        ${body.after_consecutive_failures ?? 1}, ${body.enabled ?? true})
      returning *`;
    deps.log.info('alert rule created', { rule_id: rule!.id, tenant_id: tenant });
    return rule!;
  });
}

export async function updateRule(
  deps: Pick<AlertDeps, 'sql' | 'log'>,
  caller: Caller,
  id: string,
  body: z.output<typeof updateRuleBody>,
): Promise<Rule> {
  const current = await findScoped<Rule>(deps.sql, caller, 'cron_alert_rule', id);
  const [rule] = await deps.sql<Rule[]>`
    update cron_alert_rule set
      events = ${body.events ?? current.events},
      after_consecutive_failures = ${body.after_consecutive_failures ?? current.after_consecutive_failures},
      enabled = ${body.enabled ?? current.enabled},
      updated_at = now()
    where id = ${current.id}
    returning *`;
  if (!rule) throw new ValidationError([{ path: 'id', message: 'the rule was deleted meanwhile' }]);
  deps.log.info('alert rule updated', { rule_id: rule.id, fields: Object.keys(body) });
  return rule;
}

export async function deleteRule(
  deps: Pick<AlertDeps, 'sql' | 'log'>,
  caller: Caller,
  id: string,
): Promise<void> {
  const current = await findScoped<Rule>(deps.sql, caller, 'cron_alert_rule', id);
  await deps.sql`delete from cron_alert_rule where id = ${current.id}`;
  deps.log.info('alert rule deleted', { rule_id: current.id });
}
