import { existsSync } from 'node:fs';
import path from 'node:path';
import { Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import type { ConsoleConfig } from '../console/src/config';
import { CONSOLE_ADMIN_GROUP, CONSOLE_TENANT_ATTRIBUTE } from '../lib/identity/cognito-token';
import type { CronConfig } from './config';
import { bundling, jwtEnvironment, repoRoot } from './functions';
import { acknowledge, wildcardResourceFinding } from './nag';

/** Where `npm run build:console` puts the built console. */
export const consoleDist = path.join(repoRoot, 'console', 'dist');

/**
 * Who may use the console: a Cognito user pool (no self sign-up; administrators create users)
 * with a hosted UI and one public app client (authorization code + PKCE, no secret). A
 * pre-token-generation trigger puts into each access token what the API reads: the admin scope
 * for members of the `admins` group, otherwise the user's `custom:tenant_id` as the tenant claim.
 * Created before the API, whose JWT authorizer trusts this pool's issuer and client.
 */
export class ConsoleSignIn extends Construct {
  readonly userPool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;
  readonly domain: cognito.UserPoolDomain;
  /** The scopes the console asks for. */
  readonly scopes = ['openid'];

  constructor(
    scope: Construct,
    id: string,
    props: { config: CronConfig; entry: (name: string) => string },
  ) {
    super(scope, id);
    this.userPool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      // Access-token customization (the tenant claim, the admin scope) needs the Essentials plan.
      featurePlan: cognito.FeaturePlan.ESSENTIALS,
      customAttributes: {
        [CONSOLE_TENANT_ATTRIBUTE.replace(/^custom:/, '')]: new cognito.StringAttribute({
          mutable: true,
        }),
      },
      passwordPolicy: {
        minLength: 12,
        requireDigits: true,
        requireLowercase: true,
        requireUppercase: true,
        requireSymbols: true,
      },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    new cognito.CfnUserPoolGroup(this, 'Admins', {
      userPoolId: this.userPool.userPoolId,
      groupName: CONSOLE_ADMIN_GROUP,
      description: 'Console users who act as admins (every tenant)',
    });
    const trigger = new NodejsFunction(this, 'TokenClaims', {
      entry: props.entry('console-token'),
      handler: 'handler',
      description: 'Console sign-in: puts the tenant claim or the admin scope in access tokens',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: Duration.seconds(5),
      memorySize: 256,
      projectRoot: repoRoot,
      depsLockFilePath: path.join(repoRoot, 'package-lock.json'),
      bundling,
      environment: jwtEnvironment(props.config),
      logGroup: new logs.LogGroup(this, 'TokenClaimsLogs', {
        retention: logs.RetentionDays.ONE_MONTH,
      }),
    });
    this.userPool.addTrigger(
      cognito.UserPoolOperation.PRE_TOKEN_GENERATION_CONFIG,
      trigger,
      cognito.LambdaVersion.V2_0,
    );
    this.domain = this.userPool.addDomain('HostedUi', {
      cognitoDomain: {
        // Unique per account and region; the prefix must be globally unique in the region.
        domainPrefix: Fn.join('-', [
          'crm-cron',
          Fn.select(2, Fn.split('/', Stack.of(this).stackId)),
        ]),
      },
    });
    // Callback URLs are the distribution's, set by ConsoleSite once it exists.
    this.client = this.userPool.addClient('Console', {
      generateSecret: false,
      authFlows: {},
      preventUserExistenceErrors: true,
      oAuth: {
        flows: { authorizationCodeGrant: true, implicitCodeGrant: false },
        scopes: [cognito.OAuthScope.OPENID],
      },
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
    });
    acknowledge(
      this.userPool,
      'AwsSolutions-COG8',
      'The Plus plan (threat protection) costs per active user; Essentials is the plan that customizes access tokens.',
    );
    acknowledge(
      this.userPool,
      'AwsSolutions-COG3',
      'Threat protection (advanced security) needs the Plus plan; the pool has no self sign-up, requires MFA and a strong password.',
    );
    acknowledge(
      trigger,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'AWS-managed policy scoped to writing the function its own CloudWatch logs; maintained by AWS.',
    );
  }

  /** The issuer the API's JWT authorizer trusts. */
  get issuer(): string {
    return this.userPool.userPoolProviderUrl;
  }
}

/**
 * The console site: a private S3 bucket behind one CloudFront distribution (origin access
 * control, HTTPS only) that also forwards `/api/cron/*` to the HTTP API, so the browser talks
 * to one origin (no CORS). `console-config.json` tells the console which user pool to sign in with.
 */
export class ConsoleSite extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;

  constructor(scope: Construct, id: string, props: { api: apigw.HttpApi; signIn: ConsoleSignIn }) {
    super(scope, id);
    const { api, signIn } = props;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: false,
    });
    // `https://<id>.execute-api.<region>.amazonaws.com` -> its host name.
    const apiDomain = Fn.select(2, Fn.split('/', api.apiEndpoint));
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'CRM cron operator console and API',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
      },
      additionalBehaviors: {
        '/api/cron/*': {
          origin: new origins.HttpOrigin(apiDomain, {
            protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
          }),
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        },
      },
    });
    const url = `https://${this.distribution.distributionDomainName}/`;
    const client = signIn.client.node.defaultChild as cognito.CfnUserPoolClient;
    client.callbackUrLs = [url];
    client.logoutUrLs = [url];

    const config: ConsoleConfig = {
      cognito: {
        domain: signIn.domain.baseUrl(),
        clientId: signIn.client.userPoolClientId,
        scopes: signIn.scopes,
      },
    };
    new s3deploy.BucketDeployment(this, 'Deploy', {
      destinationBucket: this.bucket,
      sources: [consoleSource(this), s3deploy.Source.jsonData('console-config.json', config)],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 256,
    });

    acknowledgeDeploymentHandler(this.bucket);
    acknowledge(
      this.bucket,
      'AwsSolutions-S1',
      'Holds only the public console build; CloudFront is the only reader (origin access control).',
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR1',
      'Operators may sign in from anywhere; access is by Cognito sign-in, not geography.',
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR2',
      'No WAF web ACL (a fixed monthly cost): the API requires a JWT on every route but health and is throttled per stage.',
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR3',
      'No CloudFront access logs: API calls are logged by the HTTP API stage; static files need no log.',
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR4',
      'The default *.cloudfront.net certificate (no custom domain configured) does not allow choosing the TLS policy.',
    );
  }
}

