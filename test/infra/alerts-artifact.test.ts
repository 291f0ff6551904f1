import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCronApp, functionEntry } from '../../infra/cron-app';
import { createTestDatabase } from '../helpers/database';
import { startReceiver } from '../helpers/webhook-receiver';

// The deliver-alerts bundle as `cdk deploy` would upload it with `-c alerts=true`, run in a fresh
// Node process outside the repository against the real test database. As in the Lambda runtime,
// only @aws-sdk/* is there besides the bundle; SNS is a loopback HTTP endpoint speaking its query
// protocol (AWS_ENDPOINT_URL_SNS), so the real SDK signs and sends a real Publish.
const runner = path.join(import.meta.dirname, 'fixtures', 'invoke-bundle.mjs');
const stub = path.join(import.meta.dirname, 'fixtures', 'stub-handler.ts');
const repoSdk = path.join(import.meta.dirname, '..', '..', 'node_modules', '@aws-sdk');
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:crm-cron-alerts';

const db = await createTestDatabase();
const receiver = await startReceiver();
const published: URLSearchParams[] = [];
const snsEndpoint = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    published.push(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    response.setHeader('content-type', 'text/xml');
    response.end(
      '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult>' +
        `<MessageId>${randomUUID()}</MessageId></PublishResult><ResponseMetadata>` +
        `<RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
    );
  });
});
await new Promise<void>((resolve) => snsEndpoint.listen(0, '127.0.0.1', resolve));
afterAll(() => snsEndpoint.close());

let outdir: string;
let bundle: { dir: string; timeoutMs: number; environment: Record<string, string> };

beforeAll(async () => {
  outdir = mkdtempSync(path.join(tmpdir(), 'crm-cron-alerts-artifact-'));
  const { app, stack } = createCronApp({
    outdir,
    entry: (name) => (name === 'deliver-alerts' ? functionEntry(name) : stub),
    context: { alerts: 'true' },
  });
  const template = app.synth().getStackArtifact(stack.artifactId).template as {
    Resources: Record<string, { Properties: Record<string, unknown> }>;
  };
  const fn = stack.functions.byName.get('deliver-alerts')!;
  const props = template.Resources[stack.getLogicalId(fn.node.defaultChild as never)]!.Properties;
  const key = (props.Code as { S3Key: string }).S3Key;
  const variables = (props.Environment as { Variables: Record<string, unknown> }).Variables;
  bundle = {
    dir: path.join(outdir, `asset.${key.replace(/\.zip$/, '')}`),
    timeoutMs: Number(props.Timeout) * 1000,
    environment: Object.fromEntries(
      Object.entries(variables).filter(
        (entry): entry is [string, string] => typeof entry[1] === 'string',
      ),
    ),
  };
  // What the Node.js Lambda runtime provides besides the bundle.
  mkdirSync(path.join(bundle.dir, 'node_modules'));
  symlinkSync(repoSdk, path.join(bundle.dir, 'node_modules', '@aws-sdk'), 'dir');
}, 300_000);
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

function invoke(): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [runner, bundle.dir, 'deliver-alerts', String(bundle.timeoutMs)],
      {
        cwd: bundle.dir,
        env: {
          PATH: process.env.PATH,
          TZ: 'UTC',
          AWS_REGION: 'eu-west-1',
          AWS_LAMBDA_FUNCTION_NAME: 'deliver-alerts',
          AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
          AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
          AWS_ENDPOINT_URL_SNS: `http://127.0.0.1:${(snsEndpoint.address() as AddressInfo).port}`,
          ...bundle.environment,
          // A token in the template (the topic's Ref) until deployed.
          ALERT_EMAIL_TOPIC_ARN: TOPIC,
          DATABASE_URL: db.appUrl,
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`deliver-alerts failed: ${error.message}\n${stderr}`));
        const [result] = stdout
          .split('\n')
          .filter((line) => line.startsWith('RESULT '))
          .map((line) => JSON.parse(line.slice('RESULT '.length)));
        resolve(result);
      },
    );
    child.stdin?.end(JSON.stringify([{}]));
  });
}

async function queue(kind: 'email' | 'webhook', target: string): Promise<string> {
  const [destination] = await db.sql<{ id: string }[]>`
    insert into cron_alert_destination (tenant_id, name, kind, target, secret)
    values ('acme', ${kind}, ${kind}, ${target},
      ${kind === 'webhook' ? 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' : null})
    returning id`;
  const jobId = randomUUID();
  const [delivery] = await db.sql<{ id: string }[]>`
    insert into cron_alert_delivery (event_id, event_type, destination_id, tenant_id, job_id,
      payload, next_attempt_at, created_at)
    values (gen_random_uuid(), 'run.failed', ${destination!.id}, 'acme', ${jobId},
      ${db.sql.json({
        job: { id: jobId, name: 'nightly sync', tenant_id: 'acme', function_name: 'syncCrm' },
        run: null,
        consecutive_failures: 2,
      })}, now() - interval '1 second', now() - interval '1 second')
    returning id`;
  return delivery!.id;
}

describe('deliver-alerts bundle as shipped (alerts=true)', () => {
  it('sends a due e-mail through SNS, refuses a loopback webhook (SSRF guard), and records both', async () => {
    const email = await queue('email', 'oncall@example.com');
    const webhook = await queue('webhook', receiver.url('/hook'));

    expect(await invoke()).toEqual({
      value: { attempted: 2, delivered: 1, retrying: 1, failed: 0 },
    });

    expect(published).toHaveLength(1);
    const publish = published[0]!;
    expect(publish.get('Action')).toBe('Publish');
    expect(publish.get('TopicArn')).toBe(TOPIC);
    expect(publish.get('Subject')).toBe('[crm-cron] Job nightly sync (tenant acme) failed');
    expect(publish.get('Message')).toContain('Consecutive failed slots: 2');
    const attributes = new Map<string, string>();
    for (let n = 1; publish.has(`MessageAttributes.entry.${n}.Name`); n += 1) {
      attributes.set(
        publish.get(`MessageAttributes.entry.${n}.Name`)!,
        publish.get(`MessageAttributes.entry.${n}.Value.StringValue`)!,
      );
    }
    expect(attributes.get('email')).toBe('oncall@example.com');
    expect(receiver.received).toHaveLength(0);

    const rows = await db.sql<
      { id: string; status: string; attempts: number; last_error: string | null }[]
    >`select id, status, attempts, last_error from cron_alert_delivery`;
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(byId.get(email)).toMatchObject({ status: 'delivered', attempts: 1, last_error: null });
    expect(byId.get(webhook)).toMatchObject({ status: 'pending', attempts: 1 });
    expect(byId.get(webhook)!.last_error).toMatch(/loopback/);

    // The next minute's invocation finds nothing due.
    expect(await invoke()).toEqual({
      value: { attempted: 0, delivered: 0, retrying: 0, failed: 0 },
    });
    expect(published).toHaveLength(1);
  });
});
