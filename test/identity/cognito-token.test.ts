import { describe, expect, it } from 'vitest';
import { callerFromAuthorizer, DEFAULT_JWT_IDENTITY } from '../../lib/identity/aws-authorizer';
import {
  addConsoleClaims,
  CONSOLE_ADMIN_GROUP,
  type PreTokenGenerationEvent,
} from '../../lib/identity/cognito-token';

const event = (
  userAttributes: Record<string, string>,
  groups: string[] = [],
): PreTokenGenerationEvent => ({
  request: { userAttributes, groupConfiguration: { groupsToOverride: groups } },
  response: { claimsAndScopeOverrideDetails: null },
});

/** The access token's claims as API Gateway would pass them: Cognito's own plus the trigger's. */
function callerOf(done: PreTokenGenerationEvent) {
  const generation = done.response.claimsAndScopeOverrideDetails?.accessTokenGeneration ?? {};
  const claims = {
    sub: 'user-1',
    client_id: 'client',
    scope: ['openid', ...(generation.scopesToAdd ?? [])].join(' '),
    ...generation.claimsToAddOrOverride,
  };
  return callerFromAuthorizer({ jwt: { claims } }, DEFAULT_JWT_IDENTITY);
}

describe('console sign-in: the pre-token-generation trigger', () => {
  it("puts a user's custom:tenant_id in the access token as the API's tenant claim", () => {
    const done = addConsoleClaims(event({ 'custom:tenant_id': 'acme' }), DEFAULT_JWT_IDENTITY);
    expect(done.response.claimsAndScopeOverrideDetails).toEqual({
      accessTokenGeneration: { claimsToAddOrOverride: { tenant_id: 'acme' } },
    });
    expect(callerOf(done)).toEqual({ subject: 'user-1', tenant_id: 'acme', admin: false });
  });

  it('gives members of the admins group the admin scope (and no tenant)', () => {
    const done = addConsoleClaims(
      event({ 'custom:tenant_id': 'acme' }, ['viewers', CONSOLE_ADMIN_GROUP]),
      DEFAULT_JWT_IDENTITY,
    );
    expect(done.response.claimsAndScopeOverrideDetails).toEqual({
      accessTokenGeneration: { scopesToAdd: ['cron:admin'] },
    });
    expect(callerOf(done)).toEqual({ subject: 'user-1', tenant_id: null, admin: true });
  });

  it('a user with neither gets nothing, and the API refuses them', () => {
    const done = addConsoleClaims(
      event({ email: 'x@example.com' }, ['viewers']),
      DEFAULT_JWT_IDENTITY,
    );
    expect(done.response.claimsAndScopeOverrideDetails).toEqual({ accessTokenGeneration: {} });
    expect(callerOf(done)).toBeUndefined();
  });

  it('uses the configured claim and scope names', () => {
    const identity = { tenantClaim: 'org', adminScope: 'crm/admin' };
    expect(
      addConsoleClaims(event({ 'custom:tenant_id': 'acme' }), identity).response
        .claimsAndScopeOverrideDetails,
    ).toEqual({ accessTokenGeneration: { claimsToAddOrOverride: { org: 'acme' } } });
    expect(
      addConsoleClaims(event({}, [CONSOLE_ADMIN_GROUP]), identity).response
        .claimsAndScopeOverrideDetails,
    ).toEqual({ accessTokenGeneration: { scopesToAdd: ['crm/admin'] } });
  });
});
