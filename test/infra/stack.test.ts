import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { VALIDATION_REPORT_FILE } from 'aws-cdk-lib/cx-api';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeTable } from '../../lib/http/route-table';
import {
  MAX_DELIVERIES,
  MAX_JOB_TIMEOUT_SECONDS,
  QUEUED_LEASE_SECONDS,
  WORKER_TIMEOUT_SECONDS,
} from '../../lib/engine/run-queue';
import { createCronApp } from '../../infra/cron-app';
import type { CronStack } from '../../infra/cron-stack';
import { existingContext } from './fixtures/contexts';

const stub = path.join(import.meta.dirname, 'fixtures', 'stub-handler.ts');

interface Violation {
  ruleName: string;
  violatingConstructs: { constructPath: string }[];
}

interface Synthesized {
  stack: CronStack;
  template: Template;
  /** Unacknowledged cdk-nag findings (errors and warnings) from the validation report. */
  findings: Violation[];
  /** Anything else the report holds: CloudFormation schema checks. */
  otherFindings: Violation[];
  /** Unacknowledged construct warnings and errors (`Annotations`), as `path: message`. */
  annotations: string[];
  synthError: unknown;
}

const outdirs: string[] = [];

/** Synthesizes like `cdk synth` (cdk-nag included) with bundling skipped. */
function synth(context: Record<string, unknown>, extend?: (stack: CronStack) => void): Synthesized {
  const outdir = mkdtempSync(path.join(tmpdir(), 'crm-cron-cdk-'));
  outdirs.push(outdir);
  const { app, stack } = createCronApp({
    outdir,
    entry: () => stub,
    context: { 'aws:cdk:bundling-stacks': [], ...context },
  });
  extend?.(stack);
  let synthError: unknown;
  try {
    app.synth();
  } catch (error) {
    synthError = error;
  }
  const read = (file: string): unknown => JSON.parse(readFileSync(path.join(outdir, file), 'utf8'));
  const report = read(VALIDATION_REPORT_FILE) as {
    pluginReports: { pluginName: string; violations: Violation[] }[];
  };
  const metadata = read(`${stack.artifactId}.metadata.json`) as Record<
    string,
    { type: string; data: unknown }[]
  >;
  return {
    stack,
    annotations: Object.entries(metadata).flatMap(([at, entries]) =>
      entries
        .filter((entry) => entry.type === 'aws:cdk:warning' || entry.type === 'aws:cdk:error')
        .map((entry) => `${at}: ${JSON.stringify(entry.data)}`),
    ),
    template: Template.fromJSON(read(stack.templateFile) as Record<string, unknown>),
    findings: report.pluginReports
      .filter((plugin) => plugin.pluginName === 'AwsSolutions')
      .flatMap((plugin) => plugin.violations),
    otherFindings: report.pluginReports
      .filter((plugin) => plugin.pluginName !== 'AwsSolutions')
      .flatMap((plugin) => plugin.violations),
    synthError,
  };
}

const id = (stack: CronStack, construct: IConstruct) =>
  stack.getLogicalId(
    CfnElement.isCfnElement(construct) ? construct : (construct.node.defaultChild as CfnElement),
  );
const fnId = (stack: CronStack, name: string) => {
  const fn = stack.functions.byName.get(name);
  if (!fn) throw new Error(`no function ${name}`);
  return id(stack, fn);
};
function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`missing ${what}`);
  return value;
}
const describeFindings = (findings: Violation[]) =>
  findings.map((f) => `${f.ruleName} ${f.violatingConstructs.map((c) => c.constructPath)}`);

let fresh: Synthesized;
let existing: Synthesized;
/** `-c profile=production`: the documented production values. */
let production: Synthesized;
/** New mode with every option flipped, plus one deliberately unacknowledged resource. */
let variant: Synthesized;
/** `-c console=true`: the operator console on CloudFront + S3 + Cognito. */
let withConsole: Synthesized;

beforeAll(() => {
  fresh = synth({});
  existing = synth(existingContext);
  production = synth({ profile: 'production' });
  withConsole = synth({ console: 'true' });
  variant = synth(
    {
      dbAuth: 'secret',
      jwtIssuer: 'https://issuer.example.com/',
      jwtAudience: 'crm-cron,crm-admin',
      jwtTenantClaim: 'custom:org',
      jwtAdminScope: 'crm/admin',
      alarmEmail: 'ops@example.com',
      sweepIntervalMinutes: '10',
      dbMultiAz: 'true',
      dbDeletionProtection: 'false',
    },
    (stack) => new sqs.Queue(stack, 'Unacknowledged'),
  );
}, 120_000);
afterAll(() => {
  for (const outdir of outdirs) rmSync(outdir, { recursive: true, force: true });
});

const modes = () => ({ new: fresh, existing, production, variant, console: withConsole });
const eachMode = (names: ('new' | 'existing' | 'production' | 'variant' | 'console')[]) =>
  names.map((name) => [name, () => modes()[name]] as const);

describe('caller identity', () => {
  it('the JWT authorizer lets every tenant token through; each API function reads the configured tenant claim and admin scope', () => {
    const { stack, template } = variant;
    const resources = template.toJSON().Resources;
    for (const route of routeTable) {
      const env = resources[fnId(stack, route.name)].Properties.Environment.Variables;
      expect(env, route.name).toMatchObject({
        JWT_TENANT_CLAIM: 'custom:org',
        JWT_ADMIN_SCOPE: 'crm/admin',
      });
    }
    const authorizers = Object.values(template.findResources('AWS::ApiGatewayV2::Authorizer'));
    expect(authorizers).toHaveLength(1);
    expect(authorizers[0]!.Properties.AuthorizerType).toBe('JWT');
    // Scopes are not required at the gateway: tenant tokens carry none; the handler decides.
    for (const route of Object.values(template.findResources('AWS::ApiGatewayV2::Route'))) {
      expect(route.Properties.AuthorizationScopes).toBeUndefined();
    }
  });

  it('with IAM auth (no JWT issuer) the functions get no JWT settings', () => {
    const { stack, template } = fresh;
    const resources = template.toJSON().Resources;
    for (const route of routeTable) {
      const env = resources[fnId(stack, route.name)].Properties.Environment.Variables;
      expect(env.JWT_TENANT_CLAIM, route.name).toBeUndefined();
    }
  });
});

