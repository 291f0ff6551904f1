import path from 'node:path';
import type { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  LogLevel,
  NodejsFunction,
  OutputFormat,
  type NodejsFunctionProps,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { AwsRight } from '../lib/http/route-table';
import type { CronConfig } from './config';
import type { CronDatabase } from './database';
import { acknowledge } from './nag';
import type { Network } from './network';
import type { Scheduling } from './scheduling';

export const repoRoot = path.resolve(import.meta.dirname, '..');

export interface FunctionOptions {
  description: string;
  /** AWS rights beyond the database: for routes, as the route table declares them. */
  rights: readonly AwsRight[];
  /** Only where the name must be known before the function exists. */
  functionName?: string;
  timeout: Duration;
  memorySize?: number;
  deadLetterQueue?: sqs.IQueue;
  /** Caps the function's instances, and with them the proxy connections it can hold (2 each). */
  reservedConcurrency?: number;
  /** Asynchronous invocations: retries after a function error, and how long an event may wait. */
  asyncRetries?: { retryAttempts: number; maxEventAge: Duration };
  /** Subnets other than the functions' own (alert delivery: subnets with a route out). */
  vpcSubnets?: ec2.SubnetSelection;
  /**
   * Who the function logs in to the database as: the app role (the default: every function but
   * one), or the owner, for `migrate` alone (DDL, adoption, the app role's grants).
   */
  databaseUser?: 'app' | 'owner';
  /** Outside the VPC, without database access (the lean profile's migrate-launcher). */
  outsideVpc?: boolean;
  /** Variables of this function alone. */
  environment?: Record<string, string>;
}

/** How every function is bundled: minified ESM with source maps for Node on Lambda. */
export const bundling: NodejsFunctionProps['bundling'] = {
  format: OutputFormat.ESM,
  minify: true,
  sourceMap: true,
  // Stack traces still map to file and line; without the sources inlined, Node parses a
  // map a third the size at cold start (about 55 ms less module init).
  sourcesContent: false,
  target: 'node22',
  mainFields: ['module', 'main'],
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
  // The two SDK clients we use (Secrets Manager in secret mode, Scheduler for precise jobs)
  // come from the Lambda runtime and are imported lazily; IAM tokens are signed with
  // node:crypto (lib/aws/rds-auth-token.ts). Bundling the SDK would triple every bundle.
  externalModules: ['@aws-sdk/*'],
  logLevel: LogLevel.WARNING,
};

/** How the API functions (and the console's token trigger) name the tenant claim and admin scope. */
export function jwtEnvironment(config: CronConfig): Record<string, string> {
  const identity = config.jwt ?? config.console;
  return identity
    ? { JWT_TENANT_CLAIM: identity.tenantClaim, JWT_ADMIN_SCOPE: identity.adminScope }
    : {};
}

/**
 * Builds every Lambda function the same way: `functions/<name>.ts` bundled by esbuild as
 * minified ESM with source maps, ARM64 on the newest Node.js runtime, in the VPC behind one
 * security group that may reach only the proxy and AWS APIs, with its own log group.
 */
export class CronFunctions extends Construct {
  readonly securityGroup: ec2.SecurityGroup;
  readonly byName = new Map<string, NodejsFunction>();
  private readonly environment: Record<string, string>;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: {
      config: CronConfig;
      network: Network;
      database: CronDatabase;
      scheduling: Scheduling;
      /** The entry file of a function; tests point every name at a stub. */
      entry: (name: string) => string;
    },
  ) {
    super(scope, id);
    const { config, network, database } = props;
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: network.vpc,
      description: 'Lambda functions: RDS Proxy and AWS APIs out, nothing in',
      allowAllOutbound: false,
    });
    network.allowEndpointsFrom(this.securityGroup);
    database.allowFrom(this.securityGroup);
    if (!config.createVpcEndpoints) {
      // The CRM's VPC reaches AWS APIs its own way (NAT or endpoints the stack does not know).
      this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs');
    }
    this.environment = {
      LOG_LEVEL: config.logLevel,
      POWERTOOLS_SERVICE_NAME: 'crm-cron',
      POWERTOOLS_METRICS_NAMESPACE: 'CrmCron',
      DB_HOST: database.connectHost,
      DB_PORT: String(database.connectPort),
      DB_NAME: config.dbName,
      DB_USER: config.dbAppRole ?? config.dbUser,
      DB_AUTH: config.dbAuth,
      ...(config.dbAuth === 'secret' ? { DB_SECRET_ARN: database.secret.secretArn } : {}),
      SWEEP_INTERVAL_SECONDS: String(config.sweepIntervalMinutes * 60),
      // How the API functions read a JWT caller from the authorizer context.
      ...jwtEnvironment(config),
      RUN_RETENTION_DAYS: String(config.runRetentionDays),
      NODE_OPTIONS: '--enable-source-maps',
    };
    acknowledge(
      this,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'AWS-managed policy scoped to writing the function its own CloudWatch logs; maintained by AWS.',
    );
    acknowledge(
      this,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      'AWS-managed policy that lets Lambda manage the ENIs a VPC function needs; it has no narrower form.',
    );
  }

  create(name: string, options: FunctionOptions): NodejsFunction {
    const managesSchedules = options.rights.includes('manage-schedules');
    const user = options.databaseUser ?? 'app';
    const id = name.replace(/(^|-)([a-z])/g, (_, _dash: string, c: string) => c.toUpperCase());
    const fn = new NodejsFunction(this, id, {
      entry: this.props.entry(name),
      handler: 'handler',
      description: options.description,
      ...(options.functionName ? { functionName: options.functionName } : {}),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: options.timeout,
      memorySize: options.memorySize ?? 512,
      projectRoot: repoRoot,
      depsLockFilePath: path.join(repoRoot, 'package-lock.json'),
      bundling,
      ...(options.outsideVpc
        ? {}
        : {
            vpc: this.props.network.vpc,
            vpcSubnets: options.vpcSubnets ?? this.props.network.subnets,
            securityGroups: [this.securityGroup],
          }),
      // Only functions that move a job's next_run keep exact-time triggers in step.
      // A function outside the VPC never reaches the database: no database settings.
      environment: {
        ...(options.outsideVpc
          ? { LOG_LEVEL: this.props.config.logLevel, NODE_OPTIONS: '--enable-source-maps' }
          : this.environment),
        ...(managesSchedules ? this.props.scheduling.environment : {}),
        ...options.environment,
        ...(user === 'owner'
          ? {
              DB_USER: this.props.config.dbUser,
              DB_APP_ROLE: this.props.config.dbAppRole ?? 'none',
            }
          : {}),
      },
      logGroup: new logs.LogGroup(this, `${id}Logs`, { retention: logs.RetentionDays.ONE_MONTH }),
      ...(options.deadLetterQueue ? { deadLetterQueue: options.deadLetterQueue } : {}),
      ...(options.reservedConcurrency === undefined
        ? {}
        : { reservedConcurrentExecutions: options.reservedConcurrency }),
      ...(options.asyncRetries ?? {}),
    });
    if (!options.outsideVpc)
      this.props.database.grantConnect(
        fn,
        user === 'owner'
          ? this.props.config.dbUser
          : (this.props.config.dbAppRole ?? this.props.config.dbUser),
      );
    if (managesSchedules) this.props.scheduling.grantManageSchedules(fn);
    this.byName.set(name, fn);
    return fn;
  }
}