/**
 * The built console. A synth that bundles nothing (template tests) gets a placeholder page when
 * `console/dist` is absent; a real synth refuses to deploy without the build.
 */
function consoleSource(scope: Construct): s3deploy.ISource {
  if (existsSync(path.join(consoleDist, 'index.html'))) return s3deploy.Source.asset(consoleDist);
  if (!Stack.of(scope).bundlingRequired) {
    return s3deploy.Source.data('index.html', '<!doctype html><title>console not built</title>');
  }
  throw new Error('console/dist is missing: run `npm run build:console` before deploying');
}

/**
 * The findings on the function CDK provides to copy the console into the bucket (one per stack,
 * outside this construct). It runs only during deployments.
 */
function acknowledgeDeploymentHandler(bucket: s3.IBucket): void {
  const stack = Stack.of(bucket);
  const handler = stack.node.children.find((child) =>
    child.node.id.startsWith('Custom::CDKBucketDeployment'),
  );
  if (!handler) throw new Error('BucketDeployment handler not found');
  const why =
    'CDK-generated BucketDeployment policy: copies the console from the CDK asset bucket into its bucket and invalidates the distribution (invalidations take no resource ARN).';
  for (const action of ['GetObject*', 'GetBucket*', 'List*', 'DeleteObject*', 'Abort*']) {
    acknowledge(handler, `AwsSolutions-IAM5[Action::s3:${action}]`, why);
  }
  acknowledge(handler, 'AwsSolutions-IAM5[Resource::*]', why);
  acknowledge(handler, wildcardResourceFinding(handler, `${bucket.bucketArn}/*`), why);
  acknowledge(
    handler,
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]',
    why,
  );
  acknowledge(
    handler,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'AWS-managed policy scoped to writing the function its own CloudWatch logs; maintained by AWS.',
  );
  acknowledge(
    handler,
    'AwsSolutions-L1',
    'The BucketDeployment runtime is chosen by aws-cdk-lib for its bundled handler; it runs only during deployments.',
  );
}
