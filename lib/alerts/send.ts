import type { EgressClient } from '../egress/http-client';
import { signMessage } from '../egress/signing';
import type { Log } from '../logger';
import { webhookId } from './deliveries';
import type { AlertEventData } from './events';
import { emailMessage, slackBody, webhookBody, type AlertMessageInput } from './messages';

/** One claimed delivery with what sending it needs (its destination's target and secret). */
export interface DeliveryTask {
  id: string;
  event_id: string;
  event_type: string;
  created_at: Date;
  tenant_id: string | null;
  payload: AlertEventData;
  /** Failed attempts so far. */
  attempts: number;
  destination: {
    id: string;
    kind: 'webhook' | 'slack' | 'email';
    target: string;
    secret: string | null;
  };
}

/** How one attempt went; `error` never holds a secret or a Slack URL. */
export interface AttemptResult {
  delivery_id: string;
  ok: boolean;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
}

/** Sends an e-mail: SNS in AWS (lib/aws/sns-email.ts), a log line locally. */
export type EmailSender = (message: {
  to: string;
  subject: string;
  text: string;
  destination_id: string;
}) => Promise<void>;

export interface SenderSettings {
  egress: EgressClient;
  email: EmailSender;
  /** Milliseconds an attempt may wait for the receiver's answer. */
  timeoutMs: number;
  /** Base URL of the API for links in messages (`<base>/api/cron/jobs/<id>`); none: no links. */
  linkBaseUrl?: string | undefined;
  /**
   * The clock of `webhook-timestamp`: the real one, since receivers compare it with theirs
   * (standardwebhooks allows 5 minutes), whatever clock schedules the attempts.
   */
  signingClock?: () => Date;
}

const KEPT_RESPONSE_BYTES = 512;

/** The e-mail sender of `npm start`: the message goes to the log instead of a mailbox. */
export function loggingEmailSender(log: Log): EmailSender {
  return async (message) => {
    log.info('alert email (logged locally; sent through SNS in AWS)', message);
  };
}

/**
 * One attempt of one delivery. Webhooks are signed per Standard Webhooks with the destination's
 * secret and `webhook-id` msg_<delivery id>, the same on every attempt. Only a 2xx answer counts
 * as delivered (redirects are not followed). Never throws: every failure is a result.
 */
export async function attemptDelivery(
  task: DeliveryTask,
  settings: SenderSettings,
): Promise<AttemptResult> {
  const input: AlertMessageInput = {
    event_id: task.event_id,
    event_type: task.event_type,
    occurred_at: task.created_at,
    tenant_id: task.tenant_id,
    data: task.payload,
  };
  const started = performance.now();
  const result = (ok: boolean, status_code: number | null, error: string | null) => ({
    delivery_id: task.id,
    ok,
    status_code,
    latency_ms: Math.round(performance.now() - started),
    error,
  });
  const { destination } = task;
  try {
    if (destination.kind === 'email') {
      await settings.email({
        to: destination.target,
        destination_id: destination.id,
        ...emailMessage(input, settings.linkBaseUrl),
      });
      return result(true, null, null);
    }
    const body =
      destination.kind === 'webhook'
        ? webhookBody(input, settings.linkBaseUrl)
        : slackBody(input, settings.linkBaseUrl);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'crm-cron-alerts',
    };
    if (destination.kind === 'webhook') {
      Object.assign(
        headers,
        signMessage(destination.secret ?? '', body, {
          id: webhookId(task.id),
          timestamp: (settings.signingClock ?? (() => new Date()))(),
        }),
      );
    }
    const response = await settings.egress.request({
      method: 'POST',
      url: destination.target,
      headers,
      body,
      timeoutMs: settings.timeoutMs,
      maxResponseBytes: KEPT_RESPONSE_BYTES,
    });
    const ok = response.status >= 200 && response.status <= 299;
    return result(
      ok,
      response.status,
      ok
        ? null
        : `HTTP ${response.status}${response.body ? `: ${response.body.slice(0, 200)}` : ''}`,
    );
  } catch (error) {
    // The URL may be a credential (Slack): errors name the destination's host at most.
    const message = (error as Error).message
      .split(destination.target)
      .join(hostOf(destination.target));
    return result(false, null, message.slice(0, 500));
  }
}

function hostOf(target: string): string {
  try {
    return new URL(target).host;
  } catch {
    return '(destination)';
  }
}
