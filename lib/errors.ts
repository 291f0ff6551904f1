/** One invalid field of a request or a job: `path` names it as the client wrote it. */
export interface FieldError {
  path: string;
  message: string;
}

/** Domain errors: the service layer throws these, the HTTP layer maps them to status codes. */
export class ValidationError extends Error {
  constructor(readonly errors: FieldError[]) {
    super(errors.map((e) => `${e.path}: ${e.message}`).join('; '));
  }
}

export class NotFoundError extends Error {}

export class ConflictError extends Error {}

/** The caller is known but may not do this (e.g. a tenant caller naming another tenant). */
export class ForbiddenError extends Error {}

/**
 * A failure whose full message names database objects (tables, columns) a tenant must not learn.
 * A run stores and returns `publicMessage`; the full message goes to the failed-run log line only,
 * where operators find it by run_id. Executors throw it for such failures of their own.
 */
export class SchemaDetailError extends Error {
  constructor(
    readonly publicMessage: string,
    detail: string,
  ) {
    super(detail);
  }
}
