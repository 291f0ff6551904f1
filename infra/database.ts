import { Duration, Names } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { CronConfig } from './config';
import { acknowledge } from './nag';
import type { Network } from './network';

/** RDS Proxy for PostgreSQL always listens on 5432, whatever port the database uses. */
export const PROXY_PORT = 5432;

/**
 * PostgreSQL behind RDS Proxy. New mode creates the instance (master password managed by RDS in
 * Secrets Manager and rotated by RDS itself, so no rotation function needs a network path);
 * existing mode imports the CRM's instance, security group and secret. Either way only the proxy
 * reaches the database, and clients reach the proxy with TLS.
 */
export class CronDatabase extends Construct {
  readonly proxy: rds.DatabaseProxy;
  readonly secret: secretsmanager.ISecret;
  /** The database's endpoint address (not the proxy's). */
  readonly endpointAddress: string;
  /** The RDS instance identifier: the dimension of its CloudWatch metrics. */
  readonly instanceIdentifier: string;
  readonly proxySecurityGroup: ec2.SecurityGroup;
  /** The security groups of the database instance (imported in existing mode). */
  readonly instanceSecurityGroups: ec2.ISecurityGroup[];
  /** What has to exist before a client can connect through the proxy. */
  readonly ready: Construct[];

  constructor(
    scope: Construct,
    id: string,
    private readonly config: CronConfig,
    network: Network,
  ) {
    super(scope, id);
    const { vpc, subnets } = network;
    const db = config.database;
    this.proxySecurityGroup = new ec2.SecurityGroup(this, 'ProxySecurityGroup', {
      vpc,
      description: 'RDS Proxy: clients in, database out',
      allowAllOutbound: false,
    });
    const proxySecurityGroup = this.proxySecurityGroup;

    let instance: rds.IDatabaseInstance;
    if (db.mode === 'new') {
      const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc,
        description: 'PostgreSQL: reachable from the proxy only',
        allowAllOutbound: false,
      });
      const created = new rds.DatabaseInstance(this, 'Instance', {
        engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17 }),
        instanceType: new ec2.InstanceType(db.instanceClass),
        vpc,
        vpcSubnets: subnets,
        securityGroups: [securityGroup],
        publiclyAccessible: false,
        databaseName: config.dbName,
        // RDS creates the secret and rotates it itself (every 7 days by default): no rotation
        // function, so nothing but the proxy needs a way into the database. RDS Proxy picks up a
        // rotated secret by itself; in secret mode the functions re-read it within 15 minutes
        // (lib/aws/database.ts).
        credentials: rds.Credentials.fromUsername(config.dbUser),
        manageMasterUserPassword: true,
        storageEncrypted: true,
        storageType: rds.StorageType.GP3,
        allocatedStorage: db.allocatedStorageGiB,
        maxAllocatedStorage: db.maxAllocatedStorageGiB,
        multiAz: db.multiAz,
        backupRetention: Duration.days(db.backupRetentionDays),
        deletionProtection: db.deletionProtection,
        // The proxy authenticates IAM clients; this keeps direct IAM logins possible for admins.
        iamAuthentication: true,
        // Free tier retention (7 days); the production profile turns it on.
        enablePerformanceInsights: db.performanceInsights,
      });
      if (!created.secret) throw new Error('an RDS-managed password always has a secret');
      instance = created;
      this.secret = created.secret;
      this.endpointAddress = created.dbInstanceEndpointAddress;
      this.instanceIdentifier = created.instanceIdentifier;
      acknowledge(
        created,
        'AwsSolutions-RDS11',
        'The database is reachable only from the proxy security group in isolated subnets; a non-default port adds nothing.',
      );
      if (!db.multiAz) {
        acknowledge(
          created,
          'AwsSolutions-RDS3',
          'Single-AZ by the dbMultiAz context (default false, cheap when idle); set dbMultiAz=true for failover.',
        );
      }
      if (!db.deletionProtection) {
        acknowledge(
          created,
          'AwsSolutions-RDS10',
          'Deletion protection turned off on purpose by the dbDeletionProtection context (e.g. for teardown).',
        );
      }
    } else {
      const securityGroup = ec2.SecurityGroup.fromSecurityGroupId(
        this,
        'SecurityGroup',
        db.dbSecurityGroupId,
      );
      instance = rds.DatabaseInstance.fromDatabaseInstanceAttributes(this, 'Instance', {
        instanceIdentifier: db.dbInstanceIdentifier,
        instanceEndpointAddress: db.dbEndpoint,
        port: db.dbPort,
        securityGroups: [securityGroup],
        engine: rds.DatabaseInstanceEngine.POSTGRES,
      });
      this.secret = secretsmanager.Secret.fromSecretAttributes(this, 'Secret', {
        secretCompleteArn: db.dbSecretArn,
        ...(db.dbSecretKmsKeyArn
          ? { encryptionKey: kms.Key.fromKeyArn(this, 'SecretKey', db.dbSecretKmsKeyArn) }
          : {}),
      });
      this.endpointAddress = db.dbEndpoint;
      this.instanceIdentifier = db.dbInstanceIdentifier;
    }

    this.proxy = new rds.DatabaseProxy(this, 'Proxy', {
      // Unique per stack: proxy names are per account and region.
      dbProxyName: Names.uniqueResourceName(this, { maxLength: 60, separator: '-' }),
      proxyTarget: rds.ProxyTarget.fromInstance(instance),
      secrets: [this.secret],
      vpc,
      vpcSubnets: subnets,
      securityGroups: [proxySecurityGroup],
      requireTLS: true,
      // The proxy accepts either IAM tokens or passwords, never both.
      iamAuth: config.dbAuth === 'iam',
    });
    instance.connections.allowDefaultPortFrom(proxySecurityGroup, 'from RDS Proxy');
    this.instanceSecurityGroups = instance.connections.securityGroups;
    this.ready = [this.proxy, instance, proxySecurityGroup, ...this.instanceSecurityGroups];
  }

  allowFrom(securityGroup: ec2.ISecurityGroup): void {
    this.proxy.connections.allowFrom(securityGroup, ec2.Port.tcp(PROXY_PORT), 'from functions');
  }

  /** IAM mode: `rds-db:connect` as the proxy user; secret mode: read the secret. */
  grantConnect(grantee: iam.IGrantable): void {
    if (this.config.dbAuth === 'iam') this.proxy.grantConnect(grantee, this.config.dbUser);
    else this.secret.grantRead(grantee);
  }
}
