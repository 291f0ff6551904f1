/**
 * Who is calling: resolved once per request by the middleware stack (from a local bearer token or
 * the API Gateway authorizer context, never from the body) and passed to the job service, which
 * scopes every read and write by it.
 */
export interface Caller {
  /** Stable name of the caller: token subject, JWT `sub`, or IAM ARN. Recorded in the audit trail. */
  subject: string;
  /** The tenant whose jobs this caller may see; null for an admin. */
  tenant_id: string | null;
  /** Admins see and change every tenant's jobs and global jobs, and may run the sweep. */
  admin: boolean;
  /** The request the caller is making, when there is one: recorded with its audit entries. */
  request_id?: string | undefined;
}

/** The caller of an open local server (no token configured): everything is allowed. */
export const OPEN_LOCAL_CALLER: Caller = Object.freeze({
  subject: 'anonymous',
  tenant_id: null,
  admin: true,
});

/** The product itself acting outside a request (seeding, scripts, tests): an admin. */
export const SYSTEM_CALLER: Caller = Object.freeze({
  subject: 'system',
  tenant_id: null,
  admin: true,
});