describe('cdk-nag AwsSolutions', () => {
  it.each(eachMode(['new', 'existing', 'production', 'console']))(
    'has no unacknowledged finding in %s mode',
    (_, get) => {
      const { findings, otherFindings, annotations, synthError } = get();
      expect(describeFindings(findings)).toEqual([]);
      expect(synthError).toBeUndefined();
      // A clean synth also has no construct warnings nor template schema warnings.
      expect(describeFindings(otherFindings)).toEqual([]);
      expect(annotations).toEqual([]);
    },
  );

  it('catches an unacknowledged finding and fails the synth', () => {
    expect(variant.findings.length).toBeGreaterThan(0);
    for (const finding of variant.findings) {
      for (const c of finding.violatingConstructs) {
        expect(c.constructPath).toMatch(/^CrmCron\/Unacknowledged\//);
      }
    }
    expect(String(variant.synthError)).toContain('ValidationFailed');
  });
});

describe('schedule', () => {
  it.each([
    ['new', () => fresh, 'rate(5 minutes)'],
    ['variant', () => variant, 'rate(10 minutes)'],
  ] as const)('%s: the rule targets run-due-jobs at %s with a DLQ', (_, get, expression) => {
    const { stack, template } = get();
    const queue = id(stack, stack.sweep.deadLetterQueue);
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: expression,
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [fnId(stack, 'run-due-jobs'), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queue, 'Arn'] } },
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: Match.anyValue() }),
        }),
      ],
    });
    // Failed asynchronous invocations (after Lambda's retries) land in the same queue.
    const sweep = template.toJSON().Resources[fnId(stack, 'run-due-jobs')];
    expect(sweep.Properties.DeadLetterConfig).toEqual({
      TargetArn: { 'Fn::GetAtt': [queue, 'Arn'] },
    });
    expect(sweep.Properties.Timeout).toBeGreaterThanOrEqual(840 + 30);
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
    });
  });
});

describe('HTTP API', () => {
  it.each([
    ['new', () => fresh, 'AWS_IAM'],
    ['variant', () => variant, 'JWT'],
  ] as const)('%s: every route exists; all but health need %s', (_, get, authType) => {
    const { stack, template } = get();
    const routes = template.findResources('AWS::ApiGatewayV2::Route');
    const integrations = template.findResources('AWS::ApiGatewayV2::Integration');
    expect(Object.keys(routes)).toHaveLength(routeTable.length);
    for (const route of routeTable) {
      const found = must(
        Object.values(routes).find(
          (r) => r.Properties.RouteKey === `${route.method} ${route.path}`,
        ),
        route.path,
      );
      expect(found.Properties.AuthorizationType).toBe(
        route.access === 'public' ? 'NONE' : authType,
      );
      if (route.access !== 'public' && authType === 'JWT')
        expect(found.Properties.AuthorizerId).toBeDefined();
      const integration = must(
        integrations[found.Properties.Target['Fn::Join'][1][1].Ref],
        `${route.path} integration`,
      );
      expect(integration.Properties).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: { 'Fn::GetAtt': [fnId(stack, route.name), 'Arn'] },
      });
    }
  });

  it('variant: the JWT authorizer checks the configured issuer and audience', () => {
    variant.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: {
        Issuer: 'https://issuer.example.com/',
        Audience: ['crm-cron', 'crm-admin'],
      },
    });
  });

  it('logs access and throttles', () => {
    fresh.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: Match.objectLike({ Format: Match.stringLikeRegexp('requestId') }),
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
  });
});

describe('functions', () => {
  const names = [
    ...routeTable.map((r) => r.name),
    'run-due-jobs',
    'migrate',
    'run-job',
    'run-queued-jobs',
  ];

  it.each(eachMode(['new', 'existing', 'variant']))(
    '%s: all run ARM64 Node 24 in the VPC, reach the proxy, keep logs a month',
    (_, get) => {
      const { stack, template } = get();
      const resources = template.toJSON().Resources;
      const sg = id(stack, stack.functions.securityGroup);
      expect([...stack.functions.byName.keys()].sort()).toEqual([...names].sort());
      for (const name of names) {
        const { Properties: props } = resources[fnId(stack, name)];
        expect(props).toMatchObject({
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          Handler: 'index.handler',
          VpcConfig: { SecurityGroupIds: [{ 'Fn::GetAtt': [sg, 'GroupId'] }] },
        });
        expect(props.VpcConfig.SubnetIds).toHaveLength(2);
        const logGroup = resources[props.LoggingConfig.LogGroup.Ref];
        expect(logGroup.Properties.RetentionInDays).toBe(30);
      }
      template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
        GroupId: { 'Fn::GetAtt': [id(stack, stack.database.proxySecurityGroup!), 'GroupId'] },
        SourceSecurityGroupId: { 'Fn::GetAtt': [sg, 'GroupId'] },
        FromPort: 5432,
        ToPort: 5432,
      });
      // Nothing may connect to the functions.
      expect(resources[sg].Properties.SecurityGroupIngress).toBeUndefined();
    },
  );

  it.each(eachMode(['new', 'existing', 'variant']))(
    '%s: no environment holds a password',
    (_, get) => {
      const { stack, template } = get();
      const functions = Object.values(template.findResources('AWS::Lambda::Function'));
      for (const fn of functions) {
        const env = JSON.stringify(fn.Properties.Environment ?? {});
        expect(env).not.toMatch(/password|resolve:secretsmanager|SecretString/i);
      }
      const env =
        template.toJSON().Resources[fnId(stack, 'run-due-jobs')].Properties.Environment.Variables;
      expect(env).toMatchObject({
        DB_HOST: { 'Fn::GetAtt': [id(stack, stack.database.proxy!), 'Endpoint'] },
        DB_PORT: '5432',
        POWERTOOLS_SERVICE_NAME: 'crm-cron',
        POWERTOOLS_METRICS_NAMESPACE: 'CrmCron',
        NODE_OPTIONS: '--enable-source-maps',
      });
      if (stack === variant.stack) {
        expect(env).toMatchObject({ DB_AUTH: 'secret', SWEEP_INTERVAL_SECONDS: '600' });
        // An ARN only: the functions read the secret at cold start.
        expect(env.DB_SECRET_ARN).toEqual(stack.resolve(stack.database.secret.secretArn));
      } else {
        expect(env).toMatchObject({ DB_AUTH: 'iam', SWEEP_INTERVAL_SECONDS: '300' });
        expect(env.DB_SECRET_ARN).toBeUndefined();
      }
    },
  );
});

