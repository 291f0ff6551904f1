import postgres from 'postgres';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type Sql = postgres.Sql<{}>;
export type TransactionSql = postgres.TransactionSql;
/** A piece of SQL built with sql`...`, spliced into a statement. */
export type SqlFragment = postgres.Fragment;

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

const TRANSIENT_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
  'CONNECT_TIMEOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  '57P01', // admin_shutdown: the backend was terminated
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: the server is starting up
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);

export function isTransientError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TRANSIENT_CODES.has(code);
}

/**
 * Retries a statement that failed for a reason that may pass (a dropped connection, a deadlock).
 * Only for idempotent work: the statement must be safe to apply again.
 */
export async function retryTransient<T>(work: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !isTransientError(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

/** A jsonb parameter; the value must be JSON-serializable. */
export function jsonb(sql: Pick<Sql, 'json'>, value: unknown) {
  return sql.json(value as postgres.JSONValue);
}

/**
 * One column of a batch, for `unnest(${column(...)}::type[], ...)`: one array per column is cheaper
 * to build and to read than a JSON document per row. The column goes as one text parameter holding
 * PostgreSQL's array literal (dates as ISO instants, text quoted), so the cast in the SQL, not the
 * driver's guess from the first element, decides the type. Built here in one pass: the driver's
 * own array serializer escapes every element with two regular expressions, and a sweep sends
 * about twenty such columns per thousand runs.
 */
export function column<T>(
  rows: readonly T[],
  pick: (row: T) => string | number | boolean | Date | null,
): string {
  let literal = '{';
  for (let index = 0; index < rows.length; index += 1) {
    const value = pick(rows[index]!);
    if (index > 0) literal += ',';
    if (value === null) literal += 'NULL';
    // Digits, '-', ':', '.', 'T' and 'Z' need no quoting.
    else if (value instanceof Date) literal += value.toISOString();
    else if (typeof value === 'string') literal += arrayElement(value);
    else literal += String(value);
  }
  return literal + '}';
}

// A quoted array element: inside double quotes only '"' and '\' need a backslash.
function arrayElement(text: string): string {
  return SPECIAL_IN_QUOTES.test(text) ? `"${text.replace(/["\\]/g, '\\$&')}"` : `"${text}"`;
}
const SPECIAL_IN_QUOTES = /["\\]/;
