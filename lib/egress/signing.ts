import { createHmac, randomBytes, randomUUID } from 'node:crypto';

/** A Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
export function generateSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export const SIGNING_SECRET_PATTERN = /^whsec_[A-Za-z0-9+/]{22,}={0,2}$/;
const SECRET_PREFIX = 'whsec_';

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * The three Standard Webhooks headers for one message (https://www.standardwebhooks.com):
 * the receiver verifies them with the same secret, e.g. `new Webhook(secret).verify(body, headers)`
 * from the `standardwebhooks` package. `id` should be stable across retries of one message so the
 * receiver can drop duplicates.
 */
export function signMessage(
  secret: string,
  body: string,
  options: { id?: string; timestamp?: Date } = {},
): SignedHeaders {
  const id = options.id ?? `msg_${randomUUID()}`;
  const timestamp = options.timestamp ?? new Date();
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': signature(
      secret,
      `${id}.${Math.floor(timestamp.getTime() / 1000)}.${body}`,
    ),
  };
}

/**
 * The `v1` signature of Standard Webhooks: HMAC-SHA256 over `id.timestamp.body`, keyed with the
 * secret's base64 bytes. Written with node:crypto rather than the `standardwebhooks` package (and
 * its SHA-256 and base64 code), which every bundle that can send a webhook would otherwise carry;
 * the tests verify these signatures with that package's verifier.
 */
function signature(secret: string, signed: string): string {
  const key = Buffer.from(
    secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret,
    'base64',
  );
  // As the package does: an empty key would sign with nothing a receiver could check.
  if (key.length === 0) throw new Error("Secret can't be empty.");
  return `v1,${createHmac('sha256', key).update(signed, 'utf8').digest('base64')}`;
}
