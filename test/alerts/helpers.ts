import { expect } from 'vitest';
import type { TestServer } from '../helpers/server';

export const TOKENS = {
  acme: 'acme-alerts-token-0123456789',
  globex: 'globex-alerts-token-0123456789',
  admin: 'admin-alerts-token-0123456789',
};
export const TOKEN_CONFIG = `${TOKENS.acme}:alice:acme,${TOKENS.globex}:bob:globex,${TOKENS.admin}:root:*`;
export type As = keyof typeof TOKENS;

export const as = (who: As) => ({ authorization: `Bearer ${TOKENS[who]}` });

/** Creates a destination through the API; returns its id and (webhook) its one-time secret. */
export async function createDestination(
  server: TestServer,
  who: As,
  body: Record<string, unknown>,
): Promise<{ id: string; secret?: string }> {
  const response = await server.request('POST', '/api/cron/alerts/destinations', {
    body,
    headers: as(who),
  });
  expect(response.status, response.text).toBe(201);
  return { id: response.body.id, secret: response.body.secret };
}

export async function createRule(
  server: TestServer,
  who: As,
  body: Record<string, unknown>,
): Promise<string> {
  const response = await server.request('POST', '/api/cron/alerts/rules', {
    body,
    headers: as(who),
  });
  expect(response.status, response.text).toBe(201);
  return response.body.id;
}
