import postgres from 'postgres';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type Sql = postgres.Sql<{}>;
export type TransactionSql = postgres.TransactionSql;

export interface ConnectOptions {
  /** Pool size; a Lambda needs one or two, the local server a few more. */
  max?: number;
  /** RDS Proxy pins connections that use prepared statements, so callers behind it turn them off. */
  prepare?: boolean;
  password?: string | (() => string | Promise<string>);
  ssl?: boolean | 'require';
}

export function connect(url: string, options: ConnectOptions = {}): Sql {
  return postgres(url, {
    max: options.max ?? 10,
    prepare: options.prepare ?? true,
    idle_timeout: 60,
    connect_timeout: 10,
    onnotice: () => {},
    ...(options.password === undefined ? {} : { password: options.password }),
    ...(options.ssl === undefined ? {} : { ssl: options.ssl }),
    connection: { application_name: 'crm-cron' },
  });
}

/** True when the error is PostgreSQL's unique_violation on the named constraint (or any). */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  return (
    error instanceof postgres.PostgresError &&
    error.code === '23505' &&
    (constraint === undefined || error.constraint_name === constraint)
  );
}
