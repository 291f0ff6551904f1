import {
  callerFromAuthorizer,
  type AuthorizerContext,
  type JwtIdentityConfig,
} from '../identity/aws-authorizer';
import { OPEN_LOCAL_CALLER } from '../identity/caller';
import { callerForToken, type LocalTokens } from '../identity/local-tokens';
import type { CallerResolver } from './middleware';
import { HttpProblem } from './problem';

/**
 * The local stack: `Authorization: Bearer <token>` names a caller of CRON_API_TOKENS or
 * CRON_API_TOKEN. With no token configured the server is open and every caller is an admin
 * (the start-up line says so).
 */
export function bearerTokenCallers(tokens: LocalTokens): CallerResolver {
  if (tokens.length === 0) return () => OPEN_LOCAL_CALLER;
  return (event) => {
    const header = event.headers.authorization;
    if (!header) {
      throw new HttpProblem(
        401,
        'this route needs an Authorization: Bearer <token> header',
        undefined,
        {
          'www-authenticate': 'Bearer',
        },
      );
    }
    const [scheme, presented] = header.split(' ', 2);
    const caller =
      scheme?.toLowerCase() === 'bearer' && presented
        ? callerForToken(tokens, presented)
        : undefined;
    if (!caller) throw new HttpProblem(403, 'the bearer token is not valid');
    return caller;
  };
}

/**
 * AWS: API Gateway has already authenticated the request (IAM or JWT); the identity is read from
 * its authorizer context only. A JWT with neither the tenant claim nor the admin scope is refused.
 */
export function authorizerCallers(config: JwtIdentityConfig): CallerResolver {
  return (event) => {
    const context = event.requestContext as { authorizer?: AuthorizerContext };
    const caller = callerFromAuthorizer(context.authorizer, config);
    if (!caller) {
      throw new HttpProblem(
        403,
        `the token carries neither a ${config.tenantClaim} claim nor the ${config.adminScope} scope`,
      );
    }
    return caller;
  };
}
