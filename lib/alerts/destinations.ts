import type * as z from 'zod';
import type { Sql } from '../db';
import { generateSigningSecret } from '../egress/signing';
import { ConflictError, ValidationError } from '../errors';
import type { Caller } from '../identity/caller';
import { tenantScope } from '../jobs/scope';
import type { Log } from '../logger';
import type { createDestinationBody, updateDestinationBody } from './schemas';
import { findScoped, ownerTenant } from './scope';
import type { AlertSettings } from './settings';

export interface AlertDeps {
  sql: Sql;
  log: Log;
  alerts: AlertSettings;
}

export interface DestinationRow {
  id: string;
  tenant_id: string | null;
  name: string;
  kind: 'webhook' | 'slack' | 'email';
  target: string;
  secret: string | null;
  status: 'active' | 'failing';
  status_changed_at: Date | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface Destination {
  id: string;
  tenant_id: string | null;
  name: string;
  kind: DestinationRow['kind'];
  url: string | null;
  email: string | null;
  status: DestinationRow['status'];
  status_changed_at: Date | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  /** Only in the response that generated it. */
  secret?: string;
}

/**
 * A destination as the API shows it. Never its secret; a Slack URL only by its origin, since the
 * rest of it is what lets anyone post to the channel.
 */
export function toDestination(row: DestinationRow): Destination {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    name: row.name,
    kind: row.kind,
    url:
      row.kind === 'webhook'
        ? row.target
        : row.kind === 'slack'
          ? `${new URL(row.target).origin}/…`
          : null,
    email: row.kind === 'email' ? row.target : null,
    status: row.status,
    status_changed_at: row.status_changed_at,
    last_error: row.last_error,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/**
 * Refuses a URL the egress guard would refuse at delivery (scheme, credentials, and every
 * address its host resolves to), or plain http, as a 400 naming `field`.
 */
async function checkDestinationUrl(deps: AlertDeps, url: string, field = 'url'): Promise<void> {
  const problem = await deps.alerts.egress.checkResolved(url);
  if (problem) throw new ValidationError([{ path: field, message: problem }]);
  if (new URL(url).protocol !== 'https:' && !deps.alerts.allowPlainHttp) {
    throw new ValidationError([{ path: field, message: 'must be an https URL' }]);
  }
}

export async function listDestinations(
  deps: AlertDeps,
  caller: Caller,
  query: { tenant_id?: string | undefined; limit: number },
): Promise<{ destinations: Destination[] }> {
  const { sql } = deps;
  const rows = await sql<DestinationRow[]>`
    select * from cron_alert_destination
    where true ${tenantScope(sql, caller)}
      ${query.tenant_id === undefined ? sql`` : sql`and tenant_id = ${query.tenant_id}`}
    order by created_at, id
    limit ${query.limit}`;
  return { destinations: rows.map(toDestination) };
}

export async function getDestination(
  deps: AlertDeps,
  caller: Caller,
  id: string,
): Promise<Destination> {
  return toDestination(
    await findScoped<DestinationRow>(deps.sql, caller, 'cron_alert_destination', id),
  );
}

/** Creates a destination; a webhook's signing secret is generated and returned this once. */
export async function createDestination(
  deps: AlertDeps,
  caller: Caller,
  body: z.output<typeof createDestinationBody>,
): Promise<Destination> {
  const tenant = ownerTenant(caller, body.tenant_id);
  const target = body.kind === 'email' ? body.email : body.url;
  if (body.kind !== 'email') await checkDestinationUrl(deps, body.url);
  const secret = body.kind === 'webhook' ? generateSigningSecret() : null;
  const [row] = await deps.sql<DestinationRow[]>`
    insert into cron_alert_destination (tenant_id, name, kind, target, secret)
    values (${tenant}, ${body.name}, ${body.kind}, ${target}, ${secret})
    returning *`;
  deps.log.info('alert destination created', {
    destination_id: row!.id,
    kind: body.kind,
    tenant_id: tenant,
  });
  return { ...toDestination(row!), ...(secret ? { secret } : {}) };
}

/** Changes a destination's name, URL or address, or rotates its secret (returned once). */
export async function updateDestination(
  deps: AlertDeps,
  caller: Caller,
  id: string,
  body: z.output<typeof updateDestinationBody>,
): Promise<Destination> {
  const current = await findScoped<DestinationRow>(deps.sql, caller, 'cron_alert_destination', id);
  const errors: { path: string; message: string }[] = [];
  if (body.url !== undefined && current.kind === 'email') {
    errors.push({ path: 'url', message: 'an email destination has an email, not a url' });
  }
  if (body.email !== undefined && current.kind !== 'email') {
    errors.push({
      path: 'email',
      message: `a ${current.kind} destination has a url, not an email`,
    });
  }
  if (body.rotate_secret && current.kind !== 'webhook') {
    errors.push({ path: 'rotate_secret', message: 'only webhook destinations have a secret' });
  }
  if (errors.length > 0) throw new ValidationError(errors);
  if (body.url !== undefined) await checkDestinationUrl(deps, body.url);
  const secret = body.rotate_secret ? generateSigningSecret() : null;
  const [row] = await deps.sql<DestinationRow[]>`
    update cron_alert_destination set
      name = coalesce(${body.name ?? null}, name),
      target = coalesce(${body.url ?? body.email ?? null}, target),
      secret = coalesce(${secret}, secret),
      updated_at = now()
    where id = ${current.id}
    returning *`;
  if (!row) throw new ConflictError('the destination was deleted meanwhile');
  deps.log.info('alert destination updated', {
    destination_id: row.id,
    fields: Object.keys(body),
  });
  return { ...toDestination(row), ...(secret ? { secret } : {}) };
}

/** Deletes a destination with its rules and its deliveries (pending ones are not sent). */
export async function deleteDestination(
  deps: AlertDeps,
  caller: Caller,
  id: string,
): Promise<void> {
  const current = await findScoped<DestinationRow>(deps.sql, caller, 'cron_alert_destination', id);
  await deps.sql`delete from cron_alert_destination where id = ${current.id}`;
  deps.log.info('alert destination deleted', { destination_id: current.id });
}
