import type { JwtIdentityConfig } from './aws-authorizer';

/** The Cognito group whose members sign in to the console as admins. */
export const CONSOLE_ADMIN_GROUP = 'admins';
/** The user attribute that names a console user's tenant (set by an administrator). */
export const CONSOLE_TENANT_ATTRIBUTE = 'custom:tenant_id';

/** The parts of a Cognito pre-token-generation (V2) event we read and fill. */
export interface PreTokenGenerationEvent {
  request: {
    userAttributes?: Record<string, string | undefined>;
    groupConfiguration?: { groupsToOverride?: string[] };
  };
  response: {
    claimsAndScopeOverrideDetails?: {
      accessTokenGeneration?: {
        claimsToAddOrOverride?: Record<string, string>;
        scopesToAdd?: string[];
      };
    } | null;
  };
}

/**
 * Puts into a console user's access token what the API reads (`callerFromAuthorizer`): members
 * of the admins group get the admin scope; everyone else gets their tenant attribute as the
 * tenant claim. A user with neither gets nothing, and the API refuses their requests.
 */
export function addConsoleClaims<E extends PreTokenGenerationEvent>(
  event: E,
  identity: JwtIdentityConfig,
): E {
  const admin = (event.request.groupConfiguration?.groupsToOverride ?? []).includes(
    CONSOLE_ADMIN_GROUP,
  );
  const tenant = event.request.userAttributes?.[CONSOLE_TENANT_ATTRIBUTE];
  const accessTokenGeneration: {
    claimsToAddOrOverride?: Record<string, string>;
    scopesToAdd?: string[];
  } = {};
  if (admin) accessTokenGeneration.scopesToAdd = [identity.adminScope];
  else if (tenant) accessTokenGeneration.claimsToAddOrOverride = { [identity.tenantClaim]: tenant };
  event.response.claimsAndScopeOverrideDetails = { accessTokenGeneration };
  return event;
}
