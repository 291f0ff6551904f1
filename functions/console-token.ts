import { DEFAULT_JWT_IDENTITY } from '../lib/identity/aws-authorizer';
import { addConsoleClaims, type PreTokenGenerationEvent } from '../lib/identity/cognito-token';

// Cognito pre-token-generation (V2) trigger of the console's user pool.
const identity = {
  tenantClaim: process.env.JWT_TENANT_CLAIM ?? DEFAULT_JWT_IDENTITY.tenantClaim,
  adminScope: process.env.JWT_ADMIN_SCOPE ?? DEFAULT_JWT_IDENTITY.adminScope,
};

export const handler = async (event: PreTokenGenerationEvent) => addConsoleClaims(event, identity);
