import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { VALIDATION_REPORT_FILE } from 'aws-cdk-lib/cx-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCronApp } from '../../infra/cron-app';
import type { CronStack } from '../../infra/cron-stack';
import { existingContext } from './fixtures/contexts';

// Alert delivery in the CDK stack (infra/alerts.ts): off by default, and then no NAT gateway.
const stub = path.join(import.meta.dirname, 'fixtures', 'stub-handler.ts');
const outdirs: string[] = [];

function synth(context: Record<string, unknown>) {
  const outdir = mkdtempSync(path.join(tmpdir(), 'crm-cron-cdk-alerts-'));
  outdirs.push(outdir);
  const { app, stack } = createCronApp({
    outdir,
    entry: () => stub,
    context: { 'aws:cdk:bundling-stacks': [], ...context },
  });
  app.synth();
  const read = (file: string): unknown => JSON.parse(readFileSync(path.join(outdir, file), 'utf8'));
  const report = read(VALIDATION_REPORT_FILE) as {
    pluginReports: {
      pluginName: string;
      violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
    }[];
  };
  return {
    stack,
    template: Template.fromJSON(read(stack.templateFile) as Record<string, unknown>),
    findings: report.pluginReports
      .flatMap((plugin) => plugin.violations)
      .map((v) => `${v.ruleName} ${v.violatingConstructs.map((c) => c.constructPath).join(' ')}`),
  };
}

let off: ReturnType<typeof synth>;
let on: ReturnType<typeof synth>;
let onExisting: ReturnType<typeof synth>;
beforeAll(() => {
  off = synth({});
  on = synth({ alerts: 'true' });
  onExisting = synth({ ...existingContext, alerts: 'true' });
  // Three full syntheses with cdk-nag: slow on a busy machine.
}, 240_000);
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

const deliveryFunction = (stack: CronStack) => stack.functions.byName.get('deliver-alerts');

describe('alert delivery in AWS', () => {
  it('is off by default: no delivery function, no topic, no NAT gateway, no public subnet', () => {
    expect(deliveryFunction(off.stack)).toBeUndefined();
    off.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    off.template.resourceCountIs('AWS::EC2::EIP', 0);
    off.template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    off.template.resourceCountIs('AWS::SNS::Topic', 1); // the alarm topic only
  });

  it('with alerts=true in a new VPC: one NAT gateway, and only the delivery function in its subnets', () => {
    on.template.resourceCountIs('AWS::EC2::NatGateway', 1);
    on.template.resourceCountIs('AWS::EC2::EIP', 1);
    const fn = deliveryFunction(on.stack);
    expect(fn).toBeDefined();
    const vpc = on.stack.network.vpc;
    const egressSubnets = new Set(vpc.privateSubnets.map((subnet) => subnet.subnetId));
    const isolated = new Set(vpc.isolatedSubnets.map((subnet) => subnet.subnetId));
    const subnetsOf = (name: string) =>
      on.stack.resolve(
        (
          on.stack.functions.byName.get(name)!.node.defaultChild as unknown as {
            vpcConfig: { subnetIds: string[] };
          }
        ).vpcConfig.subnetIds,
      ) as unknown[];
    const resolved = (ids: Set<string>) => [...ids].map((subnet) => on.stack.resolve(subnet));
    expect(subnetsOf('deliver-alerts')).toEqual(resolved(egressSubnets));
    for (const name of ['run-due-jobs', 'run-job', 'create-alert-destination', 'list-jobs']) {
      expect(subnetsOf(name), name).toEqual(resolved(isolated));
    }
  });

  it('runs once a minute with the e-mail topic, the API URL for links, and HTTPS out', () => {
    on.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: Match.arrayWith([
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeliverAlerts'), 'Arn'] },
        }),
      ]),
    });
    on.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('alert deliveries'),
      ReservedConcurrentExecutions: 1,
      Environment: {
        Variables: Match.objectLike({
          ALERT_EMAIL_TOPIC_ARN: { Ref: Match.stringLikeRegexp('AlertsEmailTopic') },
          ALERT_LINK_BASE_URL: Match.anyValue(),
        }),
      },
    });
    on.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'sns:Publish',
            Resource: { Ref: Match.stringLikeRegexp('AlertsEmailTopic') },
          }),
        ]),
      },
    });
    on.template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupEgress: Match.arrayWith([
        Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 }),
      ]),
    });
    on.template.hasOutput('AlertEmailTopicArn', {});
  });

  it('in the CRM’s VPC uses its subnets and creates no NAT gateway', () => {
    onExisting.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    expect(deliveryFunction(onExisting.stack)).toBeDefined();
    onExisting.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('alert deliveries'),
      VpcConfig: { SubnetIds: existingContext.existingSubnetIds.split(',') },
    });
  });

  it('passes cdk-nag with alerts on, as with them off', () => {
    expect(on.findings).toEqual([]);
    expect(onExisting.findings).toEqual([]);
  });
});
