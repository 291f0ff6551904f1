import { describe, expect, it } from 'vitest';
import { readConfig } from '../../infra/config';
import { existingContext } from './fixtures/contexts';

const read = (context: Record<string, unknown>) =>
  readConfig({ tryGetContext: (key) => context[key] });

describe('readConfig', () => {
  it('defaults to a new VPC and database, IAM auth, a 5 minute sweep', () => {
    expect(read({})).toMatchObject({
      stackName: 'CrmCron',
      sweepIntervalMinutes: 5,
      dbAuth: 'iam',
      dbName: 'crm_cron',
      dbUser: 'crm_cron',
      jwt: undefined,
      console: undefined,
      createVpcEndpoints: true,
      database: {
        mode: 'new',
        instanceClass: 't4g.micro',
        multiAz: false,
        backupRetentionDays: 7,
        deletionProtection: true,
      },
    });
  });

  it('profile=production: Multi-AZ m7g.large, deletion protection, Performance Insights', () => {
    expect(read({ profile: 'production' })).toMatchObject({
      profile: 'production',
      database: {
        mode: 'new',
        instanceClass: 'm7g.large',
        multiAz: true,
        deletionProtection: true,
        backupRetentionDays: 14,
        performanceInsights: true,
      },
    });
    expect(read({})).toMatchObject({
      profile: 'development',
      database: { instanceClass: 't4g.micro', multiAz: false, performanceInsights: false },
    });
  });

  it('a key given on its own wins over the profile', () => {
    expect(
      read({ profile: 'production', dbInstanceClass: 'r7g.xlarge', dbMultiAz: 'false' }),
    ).toMatchObject({
      database: { instanceClass: 'r7g.xlarge', multiAz: false, performanceInsights: true },
    });
  });

  it('caps the sweep at 3 and run-job at 10 instances unless told otherwise', () => {
    expect(read({})).toMatchObject({ sweepReservedConcurrency: 3, runJobReservedConcurrency: 10 });
    expect(read({ sweepReservedConcurrency: '1', runJobReservedConcurrency: 40 })).toMatchObject({
      sweepReservedConcurrency: 1,
      runJobReservedConcurrency: 40,
    });
  });

  it('accepts -c strings and cdk.json values alike', () => {
    const fromCli = read({
      ...existingContext,
      sweepIntervalMinutes: '10',
      jwtIssuer: 'https://i/',
      jwtAudience: 'a, b',
    });
    const fromJson = read({
      ...existingContext,
      existingAvailabilityZones: ['eu-west-1a', 'eu-west-1b'],
      existingSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
      sweepIntervalMinutes: 10,
      jwtIssuer: 'https://i/',
      jwtAudience: ['a', 'b'],
    });
    expect(fromCli).toEqual(fromJson);
    expect(fromCli).toMatchObject({
      sweepIntervalMinutes: 10,
      jwt: {
        issuer: 'https://i/',
        audience: ['a', 'b'],
        tenantClaim: 'tenant_id',
        adminScope: 'cron:admin',
      },
      createVpcEndpoints: false,
      database: {
        mode: 'existing',
        dbPort: 5432,
        subnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
      },
    });
  });

  it.each(
    Object.keys(existingContext).filter((key) => key !== 'existingVpcId' && key !== 'dbName'),
  )('existing mode names a missing %s', (key) => {
    expect(() => read({ ...existingContext, [key]: undefined })).toThrow(key);
  });

  it('console=true names the tenant claim and admin scope its tokens carry', () => {
    expect(read({ console: 'true' }).console).toEqual({
      tenantClaim: 'tenant_id',
      adminScope: 'cron:admin',
    });
    expect(read({ console: true, jwtTenantClaim: 'org' }).console).toEqual({
      tenantClaim: 'org',
      adminScope: 'cron:admin',
    });
  });

  it.each([
    [{ existingSubnetIds: 'subnet-0123456789abcdef0' }, 'one subnet per'],
    [{ dbInstanceClass: 't4g.small' }, 'dbInstanceClass applies only to a new database'],
    [{ dbPerformanceInsights: 'true' }, 'dbPerformanceInsights applies only to a new database'],
    [{ existingDbSecretArn: 'crm-db' }, 'existingDbSecretArn must be a Secrets Manager secret ARN'],
  ])('existing mode rejects %o', (override, message) => {
    expect(() => read({ ...existingContext, ...override })).toThrow(message);
  });

  it.each([
    [{ existingSubnetIds: 'subnet-1' }, 'existingSubnetIds needs existingVpcId'],
    [{ jwtIssuer: 'https://issuer/' }, 'jwtIssuer and jwtAudience must be given together'],
    [{ dbAuth: 'password' }, "dbAuth must be 'iam' or 'secret'"],
    [{ sweepIntervalMinutes: '0' }, 'sweepIntervalMinutes must be an integer from 1 to 60'],
    [{ dbMultiAz: 'yes' }, 'dbMultiAz must be true or false'],
    [{ dbAllocatedStorageGiB: '50', dbMaxAllocatedStorageGiB: '40' }, 'dbMaxAllocatedStorageGiB'],
    [{ logLevel: 'verbose' }, 'logLevel must be one of'],
    [{ createVpcEndpoints: 'false' }, 'createVpcEndpoints=false applies only to an existing VPC'],
    [{ dbUser: 'crm cron' }, 'dbUser must be a PostgreSQL name'],
    [{ profile: 'staging' }, 'profile must be one of development, production'],
    [{ profile: 'toString' }, 'profile must be one of development, production'],
    [{ runJobReservedConcurrency: '0' }, 'runJobReservedConcurrency must be an integer from 1'],
    [{ runRetentionDays: '0' }, 'runRetentionDays must be an integer from 1'],
    [
      { console: 'true', jwtIssuer: 'https://i/', jwtAudience: 'a' },
      'console=true and jwtIssuer cannot be combined',
    ],
    [{ jwtTenantClaim: 'org' }, 'jwtTenantClaim and jwtAdminScope need jwtIssuer or console=true'],
    [{ console: 'yes' }, 'console must be true or false'],
  ])('rejects %o', (context, message) => {
    expect(() => read(context)).toThrow(message);
  });
});
