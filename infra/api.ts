import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Duration } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { routeTable } from '../lib/http/route-table';
import type { CronConfig } from './config';
import type { ConsoleSignIn } from './console';
import type { CronFunctions } from './functions';
import { acknowledge } from './nag';

/**
 * The HTTP API: one Lambda function and route per routing-table entry. Every route but health
 * requires IAM (SigV4) or, when an issuer and audience are configured or the console is on, a JWT.
 */
export class CronApi extends Construct {
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;

  constructor(
    scope: Construct,
    id: string,
    config: CronConfig,
    functions: CronFunctions,
    /** The console's user pool (`-c console=true`): its tokens are the API's JWTs. */
    consoleSignIn?: ConsoleSignIn,
  ) {
    super(scope, id);
    const jwt = consoleSignIn
      ? { issuer: consoleSignIn.issuer, audience: [consoleSignIn.client.userPoolClientId] }
      : config.jwt;
    this.api = new apigw.HttpApi(this, 'Api', {
      description: 'CRM cron jobs API',
      createDefaultStage: false,
      // Cognito access tokens carry no `aud`; API Gateway then checks `client_id` against it.
      defaultAuthorizer: jwt
        ? new HttpJwtAuthorizer('Jwt', jwt.issuer, { jwtAudience: jwt.audience })
        : new HttpIamAuthorizer(),
    });
    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: config.apiRateLimit, burstLimit: config.apiBurstLimit },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(
          new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH }),
        ),
        // HTTP API variables (the default format is REST's and logs `-` for some fields).
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTime',
            ip: '$context.identity.sourceIp',
            caller: '$context.identity.userArn',
            route: '$context.routeKey',
            path: '$context.path',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            responseLength: '$context.responseLength',
            authorizerError: '$context.authorizer.error',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    for (const route of routeTable) {
      const fn = functions.create(route.name, {
        description: `${route.method} ${route.path}`,
        // API Gateway gives up after 29 s anyway.
        timeout: Duration.seconds(29),
        rights: route.rights,
      });
      const [created] = this.api.addRoutes({
        path: route.path,
        methods: [apigw.HttpMethod[route.method]],
        integration: new HttpLambdaIntegration(`${fn.node.id}Integration`, fn),
        ...(route.access === 'public' ? { authorizer: new apigw.HttpNoneAuthorizer() } : {}),
      });
      if (route.access === 'public' && created) {
        acknowledge(
          created,
          'AwsSolutions-APIG4',
          `${route.method} ${route.path} is the open health check (contract: no auth); it reveals only whether the database answers.`,
        );
      }
    }
  }
}
