import { jsonb, retryTransient, type Sql } from '../db';
import type { Log } from '../logger';
import { RUN_LOG_LIMITS, TRUNCATION_MESSAGE, type RunLogLevel } from './limits';

export interface RunLogWriterOptions {
  /** Lines are written at most this long after they were logged, so a viewer can tail them. */
  flushDelayMs: number;
  /** ...or as soon as this many are waiting. */
  flushSize: number;
}

export const defaultRunLogWriterOptions: RunLogWriterOptions = {
  flushDelayMs: 250,
  flushSize: 500,
};

interface PendingLine {
  run_id: string;
  seq: number;
  at: Date;
  level: RunLogLevel;
  message: string;
  fields: unknown;
}

interface RunState {
  seq: number;
  bytes: number;
  truncated: boolean;
}

/**
 * Keeps what executors log during their runs with the runs (table cron_job_run_log). A logged line
 * only goes into memory; a timer writes everything waiting, of all runs, in one statement, so
 * logging never waits for the database and a sweep pays one insert per batch, not per line.
 * Each run's lines are numbered in the order they were logged; one run executes in one process,
 * so the numbering needs no coordination. Bounded per run (RUN_LOG_LIMITS): past the bound one
 * truncation marker is kept and the rest dropped. A failed write is logged and its lines dropped:
 * the run log is a diagnostic and never fails a run.
 */
export class RunLogWriter {
  private readonly runs = new Map<string, RunState>();
  private pending: PendingLine[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly sql: Sql,
    private readonly log: Log,
    private readonly options: RunLogWriterOptions = defaultRunLogWriterOptions,
  ) {}

  /** A Log for one run's executor: every line goes to `base` as before and is kept with the run. */
  forRun(runId: string, base: Log): Log {
    return new RunLineLog(this, runId, base);
  }

  /** Writes every line logged so far. Never rejects. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length > 0) this.writing = this.writing.then(() => this.write(batch));
    return this.writing;
  }

  /** Flushes and forgets the runs' counters. */
  async close(): Promise<void> {
    await this.flush();
    this.runs.clear();
  }

  /** Keeps one line of a run (RunLineLog calls it). */
  keep(runId: string, level: RunLogLevel, message: string, extra?: Record<string, unknown>) {
    let run = this.runs.get(runId);
    if (!run) this.runs.set(runId, (run = { seq: 0, bytes: 0, truncated: false }));
    if (run.truncated) return;
    const text = storable(String(message)).slice(0, RUN_LOG_LIMITS.maxMessageChars);
    const fields = extra === undefined ? null : jsonFields(extra);
    const bytes =
      Buffer.byteLength(text) + (fields === null ? 0 : Buffer.byteLength(JSON.stringify(fields)));
    const at = new Date();
    if (run.seq + 1 >= RUN_LOG_LIMITS.maxLines || run.bytes + bytes > RUN_LOG_LIMITS.maxBytes) {
      run.truncated = true;
      run.seq += 1;
      this.enqueue({
        run_id: runId,
        seq: run.seq,
        at,
        level: 'warn',
        message: TRUNCATION_MESSAGE,
        fields: { truncated: true },
      });
      return;
    }
    run.seq += 1;
    run.bytes += bytes;
    this.enqueue({ run_id: runId, seq: run.seq, at, level, message: text, fields });
  }

  private enqueue(line: PendingLine): void {
    this.pending.push(line);
    if (this.pending.length >= this.options.flushSize) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.flushDelayMs);
  }

  private async write(batch: PendingLine[]): Promise<void> {
    try {
      // Idempotent (a retry skips lines already written); lines of a run deleted meanwhile are dropped.
      await retryTransient(
        () => this.sql`
          insert into cron_job_run_log (run_id, seq, at, level, message, fields)
          select l.run_id, l.seq, l.at, l.level, l.message, l.fields
          from jsonb_to_recordset(${jsonb(this.sql, batch)}) as l(
            run_id uuid, seq integer, at timestamptz, level text, message text, fields jsonb)
          where exists (select from cron_job_run r where r.id = l.run_id)
          on conflict do nothing`,
      );
    } catch (error) {
      this.log.warn('could not keep run log lines; they were dropped', {
        lines: batch.length,
        error: (error as Error).message,
      });
    }
  }
}

// PostgreSQL text and jsonb hold neither NUL nor unpaired surrogates.
const UNPAIRED_SURROGATE =
  /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
function storable(text: string): string {
  return text.replaceAll('\0', '\ufffd').replace(UNPAIRED_SURROGATE, '\ufffd');
}

/** The line's fields as JSON PostgreSQL can store; what JSON cannot hold is described instead. */
function jsonFields(extra: Record<string, unknown>): unknown {
  try {
    const text = JSON.stringify(extra, (_key, value: unknown) =>
      typeof value === 'string'
        ? storable(value)
        : typeof value === 'bigint'
          ? String(value)
          : value,
    );
    const parsed: unknown =
      text === undefined ? null : JSON.parse(text.replaceAll('\\u0000', '\\ufffd'));
    const bytes = text === undefined ? 0 : Buffer.byteLength(text);
    return bytes > RUN_LOG_LIMITS.maxMessageChars * 4
      ? { fields_omitted: `${bytes} bytes` }
      : parsed;
  } catch (error) {
    return { unserializable_fields: (error as Error).message };
  }
}

// A class rather than four closures: one is made per run, so its methods live on the prototype.
class RunLineLog implements Log {
  constructor(
    private readonly writer: RunLogWriter,
    private readonly runId: string,
    private readonly base: Log,
  ) {}

  debug(message: string, extra?: Record<string, unknown>): void {
    this.base.debug(message, extra);
    this.writer.keep(this.runId, 'debug', message, extra);
  }

  info(message: string, extra?: Record<string, unknown>): void {
    this.base.info(message, extra);
    this.writer.keep(this.runId, 'info', message, extra);
  }

  warn(message: string, extra?: Record<string, unknown>): void {
    this.base.warn(message, extra);
    this.writer.keep(this.runId, 'warn', message, extra);
  }

  error(message: string, extra?: Record<string, unknown>): void {
    this.base.error(message, extra);
    this.writer.keep(this.runId, 'error', message, extra);
  }
}
