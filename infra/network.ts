import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { CronConfig } from './config';
import { acknowledge } from './nag';

/**
 * The VPC the functions, the proxy and (in new mode) the database live in: a new one with two
 * isolated subnets and no NAT gateway, or the CRM's, imported by attributes.
 */
export class Network extends Construct {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /**
   * Where alert delivery runs (`alerts=true`): subnets with a route out. A new VPC gets a public
   * subnet per zone and one NAT gateway for them; the CRM's own subnets are taken to have a route.
   */
  readonly alertSubnets: ec2.SubnetSelection | undefined;
  readonly endpoints: ec2.InterfaceVpcEndpoint[] = [];

  constructor(scope: Construct, id: string, config: CronConfig) {
    super(scope, id);
    const db = config.database;
    if (db.mode === 'existing') {
      this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: db.vpcId,
        availabilityZones: db.availabilityZones,
        privateSubnetIds: db.subnetIds,
      });
      this.subnets = { subnets: this.vpc.privateSubnets };
      this.alertSubnets = config.alerts ? this.subnets : undefined;
      acknowledge(
        this.vpc,
        'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId',
        'The stack only places functions, the proxy and endpoints in these subnets; it never reads their route tables.',
      );
    } else {
      const vpc = new ec2.Vpc(this, 'Vpc', {
        maxAzs: 2,
        // No NAT gateway unless alerts are on: then one, for the delivery function only.
        natGateways: config.alerts ? 1 : 0,
        subnetConfiguration: [
          { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
          ...(config.alerts
            ? [
                { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
                { name: 'alerts', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 },
              ]
            : []),
        ],
      });
      // Rejected flows only: enough to debug a security group, cheap when idle.
      vpc.addFlowLog('RejectedFlows', {
        trafficType: ec2.FlowLogTrafficType.REJECT,
        destination: ec2.FlowLogDestination.toCloudWatchLogs(
          new logs.LogGroup(this, 'FlowLogs', {
            retention: logs.RetentionDays.ONE_MONTH,
            removalPolicy: RemovalPolicy.DESTROY,
          }),
        ),
      });
      this.vpc = vpc;
      this.subnets = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
      this.alertSubnets = config.alerts
        ? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }
        : undefined;
    }

    if (config.createVpcEndpoints) {
      // Only the AWS APIs the functions call: EventBridge Scheduler (precise jobs), SQS (run-now
      // and the dispatching sweep send runs to the worker queue; the worker's event source is
      // polled by Lambda itself, outside the VPC), and Secrets Manager in secret mode only (in iam mode no function reads a secret: the proxy reads the
      // owner's itself, and the lean profile's migrate is handed it). Lambda's own logs do not go
      // through the VPC. The lean profile puts each endpoint in one zone (half the hourly fee);
      // functions in the other zone reach it across zones.
      const subnets: ec2.SubnetSelection =
        config.endpointZones === 1 && config.database.mode === 'new'
          ? { ...this.subnets, onePerAz: true, availabilityZones: [this.vpc.availabilityZones[0]!] }
          : this.subnets;
      const endpoint = (name: string, service: ec2.InterfaceVpcEndpointAwsService) =>
        this.vpc.addInterfaceEndpoint(name, { service, subnets, open: false });
      if (config.dbAuth === 'secret') {
        this.endpoints.push(
          endpoint('SecretsManager', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER),
        );
      }
      this.endpoints.push(
        endpoint('Scheduler', new ec2.InterfaceVpcEndpointAwsService('scheduler')),
        endpoint('Sqs', ec2.InterfaceVpcEndpointAwsService.SQS),
      );
    }
  }

  /** Endpoints accept HTTPS only from the security groups that call them. */
  allowEndpointsFrom(peer: ec2.IConnectable): void {
    for (const endpoint of this.endpoints) endpoint.connections.allowDefaultPortFrom(peer);
  }
}
