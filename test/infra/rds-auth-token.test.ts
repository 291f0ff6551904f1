import { Signer } from '@aws-sdk/rds-signer';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { credentialsFromEnvironment, rdsAuthToken } from '../../lib/aws/rds-auth-token';

const target = {
  hostname: 'crm-cron.proxy-abc123.eu-west-1.rds.amazonaws.com',
  port: 5432,
  username: 'crm_cron',
  region: 'eu-west-1',
};

afterEach(() => {
  vi.useRealTimers();
});

describe('RDS IAM auth token', () => {
  it.each([
    ['with a session token', 'IQoJb3JpZ2luX2VjE+/abc==token'],
    ['without a session token', undefined],
  ])('matches @aws-sdk/rds-signer byte for byte %s', async (_, sessionToken) => {
    const now = new Date('2026-11-28T10:07:30Z');
    vi.useFakeTimers({ now });
    const credentials = {
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      sessionToken,
    };
    const expected = await new Signer({ ...target, credentials }).getAuthToken();
    expect(expected).toContain('X-Amz-Date=20261128T100730Z');
    expect(rdsAuthToken({ ...target, credentials, now })).toBe(expected);
  });

  it('takes the function role’s credentials from the environment, and says which are missing', () => {
    expect(
      credentialsFromEnvironment({
        AWS_ACCESS_KEY_ID: 'AKID',
        AWS_SECRET_ACCESS_KEY: 'secret',
        AWS_SESSION_TOKEN: 'token',
      }),
    ).toEqual({ accessKeyId: 'AKID', secretAccessKey: 'secret', sessionToken: 'token' });
    expect(() => credentialsFromEnvironment({})).toThrow(/AWS_ACCESS_KEY_ID/);
  });
});
