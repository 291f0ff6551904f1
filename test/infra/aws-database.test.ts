import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Sql } from '../../lib/db';
import {
  clearSecretCache,
  connectToAwsDatabase,
  parseAwsDatabaseConfig,
  type AwsDatabaseConfig,
} from '../../lib/aws/database';

const base = {
  DB_HOST: 'proxy.proxy-abc.eu-west-1.rds.amazonaws.com',
  DB_PORT: '5432',
  DB_NAME: 'crm_cron',
  DB_USER: 'crm_cron',
  AWS_REGION: 'eu-west-1',
};
const secretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf';

/** The password function postgres.js calls for each new connection (typed `null` upstream). */
function passwordOf(sql: Sql): () => Promise<string> {
  return (sql.options as unknown as { pass: () => Promise<string> }).pass;
}

describe('parseAwsDatabaseConfig', () => {
  it('defaults to IAM auth', () => {
    expect(parseAwsDatabaseConfig(base)).toEqual({
      host: base.DB_HOST,
      port: 5432,
      database: 'crm_cron',
      user: 'crm_cron',
      region: 'eu-west-1',
      auth: 'iam',
    });
  });

  it('reads the secret ARN in secret mode', () => {
    const config = parseAwsDatabaseConfig({ ...base, DB_AUTH: 'secret', DB_SECRET_ARN: secretArn });
    expect(config).toMatchObject({ auth: 'secret', secretArn });
  });

  it.each(['DB_HOST', 'DB_NAME', 'DB_USER'])('names a missing %s', (name) => {
    expect(() => parseAwsDatabaseConfig({ ...base, [name]: undefined })).toThrow(name);
    expect(() => parseAwsDatabaseConfig({ ...base, [name]: '  ' })).toThrow(name);
  });

  it('requires DB_SECRET_ARN in secret mode', () => {
    expect(() => parseAwsDatabaseConfig({ ...base, DB_AUTH: 'secret' })).toThrow('DB_SECRET_ARN');
  });

  it('rejects a bad port or auth mode without echoing the value', () => {
    expect(() => parseAwsDatabaseConfig({ ...base, DB_PORT: 'hunter2' })).toThrow(
      /^Environment variable DB_PORT must be an integer from 1 to 65535$/,
    );
    expect(() => parseAwsDatabaseConfig({ ...base, DB_AUTH: 's3cr3t' })).toThrow(
      /^Environment variable DB_AUTH must be 'iam' or 'secret'$/,
    );
  });
});

describe('connectToAwsDatabase', () => {
  const secrets = mockClient(SecretsManagerClient);
  const opened: Sql[] = [];
  const open = (config: AwsDatabaseConfig) => {
    const sql = connectToAwsDatabase(config, { max: 1 });
    opened.push(sql);
    return sql;
  };

  beforeEach(() => {
    secrets.reset();
    clearSecretCache();
  });
  afterEach(async () => {
    vi.useRealTimers();
    await Promise.all(opened.splice(0).map((sql) => sql.end({ timeout: 0 })));
  });

  it('goes through the proxy with verified TLS and no prepared statements', () => {
    const sql = open(parseAwsDatabaseConfig(base));
    expect(sql.options).toMatchObject({ host: [base.DB_HOST], port: [5432], ssl: true });
    expect(sql.options).toMatchObject({ prepare: false, user: 'crm_cron', database: 'crm_cron' });
  });

  it('signs an IAM token for the proxy user per connection', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY');
    try {
      const token = await passwordOf(open(parseAwsDatabaseConfig(base)))();
      expect(token).toMatch(new RegExp(`^${base.DB_HOST.replaceAll('.', '\\.')}:5432/\\?`));
      expect(token).toContain('Action=connect');
      expect(token).toContain('DBUser=crm_cron');
      expect(secrets.calls()).toHaveLength(0);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('reads the secret once for every connection, then again after it may have rotated', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    secrets
      .on(GetSecretValueCommand, { SecretId: secretArn })
      .resolvesOnce({ SecretString: JSON.stringify({ username: 'crm_cron', password: 'first' }) })
      .resolves({ SecretString: JSON.stringify({ username: 'crm_cron', password: 'rotated' }) });
    const config = parseAwsDatabaseConfig({ ...base, DB_AUTH: 'secret', DB_SECRET_ARN: secretArn });
    const [a, b] = [open(config), open(config)].map(passwordOf) as [
      () => Promise<string>,
      () => Promise<string>,
    ];
    expect(await Promise.all([a(), a(), b()])).toEqual(['first', 'first', 'first']);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    vi.advanceTimersByTime(16 * 60_000);
    expect(await a()).toBe('rotated');
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('retries a failed secret read and never puts the secret in the error', async () => {
    secrets
      .on(GetSecretValueCommand)
      .rejectsOnce(new Error('throttled'))
      .resolvesOnce({ SecretString: JSON.stringify({ pass: 'hunter2' }) })
      .resolves({ SecretString: JSON.stringify({ password: 'ok' }) });
    const password = passwordOf(
      open(parseAwsDatabaseConfig({ ...base, DB_AUTH: 'secret', DB_SECRET_ARN: secretArn })),
    );
    await expect(password()).rejects.toThrow('throttled');
    const error = await password().catch((e: unknown) => e);
    expect(String(error)).toContain('no string "password" field');
    expect(String(error)).not.toContain('hunter2');
    expect(await password()).toBe('ok');
  });
});
