import path from 'node:path';
import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readConfig } from './config';
import { CronStack } from './cron-stack';
import { repoRoot } from './functions';

/** Where a function's code lives: `functions/<name>.ts`. */
export const functionEntry = (name: string) => path.join(repoRoot, 'functions', `${name}.ts`);

/** The app `cdk` runs and the tests build: the stack plus cdk-nag's AwsSolutions checks. */
export function createCronApp(props: AppProps & { entry?: (name: string) => string } = {}) {
  const { entry = functionEntry, ...appProps } = props;
  const app = new App(appProps);
  const config = readConfig(app.node);
  const stack = new CronStack(app, config.stackName, {
    config,
    entry,
    description: 'CRM scheduled jobs: sweep, HTTP API, PostgreSQL behind RDS Proxy, alarms',
    // Environment-agnostic: the deploying credentials pick account and region, and synth never
    // needs a lookup (a pinned environment would look up availability zones).
  });
  // Every synth is checked; findings fail it unless acknowledged with a reason.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, config };
}
