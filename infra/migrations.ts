import { Duration } from 'aws-cdk-lib';
import * as triggers from 'aws-cdk-lib/triggers';
import { Construct } from 'constructs';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { CronFunctions } from './functions';

/**
 * Runs `migrate` during the deploy, once the database, the proxy and the network paths to them
 * exist, and again whenever its code (and so the migrations bundled into it) changes. The
 * trigger invokes it synchronously: a migration that throws fails and rolls back the deploy.
 */
export class Migrations extends Construct {
  readonly trigger: triggers.Trigger;
  readonly function: NodejsFunction;

  constructor(scope: Construct, id: string, functions: CronFunctions, after: Construct[]) {
    super(scope, id);
    const timeout = Duration.minutes(5);
    const handler = (this.function = functions.create('migrate', {
      description: 'Applies database migrations and seeds the default jobs (deploy time)',
      timeout,
      rights: [],
    }));
    this.trigger = new triggers.Trigger(this, 'Trigger', {
      handler,
      timeout,
      invocationType: triggers.InvocationType.REQUEST_RESPONSE,
      executeOnHandlerChange: true,
      executeAfter: [...after, functions.securityGroup],
    });
  }
}