describe('asynchronous invocation and concurrency', () => {
  it.each([
    ['new', () => fresh, 300],
    ['variant', () => variant, 600],
  ] as const)(
    '%s: a failed sweep is retried once within one interval; run-job twice within an hour',
    (_, get, interval) => {
      const { stack, template } = get();
      template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 2);
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: fnId(stack, 'run-due-jobs') },
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 1,
        MaximumEventAgeInSeconds: interval,
      });
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: fnId(stack, 'run-job') },
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 3600,
      });
    },
  );

  it.each(eachMode(['new', 'existing']))(
    '%s: reserved concurrency caps the sweep at 3 and run-job at 10 (2 proxy connections each)',
    (_, get) => {
      const { stack, template } = get();
      const resources = template.toJSON().Resources;
      expect(resources[fnId(stack, 'run-due-jobs')].Properties.ReservedConcurrentExecutions).toBe(
        3,
      );
      expect(resources[fnId(stack, 'run-job')].Properties.ReservedConcurrentExecutions).toBe(10);
    },
  );

  it('the caps follow the sweepReservedConcurrency and runJobReservedConcurrency context', () => {
    const { stack, template } = synth({
      sweepReservedConcurrency: '2',
      runJobReservedConcurrency: '25',
      runRetentionDays: '90',
    });
    const resources = template.toJSON().Resources;
    // And the sweep's run retention follows runRetentionDays (30 by default).
    expect(resources[fnId(stack, 'run-due-jobs')].Properties.Environment.Variables).toMatchObject({
      RUN_RETENTION_DAYS: '90',
    });
    expect(
      fresh.template.toJSON().Resources[fnId(fresh.stack, 'run-due-jobs')].Properties.Environment
        .Variables,
    ).toMatchObject({ RUN_RETENTION_DAYS: '30' });
    expect(resources[fnId(stack, 'run-due-jobs')].Properties.ReservedConcurrentExecutions).toBe(2);
    expect(resources[fnId(stack, 'run-job')].Properties.ReservedConcurrentExecutions).toBe(25);
  });
});

describe('profiles', () => {
  it('development (the default): one small instance in one zone, no Performance Insights', () => {
    fresh.template.hasResourceProperties('AWS::RDS::DBInstance', {
      DBInstanceClass: 'db.t4g.micro',
      MultiAZ: false,
      DeletionProtection: true,
      EnablePerformanceInsights: false,
    });
  });

  it('production: Multi-AZ m7g.large, deletion protection, Performance Insights, 14 days of backups', () => {
    production.template.hasResourceProperties('AWS::RDS::DBInstance', {
      DBInstanceClass: 'db.m7g.large',
      MultiAZ: true,
      DeletionProtection: true,
      EnablePerformanceInsights: true,
      PerformanceInsightsRetentionPeriod: 7,
      BackupRetentionPeriod: 14,
    });
  });
});

describe('database and proxy', () => {
  it('new: private, encrypted PostgreSQL 16+ with RDS-managed, rotated credentials', () => {
    const { template } = fresh;
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'postgres',
      EngineVersion: Match.stringLikeRegexp('^(1[6-9]|[2-9][0-9])'),
      PubliclyAccessible: false,
      StorageEncrypted: true,
      MultiAZ: false,
      DeletionProtection: true,
      BackupRetentionPeriod: 7,
      MasterUsername: 'crm_cron',
      // RDS manages and rotates the master password itself: no rotation function.
      ManageMasterUserPassword: true,
      MasterUserPassword: Match.absent(),
    });
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
    template.resourceCountIs('AWS::Serverless::Application', 0);
    variant.template.hasResourceProperties('AWS::RDS::DBInstance', {
      MultiAZ: true,
      DeletionProtection: false,
    });
  });

  it('new: the database accepts connections only from the proxy', () => {
    const { stack, template } = fresh;
    const [dbSg] = stack.database.instanceSecurityGroups;
    if (!dbSg) throw new Error('missing group');
    const dbSgId = id(stack, dbSg);
    expect(template.toJSON().Resources[dbSgId].Properties.SecurityGroupIngress).toBeUndefined();
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).filter(
      (r) =>
        JSON.stringify(r.Properties.GroupId) ===
        JSON.stringify({ 'Fn::GetAtt': [dbSgId, 'GroupId'] }),
    );
    expect(ingress.map((r) => r.Properties.SourceSecurityGroupId['Fn::GetAtt'][0])).toEqual([
      id(stack, stack.database.proxySecurityGroup!),
    ]);
    expect(ingress.every((r) => r.Properties.CidrIp === undefined)).toBe(true);
  });

  it('existing: the CRM database security group admits the proxy', () => {
    const { stack, template } = existing;
    template.resourceCountIs('AWS::RDS::DBInstance', 0);
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: existingContext.existingDbSecurityGroupId,
      SourceSecurityGroupId: {
        'Fn::GetAtt': [id(stack, stack.database.proxySecurityGroup!), 'GroupId'],
      },
      FromPort: 5432,
    });
    template.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', {
      DBInstanceIdentifiers: [existingContext.existingDbInstanceIdentifier],
    });
  });

  it.each([
    ['new', () => fresh, 'REQUIRED'],
    ['existing', () => existing, 'REQUIRED'],
    ['variant (dbAuth=secret)', () => variant, 'DISABLED'],
  ] as const)('%s: the proxy requires TLS, IAM auth %s', (_, get, iamAuth) => {
    get().template.hasResourceProperties('AWS::RDS::DBProxy', {
      EngineFamily: 'POSTGRESQL',
      RequireTLS: true,
      Auth: [Match.objectLike({ AuthScheme: 'SECRETS', IAMAuth: iamAuth })],
    });
  });

  it('iam mode grants rds-db:connect as the proxy user', () => {
    const policies = JSON.stringify(fresh.template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('rds-db:connect');
    expect(policies).toMatch(/dbuser:.*\/crm_cron/);
  });

  it('new: a VPC of two isolated subnets without NAT, endpoints for the APIs called', () => {
    const { template } = fresh;
    template.resourceCountIs('AWS::EC2::Subnet', 2);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    const services = Object.values(template.findResources('AWS::EC2::VPCEndpoint')).map((e) =>
      JSON.stringify(e.Properties.ServiceName),
    );
    // In iam mode no function reads a secret (the proxy reads the owner's itself).
    expect(services.some((s) => s.includes('.secretsmanager'))).toBe(false);
    expect(services.some((s) => s.includes('.scheduler'))).toBe(true);
    expect(services.some((s) => s.includes('.sqs'))).toBe(true);
    const secretMode = Object.values(variant.template.findResources('AWS::EC2::VPCEndpoint'));
    expect(
      secretMode.some((e) => JSON.stringify(e.Properties.ServiceName).includes('.secretsmanager')),
    ).toBe(true);
    existing.template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });
});

