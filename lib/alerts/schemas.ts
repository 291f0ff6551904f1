import * as z from 'zod';
import { limit, tenantId, text } from '../jobs/schemas';
import { ALERT_EVENTS, EVENT_DESCRIPTIONS } from './events';

/** Request and response shapes of the /alerts routes; the OpenAPI document is generated from them. */

const uuid = z.uuid();
const name = text().min(1).max(200);
const url = text().max(2048);
const email = z.email().max(320);

export const DESTINATION_KINDS = ['webhook', 'slack', 'email'] as const;

const destinationTenant = tenantId
  .nullable()
  .optional()
  .describe(
    "Admins only: the tenant the destination belongs to; null: global. A tenant caller's destinations belong to its tenant.",
  );

export const createDestinationBody = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('webhook'),
    name,
    url: url.describe(
      'https URL. Each delivery is signed per Standard Webhooks with the secret returned (once) on creation. ' +
        'Addresses that are not public (private, loopback, link-local, metadata) are refused, here after DNS resolution and again at delivery.',
    ),
    tenant_id: destinationTenant,
  }),
  z.strictObject({
    kind: z.literal('slack'),
    name,
    url: url.describe(
      'Slack incoming-webhook URL (https). Treated as a credential: returned with its path hidden.',
    ),
    tenant_id: destinationTenant,
  }),
  z.strictObject({
    kind: z.literal('email'),
    name,
    email: email.describe('Where alerts are mailed (through SNS in AWS; logged locally).'),
    tenant_id: destinationTenant,
  }),
]);

export const updateDestinationBody = z.strictObject({
  name: name.optional(),
  url: url.optional().describe('webhook and slack destinations: a new URL, checked as on creation'),
  email: email.optional().describe('email destinations: a new address'),
  rotate_secret: z
    .boolean()
    .optional()
    .describe(
      'webhook destinations: true replaces the signing secret; the new one is returned once, as `secret`. ' +
        'Deliveries from then on are signed with it.',
    ),
});

export const destinationSchema = z.object({
  id: z.string(),
  tenant_id: z.string().nullable(),
  name: z.string(),
  kind: z.enum(DESTINATION_KINDS),
  url: z
    .string()
    .nullable()
    .describe('webhook: the URL; slack: its origin only (the rest is a credential); email: null'),
  email: z.string().nullable(),
  status: z
    .enum(['active', 'failing'])
    .describe('failing: a delivery gave up after its retries; back to active at the next success'),
  status_changed_at: z.string().nullable(),
  last_error: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const destinationWithSecretSchema = destinationSchema.extend({
  secret: z
    .string()
    .optional()
    .describe('webhook: the signing secret (whsec_…), in this response only; never shown again'),
});

export const listDestinationsQuery = z.strictObject({
  tenant_id: tenantId.optional(),
  limit: limit(100),
});

const events = z
  .array(z.enum(ALERT_EVENTS))
  .min(1)
  .max(ALERT_EVENTS.length)
  .refine((list) => new Set(list).size === list.length, 'each event at most once')
  .describe(
    'Events sent to the destination: ' +
      ALERT_EVENTS.map((event) => `${event}: ${EVENT_DESCRIPTIONS[event]}`).join('; '),
  );

const afterConsecutiveFailures = z
  .number()
  .int()
  .min(1)
  .max(1000)
  .describe(
    'Failure events are sent once the job has this many failed slots in a row (and job.recovered only after as many); ' +
      'the other events always. Default 1.',
  );

export const createRuleBody = z.strictObject({
  destination_id: uuid.describe("A destination in the rule's tenant (admins: or a global one)"),
  job_id: uuid
    .nullable()
    .optional()
    .describe(
      "One job of the rule's tenant; null or absent: every job of the tenant (a global rule: every job)",
    ),
  events,
  after_consecutive_failures: afterConsecutiveFailures.optional(),
  enabled: z.boolean().optional().describe('Default true.'),
  tenant_id: tenantId
    .nullable()
    .optional()
    .describe(
      "Admins only: the rule's tenant; null: global. Default: the job's or the destination's tenant.",
    ),
});

export const updateRuleBody = z.strictObject({
  events: events.optional(),
  after_consecutive_failures: afterConsecutiveFailures.optional(),
  enabled: z.boolean().optional(),
});

export const ruleSchema = z.object({
  id: z.string(),
  tenant_id: z.string().nullable(),
  destination_id: z.string(),
  job_id: z.string().nullable(),
  events: z.array(z.enum(ALERT_EVENTS)),
  after_consecutive_failures: z.number().int(),
  enabled: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const listRulesQuery = z.strictObject({
  destination_id: uuid.optional(),
  job_id: uuid.optional(),
  limit: limit(100),
});

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;

export const listDeliveriesQuery = z.strictObject({
  status: z.enum(DELIVERY_STATUSES).optional(),
  destination_id: uuid.optional(),
  job_id: uuid.optional(),
  event_type: z.enum([...ALERT_EVENTS, 'alert.test']).optional(),
  limit: limit(50),
  cursor: text().min(1).max(200).optional(),
});

export const deliverySchema = z.object({
  id: z.string(),
  webhook_id: z.string().describe('The webhook-id header: the same on every attempt'),
  event_id: z.string(),
  event_type: z.string(),
  destination_id: z.string(),
  tenant_id: z.string().nullable(),
  job_id: z.string().nullable(),
  run_id: z.string().nullable(),
  status: z
    .enum(DELIVERY_STATUSES)
    .describe(
      'pending: not yet delivered (retrying); delivered; failed: gave up after 24 hours of retries',
    ),
  attempts: z.number().int(),
  attempt_log: z.array(
    z.object({
      at: z.string(),
      status_code: z.number().int().nullable(),
      latency_ms: z.number().int(),
      error: z.string().nullable(),
    }),
  ),
  next_attempt_at: z.string().nullable(),
  created_at: z.string(),
  delivered_at: z.string().nullable(),
  last_status_code: z.number().int().nullable(),
  last_latency_ms: z.number().int().nullable(),
  last_error: z.string().nullable(),
});

export const deliveryPageSchema = z.object({
  deliveries: z.array(deliverySchema),
  next_cursor: z.string().nullable(),
});

export const testSendSchema = z.object({
  delivery: deliverySchema,
});
