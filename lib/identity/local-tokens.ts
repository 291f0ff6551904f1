import { createHash, timingSafeEqual } from 'node:crypto';
import type { Caller } from './caller';

/** The callers the local stack knows, by bearer token. Empty: the server is open. */
export type LocalTokens = ReadonlyArray<{ token: string; caller: Caller }>;

const MIN_TOKEN_LENGTH = 16;
const NAME = /^[A-Za-z0-9._@-]{1,100}$/;

/**
 * Parses `CRON_API_TOKENS` (`token:subject:tenant` entries, comma-separated, `*` as tenant =
 * admin) and `CRON_API_TOKEN` (one admin token, subject `admin`). Throws naming the variable and
 * entry (by position, never by its token) that is wrong.
 */
export function parseLocalTokens(
  tokensVariable: string | undefined,
  adminToken: string | undefined,
): LocalTokens {
  const tokens: Array<{ token: string; caller: Caller }> = [];
  if (adminToken !== undefined) {
    if (adminToken.length < MIN_TOKEN_LENGTH) {
      throw new Error(`CRON_API_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters`);
    }
    tokens.push({ token: adminToken, caller: { subject: 'admin', tenant_id: null, admin: true } });
  }
  const entries = (tokensVariable ?? '').split(',').map((entry) => entry.trim());
  entries.forEach((entry, index) => {
    if (entry === '') return;
    const where = `CRON_API_TOKENS entry ${index + 1}`;
    const parts = entry.split(':');
    if (parts.length !== 3) throw new Error(`${where} must be token:subject:tenant`);
    const [token, subject, tenant] = parts as [string, string, string];
    if (token.length < MIN_TOKEN_LENGTH) {
      throw new Error(`${where}: the token must be at least ${MIN_TOKEN_LENGTH} characters`);
    }
    if (!NAME.test(subject))
      throw new Error(`${where}: the subject must be 1-100 of A-Z a-z 0-9 . _ @ -`);
    if (tenant !== '*' && !NAME.test(tenant)) {
      throw new Error(`${where}: the tenant must be * (admin) or 1-100 of A-Z a-z 0-9 . _ @ -`);
    }
    if (tokens.some((known) => known.token === token)) {
      throw new Error(`${where}: the token is already used by another entry`);
    }
    tokens.push({
      token,
      caller:
        tenant === '*'
          ? { subject, tenant_id: null, admin: true }
          : { subject, tenant_id: tenant, admin: false },
    });
  });
  return tokens;
}

/**
 * The caller a presented bearer token belongs to, or undefined. Every known token is compared in
 * constant time (over digests, so lengths leak nothing either), and all of them, whichever matches.
 */
export function callerForToken(tokens: LocalTokens, presented: string): Caller | undefined {
  const digest = sha256(presented);
  let found: Caller | undefined;
  for (const { token, caller } of tokens) {
    if (timingSafeEqual(digest, sha256(token)) && !found) found = caller;
  }
  return found;
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
