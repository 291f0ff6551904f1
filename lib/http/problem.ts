import type { FieldError } from '../errors';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** An error with an HTTP meaning, rendered as RFC 9457 application/problem+json. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
  }
}

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldError[];
}

export function invalid(errors: FieldError[]): HttpProblem {
  const detail = errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; ');
  return new HttpProblem(400, detail, errors);
}

export function problemDocument(problem: HttpProblem, requestId?: string): ProblemDocument {
  return {
    // about:blank: the status code says all there is to say about the kind of problem.
    type: 'about:blank',
    title: TITLES[problem.status] ?? 'Error',
    status: problem.status,
    detail: problem.detail,
    ...(requestId ? { instance: `urn:request:${requestId}` } : {}),
    ...(problem.errors ? { errors: problem.errors } : {}),
  };
}