describe('precise jobs', () => {
  it('run-job is invoked by a Scheduler role that can do nothing else', () => {
    const { stack, template } = fresh;
    const resources = template.toJSON().Resources;
    const runJob = resources[fnId(stack, 'run-job')].Properties;
    const queue = id(stack, stack.scheduling.deadLetterQueue);
    expect(runJob.FunctionName).toBe(stack.scheduling.runJobFunctionName);
    expect(runJob.Timeout).toBe(900);
    expect(runJob.DeadLetterConfig).toEqual({ TargetArn: { 'Fn::GetAtt': [queue, 'Arn'] } });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ],
      },
    });
    const role = id(stack, stack.scheduling.role);
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes(role),
    );
    expect(policy?.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({ Action: expect.arrayContaining(['sqs:SendMessage']) }),
      expect.objectContaining({
        Action: 'lambda:InvokeFunction',
        Resource: { 'Fn::GetAtt': [fnId(stack, 'run-job'), 'Arn'] },
      }),
    ]);
  });

  it('only the functions that move next_run may arm triggers and pass the Scheduler role', () => {
    const { stack, template } = fresh;
    const resources = template.toJSON().Resources;
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const passesRole = (roleId: string) =>
      policies.some(
        (policy) =>
          JSON.stringify(policy.Properties.Roles).includes(roleId) &&
          JSON.stringify(policy.Properties.PolicyDocument).includes('iam:PassRole'),
      );
    // Declared on the route table for routes; the sweep and run-job move next_run too.
    const SCHEDULE_MANAGERS = new Set<string>([
      ...routeTable
        .filter((route) => route.rights.some((right) => right === 'manage-schedules'))
        .map((route) => route.name),
      'run-due-jobs',
      'run-job',
    ]);
    expect([...SCHEDULE_MANAGERS].sort()).toEqual([
      'create-job',
      'delete-job',
      'pause-job',
      'resume-job',
      'run-due-jobs',
      'run-job',
      'run-sweep',
      'update-job',
    ]);
    for (const name of stack.functions.byName.keys()) {
      const fn = resources[fnId(stack, name)].Properties;
      const env = fn.Environment.Variables;
      const roleId = fn.Role['Fn::GetAtt'][0] as string;
      if (SCHEDULE_MANAGERS.has(name)) {
        expect(env, name).toMatchObject({
          SCHEDULER_GROUP_NAME: stack.scheduling.group.scheduleGroupName,
          SCHEDULER_ROLE_ARN: { 'Fn::GetAtt': [id(stack, stack.scheduling.role), 'Arn'] },
          SCHEDULER_DLQ_ARN: {
            'Fn::GetAtt': [id(stack, stack.scheduling.deadLetterQueue), 'Arn'],
          },
        });
        expect(JSON.stringify(env.RUN_JOB_FUNCTION_ARN)).toContain(
          `:function:${stack.scheduling.runJobFunctionName}`,
        );
        expect(passesRole(roleId), name).toBe(true);
      } else {
        expect(env.SCHEDULER_GROUP_NAME, name).toBeUndefined();
        expect(passesRole(roleId), name).toBe(false);
      }
    }
    const passRole = policies
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
      .filter((statement) => JSON.stringify(statement.Action).includes('iam:PassRole'));
    for (const statement of passRole) {
      expect(statement.Resource).toEqual({
        'Fn::GetAtt': [id(stack, stack.scheduling.role), 'Arn'],
      });
    }
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', {
      Name: stack.scheduling.group.scheduleGroupName,
    });
  });
});

describe('migrations at deploy', () => {
  it.each(eachMode(['new', 'existing']))(
    '%s: the trigger runs migrate after the database and proxy exist',
    (_, get) => {
      const { stack, template } = get();
      const [trigger] = Object.values(template.findResources('Custom::Trigger'));
      if (!trigger) throw new Error('no trigger');
      const migrate = stack.functions.byName.get('migrate');
      expect(trigger.Properties).toMatchObject({
        InvocationType: 'RequestResponse',
        HandlerArn: stack.resolve(migrate?.currentVersion.functionArn),
      });
      const proxy = stack.database.proxy!;
      const after = [id(stack, proxy), id(stack, proxy.node.findChild('ProxyTargetGroup'))];
      if (stack === fresh.stack)
        after.push(id(stack, stack.node.findChild('Database').node.findChild('Instance')));
      expect(trigger.DependsOn).toEqual(expect.arrayContaining(after));
      // ...and before the schedule starts sweeping.
      const [rule] = Object.values(template.findResources('AWS::Events::Rule'));
      expect(rule?.DependsOn).toContain(id(stack, stack.migrations.trigger));
    },
  );
});

