import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { CronFunctions } from './functions';
import type { Network } from './network';
import { acknowledge } from './nag';

/**
 * Alert delivery in AWS (`-c alerts=true`; off by default). The sweep and the API only write the
 * outbox (cron_alert_delivery) in the database; this function, once a minute, claims what is due
 * and sends it (lib/alerts/delivery.ts), exactly as the `npm start` loop does. It is the one
 * function in subnets with a route out: in a new VPC a public subnet per zone and one NAT gateway
 * that serve only it (the other functions stay in isolated subnets); in the CRM's VPC, its private
 * subnets, which are expected to route out already. E-mail goes to an SNS topic, one subscription
 * per address, filtered on the message attribute `email` (docs/alerts.md).
 *
 * Cost beyond the default stack (us-east-1, idle; new VPC only): a NAT gateway 32.85 USD a month
 * and its public IPv4 address 3.65 USD (36.50 USD, as `npm run cost` prices the template; tested
 * in test/infra/cost.test.ts) plus 0.045 USD per GB sent; the function's 43,200 short
 * invocations a month are within the free tier; SNS e-mail 2 USD per 100,000 after 1,000.
 */
export class AlertDelivery extends Construct {
  readonly function: NodejsFunction;
  readonly emailTopic: sns.Topic;
  readonly schedule: events.Rule;

  constructor(
    scope: Construct,
    id: string,
    props: { functions: CronFunctions; network: Network; linkBaseUrl: string },
  ) {
    super(scope, id);
    const subnets = props.network.alertSubnets;
    if (!subnets) throw new Error('AlertDelivery needs the network built with alerts=true');
    this.emailTopic = new sns.Topic(this, 'EmailTopic', {
      displayName: 'crm-cron alerts',
      enforceSSL: true,
    });
    acknowledge(
      this.emailTopic,
      'AwsSolutions-SNS2',
      'Alert e-mails carry job names and errors the tenant already sees; the AWS-managed key adds nothing a reader of the topic lacks.',
    );
    this.function = props.functions.create('deliver-alerts', {
      description: 'Sends due alert deliveries (webhooks, Slack, e-mail through SNS) with retries',
      rights: [],
      timeout: Duration.minutes(5),
      // One at a time: a pass claims with skip locked anyway; this bounds proxy connections.
      reservedConcurrency: 1,
      vpcSubnets: subnets,
      environment: {
        ALERT_EMAIL_TOPIC_ARN: this.emailTopic.topicArn,
        ALERT_LINK_BASE_URL: props.linkBaseUrl,
      },
    });
    this.emailTopic.grantPublish(this.function);
    // Webhooks and Slack are HTTPS to any public address (the egress guard refuses the others).
    this.function.connections.allowTo(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'Alert destinations (HTTPS)',
    );
    this.schedule = new events.Rule(this, 'Every minute', {
      description: 'Delivers due alerts',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 0 })],
    });
  }
}
