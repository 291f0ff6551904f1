import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { deliverDue, type DeliveryPass } from '../lib/alerts/delivery';
import { createEgressClient } from '../lib/egress/http-client';
import { createSnsEmailSender } from '../lib/aws/sns-email';
import { app, log } from '../lib/lambda/app';

// One attempt waits at most this long; the pass stops claiming well before the function's end.
const ATTEMPT_TIMEOUT_MS = 10_000;

const senders = {
  egress: createEgressClient(),
  email: createSnsEmailSender(process.env.ALERT_EMAIL_TOPIC_ARN ?? ''),
  timeoutMs: ATTEMPT_TIMEOUT_MS,
  linkBaseUrl: process.env.ALERT_LINK_BASE_URL,
};

/**
 * EventBridge, once a minute (infra/alerts.ts): sends what is due in the alert outbox, with the
 * same claim, retry schedule and recording as the local loop. Runs apart from the sweep.
 */
export const handler = middy<unknown, DeliveryPass, Error, Context>().handler(
  async (_, context) => {
    // Room for one more batch of attempts and its recording before Lambda stops the function.
    const deadline = new Date(
      Date.now() + context.getRemainingTimeInMillis() - 3 * ATTEMPT_TIMEOUT_MS,
    );
    const pass = await deliverDue({ sql: app.sql, log, senders }, { deadline });
    if (pass.attempted > 0) log.info('alerts delivered', { ...pass });
    return pass;
  },
);
