/**
 * What the site publishes at /console-config.json (written by the CDK stack, infra/console.ts):
 * the Cognito user pool's hosted UI address, the console's app client and the scopes it asks for.
 * Absent locally, where the console takes a bearer token instead.
 */
export interface ConsoleConfig {
  cognito?: { domain: string; clientId: string; scopes: string[] };
}
