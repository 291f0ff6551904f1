import type { Node } from 'constructs';
import { parseAppRole } from '../lib/app-role';
import { DEFAULT_JWT_IDENTITY } from '../lib/identity/aws-authorizer';
import { DEFAULT_RUN_RETENTION_DAYS } from '../lib/engine/retention';

export type DbAuth = 'iam' | 'secret';
export const logLevels = ['debug', 'info', 'warn', 'error'] as const;

/**
 * Named sets of defaults, picked with `-c profile=<name>`; any key given on its own still wins.
 * `development` (the default) is cheap when idle: one small instance in one zone. `production`
 * survives the loss of a zone and sustains load: Multi-AZ, a non-burstable instance class that
 * supports Performance Insights, deletion protection, two weeks of backups. `lean` is
 * `development` without RDS Proxy (the functions log in to the instance itself with IAM tokens)
 * and with one interface endpoint in one zone: the cheapest idle stack (README "Cost").
 */
export const profiles = {
  development: {
    dbInstanceClass: 't4g.micro',
    dbMultiAz: false,
    dbDeletionProtection: true,
    dbBackupRetentionDays: 7,
    dbPerformanceInsights: false,
    dbProxy: true,
    endpointZones: 2,
  },
  production: {
    dbInstanceClass: 'm7g.large',
    dbMultiAz: true,
    dbDeletionProtection: true,
    dbBackupRetentionDays: 14,
    dbPerformanceInsights: true,
    dbProxy: true,
    endpointZones: 2,
  },
  lean: {
    dbInstanceClass: 't4g.micro',
    dbMultiAz: false,
    dbDeletionProtection: true,
    dbBackupRetentionDays: 7,
    dbPerformanceInsights: false,
    dbProxy: false,
    endpointZones: 1,
  },
} as const;
export type ProfileName = keyof typeof profiles;

/** A database the stack creates, in a VPC it creates. */
export interface NewDatabaseConfig {
  mode: 'new';
  instanceClass: string;
  allocatedStorageGiB: number;
  maxAllocatedStorageGiB: number;
  multiAz: boolean;
  backupRetentionDays: number;
  deletionProtection: boolean;
  /** Performance Insights with its free 7-day retention. */
  performanceInsights: boolean;
}

/** The CRM's own VPC and database, imported by attributes so synth needs no lookups. */
export interface ExistingDatabaseConfig {
  mode: 'existing';
  vpcId: string;
  availabilityZones: string[];
  /** Private subnets, one per zone above, for the functions and the proxy. */
  subnetIds: string[];
  dbSecurityGroupId: string;
  dbInstanceIdentifier: string;
  dbEndpoint: string;
  /** The database's own port; the proxy always listens on 5432. */
  dbPort: number;
  dbSecretArn: string;
  /** Only when the secret is encrypted with a customer-managed key. */
  dbSecretKmsKeyArn: string | undefined;
}

