import { connect, type Sql } from '../db';
import { credentialsFromEnvironment, rdsAuthToken } from './rds-auth-token';

interface AwsDatabaseBase {
  /** The RDS Proxy endpoint. */
  host: string;
  port: number;
  database: string;
  user: string;
  /** From `AWS_REGION`, which Lambda always sets; undefined lets the SDK resolve it. */
  region: string | undefined;
}

export type AwsDatabaseConfig = AwsDatabaseBase &
  ({ auth: 'iam' } | { auth: 'secret'; secretArn: string });

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new Error(`Environment variable ${name} is required`);
  return value;
}

/** Reads the database settings the stack gives every function. Errors name the variable only. */
export function parseAwsDatabaseConfig(env: NodeJS.ProcessEnv): AwsDatabaseConfig {
  const port = Number(env.DB_PORT?.trim() || '5432');
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new Error('Environment variable DB_PORT must be an integer from 1 to 65535');
  }
  const base: AwsDatabaseBase = {
    host: required(env, 'DB_HOST'),
    port,
    database: required(env, 'DB_NAME'),
    user: required(env, 'DB_USER'),
    region: env.AWS_REGION?.trim() || undefined,
  };
  const auth = env.DB_AUTH?.trim() || 'iam';
  if (auth === 'iam') return { ...base, auth };
  if (auth === 'secret') return { ...base, auth, secretArn: required(env, 'DB_SECRET_ARN') };
  throw new Error("Environment variable DB_AUTH must be 'iam' or 'secret'");
}

// A rotated secret must reach warm functions too, so the cached read expires.
const SECRET_MAX_AGE_MS = 15 * 60_000;
const secretCache = new Map<string, { password: Promise<string>; readAt: number }>();

export function secretPassword(arn: string, region: string | undefined): Promise<string> {
  const cached = secretCache.get(arn);
  if (cached && Date.now() - cached.readAt < SECRET_MAX_AGE_MS) return cached.password;
  // Loaded on first use from the Lambda runtime's SDK: functions in IAM mode never pay for it.
  const password = import('@aws-sdk/client-secrets-manager')
    .then(({ GetSecretValueCommand, SecretsManagerClient }) =>
      new SecretsManagerClient(region ? { region } : {}).send(
        new GetSecretValueCommand({ SecretId: arn }),
      ),
    )
    .then(({ SecretString }) => {
      const value: unknown = SecretString ? JSON.parse(SecretString).password : undefined;
      if (typeof value !== 'string' || !value) {
        throw new Error('The database secret has no string "password" field');
      }
      return value;
    });
  // A failed read must not stick: the next connection attempt tries again.
  password.catch(() => {
    if (secretCache.get(arn)?.password === password) secretCache.delete(arn);
  });
  secretCache.set(arn, { password, readAt: Date.now() });
  return password;
}

/**
 * Connects through RDS Proxy. TLS is verified (the proxy's certificate is issued by ACM, which
 * Node trusts), so an IAM token or password never goes to an impostor. Prepared statements are
 * off because the proxy pins a connection to the client that prepared one.
 */
export function connectToAwsDatabase(
  config: AwsDatabaseConfig,
  options: {
    max?: number;
    /** The owner's password, handed to `migrate` by its launcher (lean profile: no proxy). */
    password?: string;
  } = {},
): Sql {
  const url = new URL('postgres://placeholder');
  url.hostname = config.host;
  url.port = String(config.port);
  url.pathname = `/${encodeURIComponent(config.database)}`;
  url.username = encodeURIComponent(config.user);
  let password: () => Promise<string>;
  const given = options.password;
  if (given !== undefined) {
    password = async () => given;
  } else if (config.auth === 'iam') {
    const region = config.region;
    if (!region)
      throw new Error('Environment variable AWS_REGION is required for IAM authentication');
    // Called for every new connection; a token is valid for 15 minutes, only at login.
    password = async () =>
      rdsAuthToken({
        hostname: config.host,
        port: config.port,
        username: config.user,
        region,
        credentials: credentialsFromEnvironment(process.env),
      });
  } else {
    password = () => secretPassword(config.secretArn, config.region);
  }
  return connect(url.toString(), { max: options.max ?? 2, prepare: false, ssl: true, password });
}

/** `DATABASE_URL` when set (local runs, tests), otherwise the stack's proxy settings. */
export function connectFromEnvironment(
  env: NodeJS.ProcessEnv,
  options: { max?: number } = {},
): Sql {
  const url = env.DATABASE_URL?.trim();
  if (url) return connect(url, { max: options.max ?? 2 });
  return connectToAwsDatabase(parseAwsDatabaseConfig(env), options);
}

/** For tests: forget cached secret reads. */
export function clearSecretCache(): void {
  secretCache.clear();
}
