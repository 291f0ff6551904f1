import { secretPassword } from '../lib/aws/database';
import { createLogger } from '../lib/logger';

const log = createLogger('info');

/**
 * The lean profile's deploy trigger (no RDS Proxy, no Secrets Manager endpoint in the VPC): runs
 * outside the VPC, where it reaches Secrets Manager, reads the owner's password and invokes
 * `migrate` (inside the VPC, where it reaches the database) with it, synchronously, returning
 * what migrate returns and failing when it fails. It has no network path to the database.
 * `{"dryRun": true}` is passed on.
 */
export const handler = async (event?: { dryRun?: unknown }) => {
  const secretArn = process.env.DB_SECRET_ARN;
  const migrate = process.env.MIGRATE_FUNCTION_NAME;
  if (!secretArn || !migrate) {
    throw new Error('DB_SECRET_ARN and MIGRATE_FUNCTION_NAME are required');
  }
  const ownerPassword = await secretPassword(secretArn, process.env.AWS_REGION);
  const { InvokeCommand, LambdaClient } = await import('@aws-sdk/client-lambda');
  const answer = await new LambdaClient({}).send(
    new InvokeCommand({
      FunctionName: migrate,
      Payload: Buffer.from(JSON.stringify({ dryRun: event?.dryRun === true, ownerPassword })),
    }),
  );
  const body: unknown = answer.Payload
    ? JSON.parse(Buffer.from(answer.Payload).toString('utf8'))
    : null;
  if (answer.FunctionError) {
    const message = (body as { errorMessage?: string } | null)?.errorMessage ?? 'unknown error';
    log.error('migrate failed', { error: message });
    throw new Error(`migrate failed: ${message}`);
  }
  log.info('migrate finished', { result: body });
  return body;
};