export interface CronConfig {
  stackName: string;
  profile: ProfileName;
  logLevel: (typeof logLevels)[number];
  sweepIntervalMinutes: number;
  alarmEmail: string | undefined;
  /**
   * The JWT authorizer, when configured (otherwise IAM). `tenantClaim` names the claim that holds a
   * caller's tenant, `adminScope` the scope that makes a caller an admin.
   */
  jwt: { issuer: string; audience: string[]; tenantClaim: string; adminScope: string } | undefined;
  /**
   * The operator console in AWS (`-c console=true`, off by default): CloudFront + S3 + a Cognito
   * user pool whose access tokens the API's JWT authorizer then accepts (instead of IAM).
   * `tenantClaim` and `adminScope` are what the pool's tokens carry (jwtTenantClaim, jwtAdminScope).
   */
  console: { tenantClaim: string; adminScope: string } | undefined;
  /** Stage throttling: steady requests per second and burst. */
  apiRateLimit: number;
  apiBurstLimit: number;
  /**
   * Reserved concurrency of the sweep and of `run-job`: each instance holds up to 2 proxy
   * connections, so these caps bound what a burst of precise jobs or overlapping sweeps can take.
   */
  sweepReservedConcurrency: number;
  runJobReservedConcurrency: number;
  /**
   * The worker function's SQS event source: at most this many instances at once (2 proxy
   * connections each), so a large dispatched sweep cannot take the database's connections.
   */
  workerMaxConcurrency: number;
  /** DISPATCH of the sweep: `overflow` (default), `always` or `never` (see lib/lambda/app.ts). */
  dispatch: 'overflow' | 'always' | 'never';
  /** RUN_RETENTION_DAYS of the functions: run history older than this is removed. */
  runRetentionDays: number;
  dbAuth: DbAuth;
  dbName: string;
  /** The owner: the migrate function logs in as it (in new mode, the master user). */
  dbUser: string;
  /**
   * The role every other function logs in as (lib/app-role.ts), with IAM tokens; null
   * (`dbAppRole=none`, or dbAuth=secret) leaves them on dbUser.
   */
  dbAppRole: string | null;
  /** RDS Proxy between the functions and the database; false: they connect to the instance. */
  dbProxy: boolean;
  createVpcEndpoints: boolean;
  /**
   * Alert delivery (`-c alerts=true`, off by default): the functions sit in subnets with no route
   * out, so alerts go out through a delivery function in subnets with one (infra/alerts.ts). A
   * new VPC then gets one NAT gateway for it; the CRM's VPC is expected to have its own route out.
   */
  alerts: boolean;
  /** Zones (subnets) each interface endpoint is placed in: 2, or 1 for the lean profile. */
  endpointZones: 1 | 2;
  database: NewDatabaseConfig | ExistingDatabaseConfig;
}

const newOnly = [
  'dbInstanceClass',
  'dbAllocatedStorageGiB',
  'dbMaxAllocatedStorageGiB',
  'dbMultiAz',
  'dbBackupRetentionDays',
  'dbDeletionProtection',
  'dbPerformanceInsights',
] as const;
const existingRequired = [
  'existingVpcId',
  'existingAvailabilityZones',
  'existingSubnetIds',
  'existingDbSecurityGroupId',
  'existingDbInstanceIdentifier',
  'existingDbEndpoint',
  'existingDbSecretArn',
  'dbUser',
] as const;
const existingOptional = ['existingDbPort', 'existingDbSecretKmsKeyArn'] as const;

/**
 * Reads and validates the CDK context (`cdk.json` or `-c key=value`; `-c` values arrive as
 * strings, so numbers, booleans and lists are accepted in either form). Errors name the key.
 */