describe('alarms', () => {
  it.each(eachMode(['new', 'existing', 'variant']))(
    '%s: every alarm notifies the encrypted, SSL-only topic',
    (_, get) => {
      const { stack, template } = get();
      const topic = { Ref: id(stack, stack.alarms.topic) };
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
      expect(alarms).toHaveLength(12);
      for (const alarm of alarms) {
        expect(alarm.Properties.AlarmActions).toEqual([topic]);
        expect(alarm.Properties.OKActions).toEqual([topic]);
      }
      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    },
  );

  it('covers sweep errors, the dead-letter queue, job failures and a stopped scheduler', () => {
    const { stack, template } = fresh;
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId(stack, 'run-due-jobs') } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [id(stack, stack.sweep.deadLetterQueue), 'QueueName'] },
        },
      ],
      Threshold: 0,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: Match.stringLikeRegexp('failed.*timedOut.*lost') }),
        ...['JobsFailed', 'JobsTimedOut', 'JobsLost'].map((name) =>
          Match.objectLike({
            MetricStat: Match.objectLike({
              Metric: {
                Namespace: 'CrmCron',
                MetricName: name,
                Dimensions: [{ Name: 'service', Value: 'crm-cron' }],
              },
            }),
          }),
        ),
      ]),
      Threshold: 0,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'CrmCron',
      MetricName: 'SweepSucceeded',
      Dimensions: [{ Name: 'service', Value: 'crm-cron' }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 3,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    variant.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'SweepSucceeded',
      Period: 600,
    });
  });

  it.each(eachMode(['new', 'existing', 'variant']))(
    '%s: the topic policy lets CloudWatch alarms of this account publish (enforceSSL alone denies all)',
    (_, get) => {
      const { stack, template } = get();
      const topic = { Ref: id(stack, stack.alarms.topic) };
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [topic],
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Sid: 'AllowCloudWatchAlarmsOfThisAccount',
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: 'sns:Publish',
              Resource: topic,
              Condition: {
                StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
                ArnLike: {
                  'aws:SourceArn': {
                    'Fn::Join': [
                      '',
                      [
                        'arn:',
                        { Ref: 'AWS::Partition' },
                        ':cloudwatch:',
                        { Ref: 'AWS::Region' },
                        ':',
                        { Ref: 'AWS::AccountId' },
                        ':alarm:*',
                      ],
                    ],
                  },
                },
              },
            },
          ]),
        },
      });
      // The topic's key lets CloudWatch encrypt what it publishes.
      template.hasResourceProperties('AWS::KMS::Key', {
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            }),
          ]),
        },
      });
    },
  );

  it.each(eachMode(['new', 'existing']))(
    '%s: database storage, connections, CPU and memory alarms on the RDS instance',
    (_, get) => {
      const { stack, template } = get();
      const instance =
        stack === existing.stack
          ? existingContext.existingDbInstanceIdentifier
          : stack.resolve(stack.database.instanceIdentifier);
      expect(instance).toBeDefined();
      const dimensions = [{ Name: 'DBInstanceIdentifier', Value: instance }];
      const sustained = { Period: 300, EvaluationPeriods: 3 };
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/RDS',
        MetricName: 'FreeStorageSpace',
        Dimensions: dimensions,
        Statistic: 'Minimum',
        Threshold: 2 * 1024 ** 3,
        ComparisonOperator: 'LessThanThreshold',
        ...sustained,
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/RDS',
        MetricName: 'CPUUtilization',
        Dimensions: dimensions,
        Threshold: 80,
        ComparisonOperator: 'GreaterThanThreshold',
        ...sustained,
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/RDS',
        MetricName: 'FreeableMemory',
        Dimensions: dimensions,
        Threshold: 128 * 1024 ** 2,
        ComparisonOperator: 'LessThanThreshold',
        ...sustained,
      });
      // Connections as a share of max_connections, which the proxy reports for any class.
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: '100 * connections / allowed' }),
          Match.objectLike({
            Id: 'connections',
            MetricStat: Match.objectLike({
              Metric: {
                Namespace: 'AWS/RDS',
                MetricName: 'DatabaseConnections',
                Dimensions: dimensions,
              },
            }),
          }),
          Match.objectLike({
            Id: 'allowed',
            MetricStat: Match.objectLike({
              Metric: {
                Namespace: 'AWS/RDS',
                MetricName: 'MaxDatabaseConnectionsAllowed',
                Dimensions: [
                  { Name: 'ProxyName', Value: stack.resolve(stack.database.proxy!.dbProxyName) },
                ],
              },
            }),
          }),
        ]),
        Threshold: 80,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 3,
      });
    },
  );

  it('alarms on run-job errors and on API 5xx', () => {
    const { stack, template } = fresh;
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId(stack, 'run-job') } }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Dimensions: [{ Name: 'ApiId', Value: { Ref: id(stack, stack.api.api) } }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('subscribes the alarm email only when one is given', () => {
    fresh.template.resourceCountIs('AWS::SNS::Subscription', 0);
    variant.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });
});

it.each(eachMode(['new', 'existing']))('%s: outputs the API URL, topic and database', (_, get) => {
  const outputs = get().template.toJSON().Outputs;
  expect(Object.keys(outputs)).toEqual(
    expect.arrayContaining(['ApiUrl', 'AlarmTopicArn', 'DatabaseEndpoint']),
  );
  expect(existing.template.toJSON().Outputs.DatabaseEndpoint.Value).toBe(
    existingContext.existingDbEndpoint,
  );
});

