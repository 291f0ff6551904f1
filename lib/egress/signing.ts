import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** A Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
export function generateSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export const SIGNING_SECRET_PATTERN = /^whsec_[A-Za-z0-9+/]{22,}={0,2}$/;

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
    'webhook-signature': new Webhook(secret).sign(id, timestamp, body),
  };
}
