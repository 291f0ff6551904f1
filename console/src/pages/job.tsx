import { useState } from 'preact/hooks';
import { api, apiOptional, jobPath, type Job, type NextSlots, type Run } from '../api';
import { Dialog, ErrorMessage, PageTitle, StatusBadge, useLoad } from '../components';
import {
  ENGINE_KEYS,
  errorCount,
  formatDuration,
  formatTime,
  fromNow,
  jobState,
  viewerZone,
} from '../format';
import { href, navigate } from '../router';
import { SlotTable } from '../slots';

const RUNS_FETCHED = 200;
const RUNS_PER_PAGE = 20;
const NEXT_SLOTS = 5;
const RUN_STATUSES = ['running', 'success', 'error', 'timeout', 'skipped', 'lost', 'missed'];

interface AuditEntry {
  id?: string;
  at?: string;
  created_at?: string;
  action?: string;
  actor?: string;
  subject?: string;
  [field: string]: unknown;
}

/**
 * Starts a run and returns its id as soon as it exists, so its page can tail the log: the API
 * answers 202 {run_id} at once, while an API that runs the job inside the request (200 with the
 * finished run) is overtaken by the run appearing as `running` in the job's history.
 */
export async function runNow(jobId: string): Promise<string> {
  let settled = false;
  const answered = api<{ run_id?: string; id?: string }>('POST', `${jobPath(jobId)}/run`).then(
    ({ body }) => body.run_id ?? body.id ?? '',
  );
  const seenRunning = (async () => {
    while (!settled) {
      const { runs } = (await api<{ runs: Run[] }>('GET', `${jobPath(jobId)}/runs?limit=5`)).body;
      const running = runs.find((run) => run.status === 'running' && run.trigger === 'manual');
      if (running) return running.id;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    return new Promise<string>(() => {});
  })();
  try {
    return await Promise.race([answered, seenRunning]);
  } finally {
    settled = true;
    // Whatever the request answers later, the run's page shows the outcome.
    answered.catch(() => {});
    seenRunning.catch(() => {});
  }
}

export function JobPage({ id }: { id: string }) {
  const job = useLoad(async () => (await api<Job>('GET', jobPath(id))).body, [id]);
  const runs = useLoad(
    async () =>
      (await api<{ runs: Run[] }>('GET', `${jobPath(id)}/runs?limit=${RUNS_FETCHED}`)).body.runs,
    [id],
  );
  const upcoming = useLoad(
    async () => apiOptional<NextSlots>(`${jobPath(id)}/next?count=${NEXT_SLOTS}`),
    [id],
  );
  const audit = useLoad(
    async () =>
      apiOptional<{ entries?: AuditEntry[]; audit?: AuditEntry[] }>(`${jobPath(id)}/audit`),
    [id],
  );
  const [actionError, setActionError] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);
  const [dialog, setDialog] = useState<'pause' | 'delete' | null>(null);
  const [reason, setReason] = useState('');
  const [until, setUntil] = useState('');
  const [statusFilter, setStatusFilter] = useState('');
  const [page, setPage] = useState(0);

  const act = async (work: () => Promise<void>) => {
    setBusy(true);
    setActionError(undefined);
    try {
      await work();
    } catch (error) {
      setActionError(error as Error);
    } finally {
      setBusy(false);
    }
  };

  if (job.error) {
    return (
      <>
        <PageTitle>Job</PageTitle>
        <ErrorMessage error={job.error} />
        <a href={href.jobs()}>Back to jobs</a>
      </>
    );
  }
  const current = job.data;
  if (!current) return <p aria-live="polite">Loading…</p>;
  const state = jobState(current);
  const filtered = (runs.data ?? []).filter((run) => !statusFilter || run.status === statusFilter);
  const pages = Math.max(1, Math.ceil(filtered.length / RUNS_PER_PAGE));
  const visible = filtered.slice(page * RUNS_PER_PAGE, (page + 1) * RUNS_PER_PAGE);
  const entries = audit.data?.entries ?? audit.data?.audit ?? null;
  const config = Object.fromEntries(
    Object.entries(current.metadata).filter(([key]) => !ENGINE_KEYS.has(key)),
  );

  return (
    <>
      <p class="crumbs">
        <a href={href.jobs()}>Jobs</a> /
      </p>
      <div class="title-row">
        <PageTitle>{current.name}</PageTitle>
        <StatusBadge status={state} />
      </div>
      <div class="actions" role="group" aria-label="Job actions">
        <button
          type="button"
          class="primary"
          disabled={busy}
          onClick={() =>
            void act(async () => {
              const runId = await runNow(id);
              navigate(href.run(id, runId));
            })
          }
        >
          Run now
        </button>
        {state === 'paused' || state === 'inactive' ? (
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              void act(async () => {
                await resume(current);
                job.reload();
                upcoming.reload();
              })
            }
          >
            Resume
          </button>
        ) : (
          <button type="button" disabled={busy} onClick={() => setDialog('pause')}>
            Pause…
          </button>
        )}
        <a class="button" href={href.edit(id)}>
          Edit
        </a>
        <button type="button" class="danger" disabled={busy} onClick={() => setDialog('delete')}>
          Delete…
        </button>
      </div>
      {dialog ? null : <ErrorMessage error={actionError} />}
      {current.paused_at ? (
        <p class="notice" role="status">
          Paused {fromNow(current.paused_at)}
          {current.paused_by ? ` by ${current.paused_by}` : ''}
          {current.paused_reason ? `: ${current.paused_reason}` : ''}
          {current.paused_until
            ? `. Resumes by itself after ${formatTime(current.paused_until)} (${fromNow(current.paused_until)}).`
            : '. Stays paused until resumed.'}
        </p>
      ) : null}
      {typeof current.metadata.last_error === 'string' ? (
        <p class="error" role="status">
          Last error: {current.metadata.last_error}
        </p>
      ) : null}

      <div class="columns">
        <section aria-labelledby="config-heading">
          <h2 id="config-heading">Configuration</h2>
          <dl>
            <dt>Executor</dt>
            <dd>{current.function_name}</dd>
            <dt>Tenant</dt>
            <dd>{current.tenant_id ?? 'global'}</dd>
            <dt>Timeout</dt>
            <dd>{current.timeout_seconds} s</dd>
            <dt>Precise</dt>
            <dd>{current.precise ? 'yes (started at its exact slot)' : 'no (next sweep)'}</dd>
            <dt>Runs / errors</dt>
            <dd>
              {String(current.metadata.execution_count ?? 0)} / {errorCount(current)}
            </dd>
            <dt>Config</dt>
            <dd>
              <pre>{JSON.stringify(config, null, 2)}</pre>
            </dd>
          </dl>
        </section>
        <section aria-labelledby="schedule-heading">
          <h2 id="schedule-heading">Schedule</h2>
          <dl>
            <dt>Schedule</dt>
            <dd>
              <code>{current.schedule}</code> in {current.timezone}
            </dd>
            <dt>Last run</dt>
            <dd>
              {formatTime(current.last_run)} <span class="muted">{fromNow(current.last_run)}</span>
            </dd>
            <dt>Next run ({viewerZone})</dt>
            <dd>
              {formatTime(current.next_run)} <span class="muted">{fromNow(current.next_run)}</span>
            </dd>
            <dt>Next run ({current.timezone})</dt>
            <dd>{formatTime(current.next_run, current.timezone)}</dd>
          </dl>
          {upcoming.data ? (
            <>
              <h3>Next {NEXT_SLOTS} slots</h3>
              {upcoming.data.will_run ? null : (
                <p class="muted">
                  Its schedule’s slots: the job is {current.paused_at ? 'paused' : 'inactive'} and
                  runs none of them until it is {current.paused_at ? 'resumed' : 'switched on'}.
                </p>
              )}
              <SlotTable
                slots={upcoming.data.slots}
                timezone={upcoming.data.timezone}
                caption="The job's next slots"
              />
            </>
          ) : null}
          <ErrorMessage error={upcoming.error} />
        </section>
      </div>

      <section aria-labelledby="runs-heading">
        <div class="title-row">
          <h2 id="runs-heading">Runs</h2>
          <div>
            <label for="run-status">Status </label>
            <select
              id="run-status"
              value={statusFilter}
              onChange={(event) => {
                setStatusFilter(event.currentTarget.value);
                setPage(0);
              }}
            >
              <option value="">any</option>
              {RUN_STATUSES.map((status) => (
                <option key={status} value={status}>
                  {status}
                </option>
              ))}
            </select>{' '}
            <button type="button" onClick={runs.reload}>
              Refresh
            </button>
          </div>
        </div>
        <ErrorMessage error={runs.error} />
        {visible.length === 0 ? (
          <p class="muted">{runs.loading ? 'Loading…' : 'No runs.'}</p>
        ) : (
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">Runs, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Started</th>
                  <th scope="col">Status</th>
                  <th scope="col">Trigger</th>
                  <th scope="col">Duration</th>
                  <th scope="col">Error</th>
                </tr>
              </thead>
              <tbody>
                {visible.map((run) => (
                  <tr key={run.id}>
                    <td>
                      <a href={href.run(id, run.id)}>{formatTime(run.started_at)}</a>
                    </td>
                    <td>
                      <StatusBadge status={run.status} />
                    </td>
                    <td>
                      {run.trigger}
                      {run.attempt > 1 ? ` (attempt ${run.attempt})` : ''}
                    </td>
                    <td>{formatDuration(run.duration_ms)}</td>
                    <td class="wrap">{run.error ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <nav class="pager" aria-label="Run pages">
          <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)}>
            Newer
          </button>
          <span>
            Page {page + 1} of {pages}
          </span>
          <button type="button" disabled={page + 1 >= pages} onClick={() => setPage(page + 1)}>
            Older
          </button>
        </nav>
      </section>

      {entries ? (
        <section aria-labelledby="audit-heading">
          <h2 id="audit-heading">Audit trail</h2>
          {entries.length === 0 ? (
            <p class="muted">No entries.</p>
          ) : (
            <ol class="plain audit">
              {entries.map((entry, index) => (
                <li key={entry.id ?? index}>
                  <span class="muted">{formatTime(entry.at ?? entry.created_at)}</span>{' '}
                  <strong>{entry.action ?? 'change'}</strong>
                  {entry.actor || entry.subject ? ` by ${entry.actor ?? entry.subject}` : ''}
                </li>
              ))}
            </ol>
          )}
        </section>
      ) : null}

      <Dialog open={dialog === 'pause'} title="Pause this job" onClose={() => setDialog(null)}>
        <form
          method="dialog"
          onSubmit={(event) => {
            event.preventDefault();
            void act(async () => {
              await pause(current, reason, until);
              setDialog(null);
              job.reload();
              upcoming.reload();
            });
          }}
        >
          <label for="pause-reason">Reason</label>
          <input
            id="pause-reason"
            required
            maxLength={500}
            value={reason}
            onInput={(event) => setReason(event.currentTarget.value)}
          />
          <label for="pause-until">Resume by itself at (optional, your time)</label>
          <input
            id="pause-until"
            type="datetime-local"
            value={until}
            aria-describedby="pause-until-hint"
            onInput={(event) => setUntil(event.currentTarget.value)}
          />
          <p id="pause-until-hint" class="hint">
            Empty: paused until someone resumes it. Otherwise it resumes at the first sweep after
            this time, from its first slot after it.
          </p>
          <ErrorMessage error={actionError} />
          <div class="actions">
            <button type="submit" class="primary" disabled={busy}>
              Pause
            </button>
            <button type="button" onClick={() => setDialog(null)}>
              Cancel
            </button>
          </div>
        </form>
      </Dialog>
      <Dialog open={dialog === 'delete'} title="Delete this job?" onClose={() => setDialog(null)}>
        <p>
          “{current.name}” stops running and is removed. Its run history stays readable by admins
          until retention.
        </p>
        <div class="actions">
          <button
            type="button"
            class="danger"
            disabled={busy}
            onClick={() =>
              void act(async () => {
                await api('DELETE', jobPath(id));
                setDialog(null);
                navigate(href.jobs());
              })
            }
          >
            Delete
          </button>
          <button type="button" onClick={() => setDialog(null)}>
            Cancel
          </button>
        </div>
      </Dialog>
    </>
  );
}

/**
 * Pausing keeps the job's schedule and says why (POST /pause), optionally until a time (the
 * input's local date-time, in the viewer's zone); resume picks it up again.
 */
async function pause(job: Job, reason: string, until: string): Promise<void> {
  await api('POST', `${jobPath(job.id)}/pause`, {
    reason,
    ...(until ? { until: new Date(until).toISOString() } : {}),
  });
}

/** A paused job resumes; a job merely switched off (is_active false) is switched on. */
async function resume(job: Job): Promise<void> {
  if (job.paused_at) {
    await api('POST', `${jobPath(job.id)}/resume`);
    return;
  }
  await api('PUT', jobPath(job.id), { is_active: true });
}