it.each(eachMode(['new', 'existing']))(
  '%s: outputs name the log groups, the dead-letter queue, the migrate function and the API URL',
  (_, get) => {
    const template = get().template;
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const resources = template.toJSON().Resources as Record<
      string,
      { Type: string; Properties?: Record<string, unknown> }
    >;
    const refTo = (value: unknown): string | undefined =>
      (value as { Ref?: string })?.Ref ??
      (value as { 'Fn::GetAtt'?: string[] })?.['Fn::GetAtt']?.[0];
    expect(resources[refTo(outputs.DeadLetterQueueUrl?.Value)!]?.Type).toBe('AWS::SQS::Queue');
    for (const [output, functionName] of [
      ['SweepLogGroup', 'run-due-jobs'],
      ['RunJobLogGroup', 'run-job'],
      ['MigrateLogGroup', 'migrate'],
    ] as const) {
      const logGroup = resources[refTo(outputs[output]?.Value)!];
      expect(logGroup?.Type, output).toBe('AWS::Logs::LogGroup');
      // The log group is the one its function writes to.
      const owner = Object.values(resources).find(
        (resource) =>
          resource.Type === 'AWS::Lambda::Function' &&
          refTo((resource.Properties?.LoggingConfig as { LogGroup?: unknown })?.LogGroup) ===
            refTo(outputs[output]!.Value),
      );
      expect(
        JSON.stringify(owner?.Properties?.Description ?? ''),
        `${output} belongs to ${functionName}`,
      ).not.toBe('""');
    }
    expect(resources[refTo(outputs.MigrateFunctionName?.Value)!]?.Type).toBe(
      'AWS::Lambda::Function',
    );
    expect(outputs.ApiUrl).toBeDefined();
  },
);

describe('fan-out to the worker function', () => {
  const queueProps = (stack: CronStack, template: Template, queue: IConstruct) =>
    template.toJSON().Resources[id(stack, queue)].Properties;

  it('a run queue with a dead-letter queue, times derived from the longest job', () => {
    const { stack, template } = fresh;
    const runs = queueProps(stack, template, stack.workers.queue);
    expect(runs).toMatchObject({
      VisibilityTimeout: WORKER_TIMEOUT_SECONDS,
      MessageRetentionPeriod: QUEUED_LEASE_SECONDS,
      SqsManagedSseEnabled: true,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [id(stack, stack.workers.deadLetterQueue), 'Arn'] },
        maxReceiveCount: MAX_DELIVERIES,
      },
    });
    // The worker outlives the longest job, and a message stays hidden while a worker has it.
    expect(WORKER_TIMEOUT_SECONDS).toBeGreaterThan(MAX_JOB_TIMEOUT_SECONDS);
    expect(WORKER_TIMEOUT_SECONDS).toBeLessThanOrEqual(900);
    expect(queueProps(stack, template, stack.workers.deadLetterQueue)).toMatchObject({
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
  });

  it.each([
    [{}, 10],
    [{ workerMaxConcurrency: '25' }, 25],
  ])(
    'the worker function reads it with maximum concurrency %o -> %i and partial batch responses',
    (context, maxConcurrency) => {
      const { stack, template } = Object.keys(context).length === 0 ? fresh : synth(context);
      expect(template.toJSON().Resources[fnId(stack, 'run-queued-jobs')].Properties.Timeout).toBe(
        WORKER_TIMEOUT_SECONDS,
      );
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: fnId(stack, 'run-queued-jobs') },
        EventSourceArn: { 'Fn::GetAtt': [id(stack, stack.workers.queue), 'Arn'] },
        BatchSize: 10,
        ScalingConfig: { MaximumConcurrency: maxConcurrency },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    },
  );

  it('only run-now and the sweep may send to the queue; they are told where, the sweep when', () => {
    const { stack, template } = fresh;
    const resources = template.toJSON().Resources;
    const queueArn = { 'Fn::GetAtt': [id(stack, stack.workers.queue), 'Arn'] };
    const senders = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) =>
        policy.Properties.PolicyDocument.Statement.some(
          (statement: { Action: string | string[]; Resource: unknown }) =>
            [statement.Action].flat().includes('sqs:SendMessage') &&
            JSON.stringify(statement.Resource) === JSON.stringify(queueArn),
        ),
      )
      .flatMap((policy) => policy.Properties.Roles.map((role: { Ref: string }) => role.Ref));
    const roleOf = (name: string) =>
      resources[fnId(stack, name)].Properties.Role['Fn::GetAtt'][0] as string;
    expect(senders.sort()).toEqual([roleOf('run-due-jobs'), roleOf('run-job-now')].sort());
    for (const [name, fn] of stack.functions.byName) {
      const env = resources[fnId(stack, name)].Properties.Environment.Variables;
      if (name === 'run-due-jobs' || name === 'run-job-now') {
        expect(env.RUN_QUEUE_URL, name).toEqual({ Ref: id(stack, stack.workers.queue) });
      } else expect(env.RUN_QUEUE_URL, name).toBeUndefined();
      expect(fn).toBeDefined();
    }
    expect(resources[fnId(stack, 'run-due-jobs')].Properties.Environment.Variables.DISPATCH).toBe(
      'overflow',
    );
    const always = synth({ dispatch: 'always' });
    expect(
      always.template.toJSON().Resources[fnId(always.stack, 'run-due-jobs')].Properties.Environment
        .Variables.DISPATCH,
    ).toBe('always');
  });

  it('alarms on dead-lettered run messages and on the age of the oldest queued run', () => {
    const { stack, template } = fresh;
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [id(stack, stack.workers.deadLetterQueue), 'QueueName'] },
        },
      ],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [id(stack, stack.workers.queue), 'QueueName'] },
        },
      ],
      Threshold: 300,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });
});

