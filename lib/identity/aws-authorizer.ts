import type { Caller } from './caller';

/** How a JWT maps to a caller; the stack passes both names to every API function. */
export interface JwtIdentityConfig {
  /** The claim that holds the caller's tenant. */
  tenantClaim: string;
  /** The scope that makes a caller an admin. */
  adminScope: string;
}

export const DEFAULT_JWT_IDENTITY: JwtIdentityConfig = {
  tenantClaim: 'tenant_id',
  adminScope: 'cron:admin',
};

/** The parts of an API Gateway HTTP API (payload v2) authorizer context we read. */
export interface AuthorizerContext {
  jwt?: { claims?: Record<string, unknown>; scopes?: string[] | null };
  iam?: { userArn?: string | null; callerId?: string | null; accountId?: string | null };
}

/**
 * The caller API Gateway has authenticated. IAM (SigV4) callers are operators: admins. A JWT
 * caller is an admin when it carries the admin scope, otherwise a caller of the tenant its tenant
 * claim names. Undefined when the context names no usable identity (the route then refuses).
 */
export function callerFromAuthorizer(
  authorizer: AuthorizerContext | undefined,
  config: JwtIdentityConfig,
): Caller | undefined {
  if (authorizer?.iam) {
    const { userArn, callerId, accountId } = authorizer.iam;
    return {
      subject: userArn || callerId || `iam:${accountId ?? 'unknown'}`,
      tenant_id: null,
      admin: true,
    };
  }
  const claims = authorizer?.jwt?.claims;
  if (!claims) return undefined;
  const subject = typeof claims.sub === 'string' && claims.sub !== '' ? claims.sub : 'jwt';
  if (scopesOf(authorizer.jwt!).includes(config.adminScope)) {
    return { subject, tenant_id: null, admin: true };
  }
  const tenant = claims[config.tenantClaim];
  if (typeof tenant !== 'string' || tenant === '') return undefined;
  return { subject, tenant_id: tenant, admin: false };
}

/**
 * API Gateway fills `scopes` only for routes that require scopes; otherwise the token's own
 * `scope` (OAuth 2, space-separated) or `scp` claim says them. Array claims arrive flattened to
 * a string such as `[a b]`.
 */
function scopesOf(jwt: NonNullable<AuthorizerContext['jwt']>): string[] {
  if (jwt.scopes && jwt.scopes.length > 0) return jwt.scopes;
  const raw = jwt.claims?.scope ?? jwt.claims?.scp;
  if (Array.isArray(raw)) return raw.map(String);
  if (typeof raw !== 'string') return [];
  return raw
    .replace(/^\[|\]$/g, '')
    .split(/[\s,]+/)
    .filter(Boolean);
}
