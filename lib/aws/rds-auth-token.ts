import { createHash, createHmac } from 'node:crypto';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

const EXPIRES_SECONDS = 900;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const hmac = (key: string | Buffer, text: string) =>
  createHmac('sha256', key).update(text).digest();
// RFC 3986: SigV4 escapes everything but unreserved characters.
const escape = (text: string) =>
  encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );

/**
 * An RDS IAM authentication token: a SigV4-presigned `connect` request, valid for 15 minutes, used
 * as the database password. Written against node:crypto so the Lambda bundles carry no SDK; a
 * test checks it byte for byte against @aws-sdk/rds-signer.
 */
export function rdsAuthToken(options: {
  hostname: string;
  port: number;
  username: string;
  region: string;
  credentials: AwsCredentials;
  now?: Date;
}): string {
  const { hostname, port, username, region, credentials } = options;
  const amzDate = (options.now ?? new Date()).toISOString().replace(/[-:]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${region}/rds-db/aws4_request`;
  const host = `${hostname}:${port}`;
  const query: Record<string, string> = {
    Action: 'connect',
    DBUser: username,
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${credentials.accessKeyId}/${scope}`,
    'X-Amz-Date': amzDate,
    'X-Amz-Expires': String(EXPIRES_SECONDS),
    ...(credentials.sessionToken ? { 'X-Amz-Security-Token': credentials.sessionToken } : {}),
    'X-Amz-SignedHeaders': 'host',
  };
  const encode = (params: Record<string, string>) =>
    Object.keys(params)
      .sort()
      .map((key) => `${escape(key)}=${escape(params[key]!)}`)
      .join('&');
  const canonicalQuery = encode(query);
  const canonicalRequest = [
    'GET',
    '/',
    canonicalQuery,
    `host:${host}`,
    '',
    'host',
    sha256(''),
  ].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const signingKey = ['rds-db', 'aws4_request'].reduce(
    (key, part) => hmac(key, part),
    hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), region),
  );
  const signature = createHmac('sha256', signingKey).update(stringToSign).digest('hex');
  return `${host}/?${encode({ ...query, 'X-Amz-Signature': signature })}`;
}

/** Lambda gives every function its role's temporary credentials in these variables. */
export function credentialsFromEnvironment(env: NodeJS.ProcessEnv): AwsCredentials {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error('AWS credentials are missing from the environment (AWS_ACCESS_KEY_ID)');
  }
  return { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN };
}