describe('operator console (-c console=true)', () => {
  const resourcesOf = (template: Template, type: string) =>
    Object.values(template.findResources(type));

  it('is off by default: no distribution, bucket or user pool', () => {
    for (const type of [
      'AWS::CloudFront::Distribution',
      'AWS::S3::Bucket',
      'AWS::Cognito::UserPool',
      'Custom::CDKBucketDeployment',
    ]) {
      fresh.template.resourceCountIs(type, 0);
    }
    expect(fresh.stack.console).toBeUndefined();
  });

  it('serves the console from a private bucket through origin access control, HTTPS only', () => {
    const { stack, template } = withConsole;
    const site = must(stack.console, 'console').site;
    const bucket = id(stack, site.bucket);
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: Match.objectLike({
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
        SigningProtocol: 'sigv4',
      }),
    });
    const [distribution] = resourcesOf(template, 'AWS::CloudFront::Distribution');
    const config = must(distribution, 'distribution').Properties.DistributionConfig;
    expect(config.DefaultRootObject).toBe('index.html');
    const s3Origin = config.Origins.find(
      (origin: { Id: string }) => origin.Id === config.DefaultCacheBehavior.TargetOriginId,
    );
    expect(s3Origin.DomainName).toEqual({ 'Fn::GetAtt': [bucket, 'RegionalDomainName'] });
    expect(s3Origin.OriginAccessControlId).toBeDefined();
    expect(s3Origin.S3OriginConfig.OriginAccessIdentity).toBe('');
    expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('https-only');
    // Only CloudFront (this distribution) may read the bucket.
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucket },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudfront.amazonaws.com' },
            Action: 's3:GetObject',
            Condition: {
              StringEquals: { 'AWS:SourceArn': Match.objectLike({}) },
            },
          }),
        ]),
      },
    });
  });

  it('forwards /api/cron/* to the HTTP API uncached, with every method and viewer header but Host', () => {
    const { stack, template } = withConsole;
    const [distribution] = resourcesOf(template, 'AWS::CloudFront::Distribution');
    const config = must(distribution, 'distribution').Properties.DistributionConfig;
    expect(config.CacheBehaviors).toHaveLength(1);
    const [api] = config.CacheBehaviors;
    expect(api).toMatchObject({
      PathPattern: '/api/cron/*',
      ViewerProtocolPolicy: 'https-only',
      AllowedMethods: expect.arrayContaining(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
      // Managed policies: CachingDisabled, AllViewerExceptHostHeader.
      CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
      OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac',
    });
    const origin = config.Origins.find((o: { Id: string }) => o.Id === api.TargetOriginId);
    expect(origin.CustomOriginConfig.OriginProtocolPolicy).toBe('https-only');
    expect(origin.DomainName).toEqual({
      'Fn::Select': [
        2,
        { 'Fn::Split': ['/', { 'Fn::GetAtt': [id(stack, stack.api.api), 'ApiEndpoint'] }] },
      ],
    });
  });

  it('signs in with a Cognito app client: code flow + PKCE, no secret, back to the distribution', () => {
    const { stack, template } = withConsole;
    const { site, signIn } = must(stack.console, 'console');
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      UserPoolTier: 'ESSENTIALS',
      Schema: Match.arrayWith([Match.objectLike({ Name: 'tenant_id', Mutable: true })]),
      LambdaConfig: {
        PreTokenGenerationConfig: {
          LambdaArn: { 'Fn::GetAtt': [id(stack, signIn.node.findChild('TokenClaims')), 'Arn'] },
          LambdaVersion: 'V2_0',
        },
      },
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: 'admins' });
    template.resourceCountIs('AWS::Cognito::UserPoolDomain', 1);
    const url = {
      'Fn::Join': [
        '',
        ['https://', { 'Fn::GetAtt': [id(stack, site.distribution), 'DomainName'] }, '/'],
      ],
    };
    const [client] = resourcesOf(template, 'AWS::Cognito::UserPoolClient');
    // A public client (no secret) using the code flow; the console adds PKCE (S256) to it.
    expect(must(client, 'client').Properties).toMatchObject({
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      GenerateSecret: false,
      CallbackURLs: [url],
      LogoutURLs: [url],
      SupportedIdentityProviders: ['COGNITO'],
    });
    expect(client!.Properties.AllowedOAuthFlows).not.toContain('implicit');
    // The trigger names the same claim and scope as the API functions read.
    const trigger = template.toJSON().Resources[id(stack, signIn.node.findChild('TokenClaims'))];
    expect(trigger.Properties.Environment.Variables).toEqual({
      JWT_TENANT_CLAIM: 'tenant_id',
      JWT_ADMIN_SCOPE: 'cron:admin',
    });
    expect(
      template.toJSON().Resources[fnId(stack, 'list-jobs')].Properties.Environment.Variables,
    ).toMatchObject({ JWT_TENANT_CLAIM: 'tenant_id', JWT_ADMIN_SCOPE: 'cron:admin' });
  });

  it("the API's JWT authorizer trusts the pool's issuer and the console's client", () => {
    const { stack, template } = withConsole;
    const { signIn } = must(stack.console, 'console');
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: {
        Issuer: { 'Fn::GetAtt': [id(stack, signIn.userPool), 'ProviderURL'] },
        Audience: [{ Ref: id(stack, signIn.client) }],
      },
    });
    for (const route of Object.values(template.findResources('AWS::ApiGatewayV2::Route'))) {
      if (route.Properties.RouteKey === 'GET /api/cron/health') continue;
      expect(route.Properties.AuthorizationType, route.Properties.RouteKey).toBe('JWT');
    }
  });

  it('deploys console-config.json with the hosted UI domain, client id and scopes, and invalidates', () => {
    const { stack, template } = withConsole;
    const { site, signIn } = must(stack.console, 'console');
    const [deployment] = resourcesOf(template, 'Custom::CDKBucketDeployment');
    expect(must(deployment, 'deployment').Properties).toMatchObject({
      DestinationBucketName: { Ref: id(stack, site.bucket) },
      DistributionId: { Ref: id(stack, site.distribution) },
      DistributionPaths: ['/*'],
      Prune: true,
    });
    // Two sources: the console build and the generated config, whose deploy-time values are
    // the hosted UI domain and the client id.
    expect(deployment!.Properties.SourceObjectKeys).toHaveLength(2);
    const markers = Object.values(deployment!.Properties.SourceMarkers[1] as object);
    expect(markers).toEqual(
      expect.arrayContaining([
        { Ref: id(stack, signIn.domain) },
        { Ref: id(stack, signIn.client) },
      ]),
    );
    expect(signIn.scopes).toEqual(['openid']);
    expect(Object.keys(template.toJSON().Outputs)).toEqual(
      expect.arrayContaining(['ConsoleUrl', 'ConsoleUserPoolId']),
    );
  });
});

