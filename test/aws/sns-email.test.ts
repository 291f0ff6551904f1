import { randomUUID } from 'node:crypto';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createSnsEmailSender } from '../../lib/aws/sns-email';
import { createTestDatabase } from '../helpers/database';
import { startReceiver } from '../helpers/webhook-receiver';

// E-mail alerts in AWS go to SNS (lib/aws/sns-email.ts); the deliver-alerts function
// (functions/deliver-alerts.ts) sends what is due in the outbox. SNS is mocked with
// aws-sdk-client-mock; the database is real, and so is the function's egress guard.
const sns = mockClient(SNSClient);
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:crm-cron-alerts';
const { sql, appUrl } = await createTestDatabase();
const receiver = await startReceiver();

// The function reads its environment once, at its cold start, as in Lambda.
process.env.DATABASE_URL = appUrl;
process.env.ALERT_EMAIL_TOPIC_ARN = TOPIC;
process.env.ALERT_LINK_BASE_URL = 'https://cron.example.com';
process.env.LOG_LEVEL = 'error';
const { handler } = await import('../../functions/deliver-alerts');
const { app } = await import('../../lib/lambda/app');
afterAll(() => app.sql.end({ timeout: 5 }));

function lambdaContext(): Context {
  return {
    awsRequestId: randomUUID(),
    functionName: 'deliver-alerts',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:deliver-alerts',
    memoryLimitInMB: '256',
    logGroupName: '/aws/lambda/deliver-alerts',
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 300_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

const publishes = () => sns.commandCalls(PublishCommand).map((call) => call.args[0].input);

beforeEach(async () => {
  sns.reset();
  receiver.clear();
  await sql`truncate cron_job, cron_alert_destination, cron_alert_delivery cascade`;
});

/** A destination and one `run.failed` delivery to it, due now. */
async function queued(kind: 'email' | 'webhook', target: string) {
  const [destination] = await sql<{ id: string }[]>`
    insert into cron_alert_destination (tenant_id, name, kind, target, secret)
    values ('acme', ${kind}, ${kind}, ${target},
      ${kind === 'webhook' ? 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' : null})
    returning id`;
  const jobId = randomUUID();
  const [delivery] = await sql<{ id: string }[]>`
    insert into cron_alert_delivery (event_id, event_type, destination_id, tenant_id, job_id,
      payload, next_attempt_at, created_at)
    values (gen_random_uuid(), 'run.failed', ${destination!.id}, 'acme', ${jobId},
      ${sql.json({
        job: { id: jobId, name: 'nightly sync', tenant_id: 'acme', function_name: 'syncCrm' },
        run: {
          id: randomUUID(),
          status: 'error',
          trigger: 'schedule',
          attempt: 1,
          scheduled_for: '2026-11-29T02:00:00.000Z',
          finished_at: '2026-11-29T02:00:01.000Z',
          duration_ms: 1000,
          error: 'CRM API answered 503 — naïve retry gave up',
        },
        consecutive_failures: 1,
      })}, now() - interval '1 second', now() - interval '1 second')
    returning id`;
  return { destinationId: destination!.id, deliveryId: delivery!.id, jobId };
}

const deliveryRow = async (id: string) => {
  const [row] = await sql<
    { status: string; attempts: number; last_error: string | null; next_attempt_at: Date }[]
  >`select status, attempts, last_error, next_attempt_at from cron_alert_delivery where id = ${id}`;
  return row!;
};

describe('SNS e-mail sender', () => {
  it('publishes to the topic: ASCII subject of at most 100 characters, the text, the address and destination as attributes', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const send = createSnsEmailSender(TOPIC);
    await send({
      to: 'oncall@example.com',
      destination_id: 'd-1',
      subject: `[crm-cron] Job naïve ✓ ${'x'.repeat(200)}`,
      text: 'Error: boom',
    });
    const [input] = publishes();
    expect(input).toEqual({
      TopicArn: TOPIC,
      Subject: `[crm-cron] Job na ve   ${'x'.repeat(77)}`,
      Message: 'Error: boom',
      MessageAttributes: {
        email: { DataType: 'String', StringValue: 'oncall@example.com' },
        destination_id: { DataType: 'String', StringValue: 'd-1' },
      },
    });
    expect(input!.Subject).toHaveLength(100);
  });

  it('rejects when SNS does, so the delivery records a failed attempt', async () => {
    sns.on(PublishCommand).rejects(new Error('Rate exceeded'));
    await expect(
      createSnsEmailSender(TOPIC)({
        to: 'a@example.com',
        destination_id: 'd',
        subject: 's',
        text: 't',
      }),
    ).rejects.toThrow('Rate exceeded');
  });
});

describe('deliver-alerts function', () => {
  it('sends a due e-mail through SNS to the stack’s topic, with the job, error and links', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-2' });
    const { deliveryId, destinationId, jobId } = await queued('email', 'oncall@example.com');

    const pass = await handler({}, lambdaContext());

    expect(pass).toEqual({ attempted: 1, delivered: 1, retrying: 0, failed: 0 });
    const [input] = publishes();
    expect(input).toMatchObject({
      TopicArn: TOPIC,
      Subject: '[crm-cron] Job nightly sync (tenant acme) failed',
      MessageAttributes: {
        email: { DataType: 'String', StringValue: 'oncall@example.com' },
        destination_id: { DataType: 'String', StringValue: destinationId },
      },
    });
    expect(input!.Message).toContain('Error: CRM API answered 503');
    expect(input!.Message).toContain(`job: https://cron.example.com/api/cron/jobs/${jobId}`);
    expect(await deliveryRow(deliveryId)).toMatchObject({ status: 'delivered', attempts: 1 });
    // Nothing is due any more: the next invocation sends nothing.
    expect(await handler({}, lambdaContext())).toMatchObject({ attempted: 0 });
    expect(publishes()).toHaveLength(1);
  });

  it('records an SNS failure as an attempt and retries it once due: one e-mail in the end', async () => {
    sns.on(PublishCommand).rejectsOnce(new Error('Rate exceeded')).resolves({ MessageId: 'm-3' });
    const { deliveryId } = await queued('email', 'oncall@example.com');

    expect(await handler({}, lambdaContext())).toEqual({
      attempted: 1,
      delivered: 0,
      retrying: 1,
      failed: 0,
    });
    const retrying = await deliveryRow(deliveryId);
    expect(retrying).toMatchObject({ status: 'pending', attempts: 1, last_error: 'Rate exceeded' });
    expect(retrying.next_attempt_at.getTime()).toBeGreaterThan(Date.now() + 20_000);
    // Not due yet: the next minute's invocation leaves it alone.
    expect(await handler({}, lambdaContext())).toMatchObject({ attempted: 0 });

    // A second back: PostgreSQL's now() has microseconds, and the handler's clock (a JS Date) in the
    // same millisecond would read as just before it, not yet due.
    await sql`update cron_alert_delivery set next_attempt_at = now() - interval '1 second'
      where id = ${deliveryId}`;
    expect(await handler({}, lambdaContext())).toMatchObject({ attempted: 1, delivered: 1 });
    expect(await deliveryRow(deliveryId)).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(publishes()).toHaveLength(2);
  });

  it('keeps the SSRF guard: a webhook to a loopback receiver is refused and recorded, nothing is sent', async () => {
    const { deliveryId } = await queued('webhook', receiver.url('/hook'));

    expect(await handler({}, lambdaContext())).toMatchObject({ attempted: 1, retrying: 1 });

    expect(receiver.received).toHaveLength(0);
    const row = await deliveryRow(deliveryId);
    expect(row).toMatchObject({ status: 'pending', attempts: 1 });
    expect(row.last_error).toMatch(/loopback/);
    expect(publishes()).toHaveLength(0);
  });
});
