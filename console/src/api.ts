import { currentToken } from './auth';

/** The API's RFC 9457 problem document; `errors` names each invalid field. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail || problem.title);
  }
}

export interface Job {
  id: string;
  tenant_id: string | null;
  name: string;
  schedule: string;
  timezone: string;
  function_name: string;
  is_active: boolean;
  metadata: Record<string, unknown>;
  timeout_seconds: number;
  precise: boolean;
  last_run: string | null;
  next_run: string | null;
  created_at: string;
  updated_at: string;
  paused_reason?: string | null;
  paused_at?: string | null;
  paused_by?: string | null;
  paused_until?: string | null;
  warnings?: string[];
  [field: string]: unknown;
}

export interface Run {
  id: string;
  job_id: string;
  scheduled_for: string | null;
  trigger: string;
  status: string;
  attempt: number;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  result: unknown;
  error: string | null;
}

/** One slot of a schedule preview (GET /schedules/preview, GET /jobs/{id}/next). */
export interface PreviewSlot {
  /** Wall-clock time in the job's zone, without offset. */
  local: string;
  utc: string;
  offset: string;
  dst_transition: {
    kind: 'spring_forward' | 'fall_back';
    at: string;
    offset_before: string;
    offset_after: string;
  } | null;
}

export interface NextSlots {
  timezone: string;
  slots: PreviewSlot[];
  will_run: boolean;
  paused_until: string | null;
}

export interface LogLine {
  seq: number;
  at: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown> | null;
}

export interface LogPage {
  run_id: string;
  status: string;
  lines: LogLine[];
  next_after: number;
  complete: boolean;
}

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  items?: JsonSchema;
  [keyword: string]: unknown;
}

export interface Executor {
  name: string;
  description: string;
  config_schema: JsonSchema;
}

const listeners = new Set<() => void>();
/** Called whenever the API answers 401: the console asks who is there. */
export function onUnauthorized(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** One call to the API: the only way the console reads or writes anything. */
export async function api<T>(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T; headers: Headers }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = currentToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`/api/cron${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown = undefined;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  if (!response.ok) {
    if (response.status === 401) for (const listener of listeners) listener();
    const problem =
      parsed && typeof parsed === 'object' && 'status' in parsed
        ? (parsed as Problem)
        : { type: 'about:blank', title: response.statusText, status: response.status, detail: '' };
    throw new ApiError(problem);
  }
  return { status: response.status, body: parsed as T, headers: response.headers };
}

/** Like api(), but a 404 (a route this deployment does not have yet, or a gone row) is null. */
export async function apiOptional<T>(path: string): Promise<T | null> {
  try {
    return (await api<T>('GET', path)).body;
  } catch (error) {
    if (error instanceof ApiError && (error.problem.status === 404 || error.problem.status === 405))
      return null;
    throw error;
  }
}

export const jobPath = (id: string) => `/jobs/${encodeURIComponent(id)}`;

const early = new Map<string, Promise<unknown>>();

/**
 * Starts a GET before the page that needs it has rendered (the first page of jobs, while the
 * console's config loads and the app mounts), so the answer is on its way one round trip sooner.
 */
export function startEarly(path: string): void {
  const answer = api('GET', path).then(({ body }) => body);
  // A failure is not reported here: the page asks again (getOnce), and that answer is the one the
  // sign-in listens to.
  answer.catch(() => {});
  early.set(path, answer);
}

/** A GET's body: the early answer for this path when one was started (used once), else a new call. */
export async function getOnce<T>(path: string): Promise<T> {
  const started = early.get(path);
  early.delete(path);
  const fresh = async () => (await api<T>('GET', path)).body;
  if (!started) return fresh();
  return (started as Promise<T>).catch(fresh);
}