describe('database logins: the app role, and the owner for migrate alone', () => {
  let lean: Synthesized;
  let noRole: Synthesized;
  beforeAll(() => {
    lean = synth({ profile: 'lean' });
    noRole = synth({ dbAppRole: 'none' });
  }, 120_000);

  /** DB_USER of every function that has one, by function name. */
  const dbUsers = ({ stack, template }: Synthesized) => {
    const resources = template.toJSON().Resources;
    return Object.fromEntries(
      [...stack.functions.byName.entries()]
        .map(([name, fn]) => [
          name,
          resources[id(stack, fn)].Properties.Environment?.Variables?.DB_USER,
        ])
        .filter(([, user]) => user !== undefined),
    ) as Record<string, string>;
  };
  /** The database users each function's role may log in as (rds-db:connect), by function name. */
  const connectUsers = ({ stack, template }: Synthesized) => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    return Object.fromEntries(
      [...stack.functions.byName.entries()].map(([name, fn]) => {
        const roleId = id(stack, fn.role!);
        const users = policies
          .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`))
          .flatMap((p) => p.Properties.PolicyDocument.Statement)
          .filter((st: { Action: unknown }) => JSON.stringify(st.Action).includes('rds-db:connect'))
          .map(
            (st: { Resource: unknown }) => /"\/([a-z_]+)"/.exec(JSON.stringify(st.Resource))?.[1],
          );
        return [name, users];
      }),
    ) as Record<string, string[]>;
  };

  it.each([
    ['new', () => fresh],
    ['existing', () => existing],
    ['lean', () => lean],
  ] as const)('%s: no function but migrate logs in as the master user (dbUser)', (_, get) => {
    const synthesized = get();
    const users = dbUsers(synthesized);
    const connects = connectUsers(synthesized);
    expect(Object.keys(users).length).toBeGreaterThan(10);
    for (const [name, user] of Object.entries(users)) {
      const expected = name === 'migrate' ? 'crm_cron' : 'crm_cron_app';
      expect(user, name).toBe(expected);
      expect(connects[name], name).toEqual([expected]);
    }
    // migrate creates and grants the role it is told of.
    const migrate = synthesized.template.toJSON().Resources[fnId(synthesized.stack, 'migrate')];
    expect(migrate.Properties.Environment.Variables.DB_APP_ROLE).toBe('crm_cron_app');
  });

  it('the proxy logs in to the database as the app role with IAM (end-to-end), the owner with its secret', () => {
    const { stack, template } = fresh;
    template.hasResourceProperties('AWS::RDS::DBProxy', {
      DefaultAuthScheme: 'IAM_AUTH',
      Auth: [Match.objectLike({ AuthScheme: 'SECRETS', IAMAuth: 'REQUIRED' })],
    });
    const proxyRole = id(stack, stack.database.node.findChild('ProxyRole'));
    const policies = JSON.stringify(
      Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
        JSON.stringify(p.Properties.Roles).includes(`"${proxyRole}"`),
      ),
    );
    expect(policies).toContain('rds-db:connect');
    const instance = id(stack, stack.database.node.findChild('Instance'));
    expect(policies).toContain(`"${instance}","DbiResourceId"`);
    expect(policies).toMatch(/\/crm_cron_app"/);
  });

  it('dbAppRole=none (and secret mode) leave every function on dbUser, the proxy on secrets', () => {
    for (const synthesized of [noRole, variant]) {
      expect(new Set(Object.values(dbUsers(synthesized)))).toEqual(new Set(['crm_cron']));
      const proxy = Object.values(synthesized.template.findResources('AWS::RDS::DBProxy'))[0];
      expect(proxy?.Properties.DefaultAuthScheme).toBeUndefined();
    }
  });

  it('lean: no proxy, no Secrets Manager endpoint, the Scheduler and SQS endpoints in one zone; cdk-nag clean', () => {
    const { stack, template, findings, synthError } = lean;
    expect(synthError).toBeUndefined();
    expect(describeFindings(findings)).toEqual([]);
    template.resourceCountIs('AWS::RDS::DBProxy', 0);
    const endpoints = Object.values(template.findResources('AWS::EC2::VPCEndpoint'));
    expect(endpoints.map((e) => JSON.stringify(e.Properties.ServiceName))).toEqual([
      expect.stringContaining('.scheduler'),
      expect.stringContaining('.sqs'),
    ]);
    for (const endpoint of endpoints) expect(endpoint.Properties.SubnetIds).toHaveLength(1);
    // The functions connect to the instance itself, which admits them only.
    const instance = id(stack, stack.database.node.findChild('Instance'));
    const env =
      template.toJSON().Resources[fnId(stack, 'run-due-jobs')].Properties.Environment.Variables;
    expect(env.DB_HOST).toEqual({ 'Fn::GetAtt': [instance, 'Endpoint.Address'] });
    expect(env.DB_PORT).toBe('5432');
    const [dbSg] = stack.database.instanceSecurityGroups;
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).filter(
      (r) =>
        JSON.stringify(r.Properties.GroupId) ===
        JSON.stringify({ 'Fn::GetAtt': [id(stack, dbSg!), 'GroupId'] }),
    );
    expect(ingress.map((r) => r.Properties.SourceSecurityGroupId['Fn::GetAtt'][0])).toEqual([
      id(stack, stack.functions.securityGroup),
    ]);
  });

  it('lean: the deploy trigger runs migrate-launcher outside the VPC, which may read the owner secret and invoke migrate', () => {
    const { stack, template } = lean;
    const launcher = must(stack.migrations.launcher, 'launcher');
    const resources = template.toJSON().Resources;
    const launcherFn = resources[id(stack, launcher)];
    expect(launcherFn.Properties.VpcConfig).toBeUndefined();
    expect(resources[fnId(stack, 'migrate')].Properties.VpcConfig).toBeDefined();
    const trigger = Object.values(template.findResources('Custom::Trigger'))[0];
    expect(trigger?.Properties.HandlerArn).toEqual(
      stack.resolve(launcher.currentVersion.functionArn),
    );
    const launcherRole = id(stack, launcher.role!);
    const policies = JSON.stringify(
      Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
        JSON.stringify(p.Properties.Roles).includes(`"${launcherRole}"`),
      ),
    );
    expect(policies).toContain('secretsmanager:GetSecretValue');
    expect(policies).toContain('lambda:InvokeFunction');
    expect(policies).not.toContain('rds-db:connect');
    expect(launcherFn.Properties.Environment.Variables.MIGRATE_FUNCTION_NAME).toEqual({
      Ref: fnId(stack, 'migrate'),
    });
  });
});