export function readConfig(node: Pick<Node, 'tryGetContext'>): CronConfig {
  const raw = (key: string): unknown => {
    const value: unknown = node.tryGetContext(key);
    return value === '' ? undefined : value;
  };
  const str = (key: string): string | undefined => {
    const value = raw(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw new Error(`Context ${key} must be a string`);
    return value.trim();
  };
  const int = (key: string, fallback: number, min: number, max: number): number => {
    const value = raw(key);
    const parsed = value === undefined ? fallback : Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      throw new Error(`Context ${key} must be an integer from ${min} to ${max}`);
    }
    return parsed;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const value = raw(key);
    if (value === undefined) return fallback;
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    throw new Error(`Context ${key} must be true or false`);
  };
  const list = (key: string): string[] | undefined => {
    const value = raw(key);
    if (value === undefined) return undefined;
    const items = Array.isArray(value) ? value : String(value).split(',');
    const trimmed = items.map((item) => String(item).trim()).filter(Boolean);
    if (trimmed.length === 0) throw new Error(`Context ${key} must list at least one value`);
    return trimmed;
  };
  const oneOf = <T extends string>(key: string, values: readonly T[], fallback: T): T => {
    const value = str(key) ?? fallback;
    if (!(values as readonly string[]).includes(value)) {
      throw new Error(`Context ${key} must be one of ${values.join(', ')}`);
    }
    return value as T;
  };
  const needs = (key: string): string => {
    const value = str(key);
    if (!value) throw new Error(`Context ${key} is required when existingVpcId is set`);
    return value;
  };

  const profileName = str('profile') ?? 'development';
  if (!Object.hasOwn(profiles, profileName)) {
    throw new Error(`Context profile must be one of ${Object.keys(profiles).join(', ')}`);
  }
  const profile = profiles[profileName as ProfileName];

  const logLevel = str('logLevel') ?? 'info';
  if (!(logLevels as readonly string[]).includes(logLevel)) {
    throw new Error(`Context logLevel must be one of ${logLevels.join(', ')}`);
  }
  const dbAuth = str('dbAuth') ?? 'iam';
  if (dbAuth !== 'iam' && dbAuth !== 'secret') {
    throw new Error("Context dbAuth must be 'iam' or 'secret'");
  }
  let dbAppRole: string | null;
  try {
    dbAppRole = parseAppRole(str('dbAppRole'));
  } catch {
    throw new Error('Context dbAppRole must be a lowercase PostgreSQL name or none');
  }
  // The role logs in with IAM tokens only; with passwords (secret mode) the functions keep dbUser.
  if (dbAuth === 'secret') dbAppRole = null;
  const dbProxy = bool('dbProxy', profile.dbProxy);
  if (!dbProxy && dbAuth === 'secret') {
    throw new Error('Context dbProxy=false needs dbAuth=iam');
  }
  const issuer = str('jwtIssuer');
  const audience = list('jwtAudience');
  if (Boolean(issuer) !== Boolean(audience)) {
    throw new Error('Context jwtIssuer and jwtAudience must be given together');
  }
  const tenantClaim = str('jwtTenantClaim') ?? DEFAULT_JWT_IDENTITY.tenantClaim;
  const adminScope = str('jwtAdminScope') ?? DEFAULT_JWT_IDENTITY.adminScope;
  const consoleOn = bool('console', false);
  if (consoleOn && issuer) {
    // An HTTP API has one JWT authorizer, with one issuer: the console's user pool.
    throw new Error('Context console=true and jwtIssuer cannot be combined');
  }
  if (
    !issuer &&
    !consoleOn &&
    (raw('jwtTenantClaim') !== undefined || raw('jwtAdminScope') !== undefined)
  ) {
    throw new Error('Context jwtTenantClaim and jwtAdminScope need jwtIssuer or console=true');
  }
  for (const [key, value] of [
    ['jwtTenantClaim', tenantClaim],
    ['jwtAdminScope', adminScope],
  ] as const) {
    if (!/^[\x21-\x7e]{1,200}$/.test(value)) {
      throw new Error(`Context ${key} must be 1-200 printable characters without spaces`);
    }
  }
  const identifier = (key: string, fallback: string) => {
    const value = str(key) ?? fallback;
    // Both end up in connection settings and the IAM resource name of the proxy user.
    if (!/^[A-Za-z_][A-Za-z0-9_-]{0,62}$/.test(value)) {
      throw new Error(`Context ${key} must be a PostgreSQL name (letters, digits, _ or -)`);
    }
    return value;
  };

  const existing = str('existingVpcId') !== undefined;
  let database: CronConfig['database'];
  if (existing) {
    for (const key of newOnly) {
      if (raw(key) !== undefined) throw new Error(`Context ${key} applies only to a new database`);
    }
    const availabilityZones = list('existingAvailabilityZones');
    const subnetIds = list('existingSubnetIds');
    if (!availabilityZones || !subnetIds) {
      const key = availabilityZones ? 'existingSubnetIds' : 'existingAvailabilityZones';
      throw new Error(`Context ${key} is required when existingVpcId is set`);
    }
    if (subnetIds.length !== availabilityZones.length) {
      throw new Error(
        'Context existingSubnetIds must list one subnet per existingAvailabilityZones',
      );
    }
    const secretArn = needs('existingDbSecretArn');
    if (!/^arn:aws[a-z-]*:secretsmanager:/.test(secretArn)) {
      throw new Error('Context existingDbSecretArn must be a Secrets Manager secret ARN');
    }
    database = {
      mode: 'existing',
      vpcId: needs('existingVpcId'),
      availabilityZones,
      subnetIds,
      dbSecurityGroupId: needs('existingDbSecurityGroupId'),
      dbInstanceIdentifier: needs('existingDbInstanceIdentifier'),
      dbEndpoint: needs('existingDbEndpoint'),
      dbPort: int('existingDbPort', 5432, 1150, 65_535),
      dbSecretArn: secretArn,
      dbSecretKmsKeyArn: str('existingDbSecretKmsKeyArn'),
    };
    needs('dbUser');
  } else {
    for (const key of [...existingRequired.filter((k) => k !== 'dbUser'), ...existingOptional]) {
      if (raw(key) !== undefined) throw new Error(`Context ${key} needs existingVpcId`);
    }
    const allocatedStorageGiB = int('dbAllocatedStorageGiB', 20, 20, 65_536);
    database = {
      mode: 'new',
      instanceClass: str('dbInstanceClass') ?? profile.dbInstanceClass,
      allocatedStorageGiB,
      maxAllocatedStorageGiB: int('dbMaxAllocatedStorageGiB', 100, allocatedStorageGiB, 65_536),
      multiAz: bool('dbMultiAz', profile.dbMultiAz),
      backupRetentionDays: int('dbBackupRetentionDays', profile.dbBackupRetentionDays, 1, 35),
      deletionProtection: bool('dbDeletionProtection', profile.dbDeletionProtection),
      performanceInsights: bool('dbPerformanceInsights', profile.dbPerformanceInsights),
    };
  }

  const createVpcEndpoints = bool('createVpcEndpoints', !existing);
  if (!existing && !createVpcEndpoints) {
    // Isolated subnets reach AWS APIs (Secrets Manager in secret mode, Scheduler) only this way.
    throw new Error('Context createVpcEndpoints=false applies only to an existing VPC');
  }
  return {
    stackName: str('stackName') ?? 'CrmCron',
    profile: profileName as ProfileName,
    logLevel: logLevel as CronConfig['logLevel'],
    sweepIntervalMinutes: int('sweepIntervalMinutes', 5, 1, 60),
    alarmEmail: str('alarmEmail'),
    jwt: issuer && audience ? { issuer, audience, tenantClaim, adminScope } : undefined,
    console: consoleOn ? { tenantClaim, adminScope } : undefined,
    alerts: bool('alerts', false),
    apiRateLimit: int('apiRateLimit', 50, 1, 10_000),
    apiBurstLimit: int('apiBurstLimit', 100, 1, 5_000),
    // 3 sweeps overlap when each takes its full 15 minutes on a 5-minute rule; 10 precise jobs
    // at once is 20 connections, and the sweep runs whatever run-job is throttled out of.
    sweepReservedConcurrency: int('sweepReservedConcurrency', 3, 1, 100),
    runJobReservedConcurrency: int('runJobReservedConcurrency', 10, 1, 1_000),
    // SQS event sources take 2 to 1,000.
    workerMaxConcurrency: int('workerMaxConcurrency', 10, 2, 1_000),
    dispatch: oneOf('dispatch', ['overflow', 'always', 'never'] as const, 'overflow'),
    runRetentionDays: int('runRetentionDays', DEFAULT_RUN_RETENTION_DAYS, 1, 36_500),
    dbAuth,
    dbName: identifier('dbName', 'crm_cron'),
    dbUser: identifier('dbUser', 'crm_cron'),
    dbAppRole,
    dbProxy,
    endpointZones: profile.endpointZones,
    // A VPC the CRM already runs usually reaches AWS APIs (NAT or its own endpoints), and a
    // second endpoint with private DNS for the same service would fail to deploy.
    createVpcEndpoints,
    database,
  };
}
