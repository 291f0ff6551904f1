import { ArnFormat, Duration, Names, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
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
 * existing mode imports the CRM's instance, security group and secret. Only the proxy reaches
 * the database, and clients reach the proxy with TLS. With the app role (iam mode) the proxy
 * logs in to the database with IAM as well (end-to-end IAM), so the role needs no password or
 * secret; the master secret stays registered for the owner, whom only the migrate function uses.
 * Without the proxy (`dbProxy=false`, the lean profile) the functions log in to the instance
 * itself with IAM tokens, and only they reach it.
 */
export class CronDatabase extends Construct {
  readonly proxy: rds.DatabaseProxy | undefined;
  /** Where the functions connect: the proxy, or the instance without one. */
  readonly connectHost: string;
  readonly connectPort: number;
  readonly secret: secretsmanager.ISecret;
  /** The database's endpoint address (not the proxy's). */
  readonly endpointAddress: string;
  /** The RDS instance identifier: the dimension of its CloudWatch metrics. */
  readonly instanceIdentifier: string;
  readonly proxySecurityGroup: ec2.SecurityGroup | undefined;
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
    this.proxySecurityGroup = config.dbProxy
      ? new ec2.SecurityGroup(this, 'ProxySecurityGroup', {
          vpc,
          description: 'RDS Proxy: clients in, database out',
          allowAllOutbound: false,
        })
      : undefined;
    const proxySecurityGroup = this.proxySecurityGroup;
    // The rds-db:connect resource names the instance by its resource id (dbi-…); an imported
    // instance's is not known offline, so existing mode grants the user on any instance.
    let resourceId: string = '*';

    let instance: rds.IDatabaseInstance;
    if (db.mode === 'new') {
      const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc,
        description: config.dbProxy
          ? 'PostgreSQL: reachable from the proxy only'
          : 'PostgreSQL: reachable from the functions only',
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
      resourceId = created.instanceResourceId ?? '*';
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
    this.instance = instance;
    const stack = Stack.of(this);
    this.dbUserArn = (user: string) =>
      stack.formatArn({
        service: 'rds-db',
        resource: 'dbuser',
        resourceName: `${resourceId}/${user}`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });

    if (proxySecurityGroup) {
      const appRole = config.dbAuth === 'iam' ? config.dbAppRole : null;
      const role = new iam.Role(this, 'ProxyRole', {
        assumedBy: new iam.ServicePrincipal('rds.amazonaws.com'),
        description: 'RDS Proxy: reads the owner secret, logs in as the app role with IAM',
      });
      if (appRole) {
        role.addToPolicy(
          new iam.PolicyStatement({
            actions: ['rds-db:connect'],
            resources: [this.dbUserArn(appRole)],
          }),
        );
      }
      this.proxy = new rds.DatabaseProxy(this, 'Proxy', {
        // Unique per stack: proxy names are per account and region.
        dbProxyName: Names.uniqueResourceName(this, { maxLength: 60, separator: '-' }),
        proxyTarget: rds.ProxyTarget.fromInstance(instance),
        secrets: [this.secret],
        role,
        vpc,
        vpcSubnets: subnets,
        securityGroups: [proxySecurityGroup],
        requireTLS: true,
        // Clients log in with IAM tokens or passwords, never both.
        iamAuth: config.dbAuth === 'iam',
        // The app role has no secret: the proxy logs in to the database as it with IAM too.
        ...(appRole ? { defaultAuthScheme: rds.DefaultAuthScheme.IAM_AUTH } : {}),
      });
      instance.connections.allowDefaultPortFrom(proxySecurityGroup, 'from RDS Proxy');
      this.connectHost = this.proxy.endpoint;
      this.connectPort = PROXY_PORT;
      if (appRole && resourceId === '*') {
        acknowledge(
          role,
          'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds-db:<AWS::Region>:<AWS::AccountId>:dbuser:*/' +
            appRole +
            ']',
          'The imported instance has no resource id offline; the grant names the one database user.',
        );
      }
    } else {
      this.proxy = undefined;
      this.connectHost = this.endpointAddress;
      this.connectPort = db.mode === 'existing' ? db.dbPort : 5432;
    }
    this.instanceSecurityGroups = instance.connections.securityGroups;
    this.ready = [
      ...(this.proxy ? [this.proxy] : []),
      instance,
      ...(proxySecurityGroup ? [proxySecurityGroup] : []),
      ...this.instanceSecurityGroups,
    ];
  }

  private readonly instance: rds.IDatabaseInstance;
  private readonly dbUserArn: (user: string) => string;

  allowFrom(securityGroup: ec2.ISecurityGroup): void {
    if (this.proxy) {
      this.proxy.connections.allowFrom(securityGroup, ec2.Port.tcp(PROXY_PORT), 'from functions');
    } else {
      this.instance.connections.allowDefaultPortFrom(securityGroup, 'from functions');
    }
  }

  /**
   * IAM mode: `rds-db:connect` as `user` (on the proxy, or on the instance without one); secret
   * mode: read the secret.
   */
  grantConnect(grantee: iam.IGrantable, user: string): void {
    if (this.config.dbAuth !== 'iam') this.secret.grantRead(grantee);
    else if (this.proxy) this.proxy.grantConnect(grantee, user);
    else {
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['rds-db:connect'],
        resourceArns: [this.dbUserArn(user)],
      });
    }
  }
}
