import type { CfnElement } from 'aws-cdk-lib';
import { Duration, Stack } from 'aws-cdk-lib';
import { acknowledge } from './nag';
import * as triggers from 'aws-cdk-lib/triggers';
import { Construct } from 'constructs';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { CronDatabase } from './database';
import type { CronFunctions } from './functions';

/**
 * Runs `migrate` during the deploy, once the database, the proxy and the network paths to them
 * exist, and again whenever its code (and so the migrations bundled into it) changes. The
 * trigger invokes it synchronously: a migration that throws fails and rolls back the deploy.
 * Without the proxy (lean profile) nothing in the VPC can read the owner's secret, so the
 * trigger invokes `migrate-launcher` outside the VPC, which reads it and invokes `migrate` with it.
 */
export class Migrations extends Construct {
  readonly trigger: triggers.Trigger;
  readonly function: NodejsFunction;
  /** The lean profile's trigger target; invoke it (not migrate) for a dry run there. */
  readonly launcher: NodejsFunction | undefined;

  constructor(
    scope: Construct,
    id: string,
    functions: CronFunctions,
    after: Construct[],
    database: CronDatabase,
  ) {
    super(scope, id);
    const timeout = Duration.minutes(5);
    const handler = (this.function = functions.create('migrate', {
      description: 'Applies database migrations and seeds the default jobs (deploy time)',
      timeout,
      rights: [],
      // Migrations alone run as the owner; every other function logs in as the app role.
      databaseUser: 'owner',
    }));
    this.launcher = database.proxy
      ? undefined
      : functions.create('migrate-launcher', {
          description: 'Hands migrate the owner password (lean profile: no proxy, deploy time)',
          timeout,
          rights: [],
          outsideVpc: true,
          environment: {
            DB_SECRET_ARN: database.secret.secretArn,
            MIGRATE_FUNCTION_NAME: handler.functionName,
            // A new migrate (new migrations) changes this, and so re-runs the trigger.
            MIGRATE_VERSION: handler.currentVersion.version,
          },
        });
    if (this.launcher) {
      database.secret.grantRead(this.launcher);
      handler.grantInvoke(this.launcher);
      acknowledge(
        this.launcher,
        `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(handler.node.defaultChild as CfnElement)}.Arn>:*]`,
        "Invoking the migrate function's versions (grantInvoke); nothing else.",
      );
    }
    this.trigger = new triggers.Trigger(this, 'Trigger', {
      handler: this.launcher ?? handler,
      timeout,
      invocationType: triggers.InvocationType.REQUEST_RESPONSE,
      executeOnHandlerChange: true,
      executeAfter: [...after, functions.securityGroup],
    });
  }
}
