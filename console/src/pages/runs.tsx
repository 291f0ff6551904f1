import { api, apiOptional, jobPath, type Job, type Run } from '../api';
import { ErrorMessage, PageTitle, StatusBadge, useLoad } from '../components';
import { formatDuration, formatTime, fromNow } from '../format';
import { href } from '../router';

interface SystemStatus {
  now: string;
  sweep_interval_seconds: number;
  last_sweep: { finished_at: string; summary: Record<string, number> } | null;
  jobs: { total: number; active: number; inactive: number; failing: number };
  runs: { running: number; failed_24h: number; timed_out_24h: number; lost_24h: number };
  due: { jobs: number; oldest_next_run: string | null; lag_seconds: number };
}

type FailedRun = Run & { job_name?: string };

const FAILED = new Set(['error', 'timeout', 'lost']);
const DAY_MS = 86_400_000;

/**
 * The failed runs of the last 24 h across jobs: GET /runs where the API has it; otherwise the
 * run histories of the jobs that have failed at some point.
 */
async function recentFailures(): Promise<FailedRun[]> {
  const since = new Date(Date.now() - DAY_MS).toISOString();
  const across = await apiOptional<{ runs: FailedRun[] }>('/runs?limit=200');
  let runs: FailedRun[];
  if (across) {
    runs = across.runs;
  } else {
    const { jobs } = (await api<{ jobs: Job[] }>('GET', '/jobs?limit=200')).body;
    const failing = jobs.filter((job) => Number(job.metadata.error_count ?? 0) > 0).slice(0, 50);
    const histories = await Promise.all(
      failing.map(async (job) =>
        (await api<{ runs: Run[] }>('GET', `${jobPath(job.id)}/runs?limit=50`)).body.runs.map(
          (run) => ({ ...run, job_name: job.name }),
        ),
      ),
    );
    runs = histories.flat();
  }
  return runs
    .filter((run) => FAILED.has(run.status) && run.started_at >= since)
    .sort((a, b) => b.started_at.localeCompare(a.started_at));
}

export function RunsPage() {
  const system = useLoad(async () => (await api<SystemStatus>('GET', '/system')).body, []);
  const failures = useLoad(recentFailures, []);
  const status = system.data;
  return (
    <>
      <PageTitle>Runs &amp; system</PageTitle>
      <section aria-labelledby="system-heading">
        <h2 id="system-heading">System</h2>
        <ErrorMessage error={system.error} />
        {status ? (
          <div class="cards">
            <div class="card">
              <h3>Last sweep</h3>
              {status.last_sweep ? (
                <>
                  <p class="big">{fromNow(status.last_sweep.finished_at)}</p>
                  <p class="muted small">
                    {formatTime(status.last_sweep.finished_at)} · ran{' '}
                    {status.last_sweep.summary.executed ?? 0}, failed{' '}
                    {status.last_sweep.summary.failed ?? 0} in{' '}
                    {formatDuration(status.last_sweep.summary.duration_ms)}
                  </p>
                </>
              ) : (
                <p class="big">never</p>
              )}
              <p class="muted small">every {status.sweep_interval_seconds} s</p>
            </div>
            <div class="card">
              <h3>Lag</h3>
              <p class={status.due.lag_seconds > status.sweep_interval_seconds ? 'big bad' : 'big'}>
                {status.due.lag_seconds} s
              </p>
              <p class="muted small">{status.due.jobs} due job(s) waiting</p>
            </div>
            <div class="card">
              <h3>Lost runs (24 h)</h3>
              <p class={status.runs.lost_24h > 0 ? 'big bad' : 'big'}>{status.runs.lost_24h}</p>
              <p class="muted small">{status.runs.running} running now</p>
            </div>
            <div class="card">
              <h3>Failed runs (24 h)</h3>
              <p class={status.runs.failed_24h > 0 ? 'big bad' : 'big'}>{status.runs.failed_24h}</p>
              <p class="muted small">{status.runs.timed_out_24h} timed out</p>
            </div>
            <div class="card">
              <h3>Jobs</h3>
              <p class="big">{status.jobs.total}</p>
              <p class="muted small">
                {status.jobs.active} active, {status.jobs.inactive} off, {status.jobs.failing}{' '}
                failing
              </p>
            </div>
          </div>
        ) : null}
      </section>
      <section aria-labelledby="failures-heading">
        <div class="title-row">
          <h2 id="failures-heading">Recent failures (last 24 h)</h2>
          <button type="button" onClick={failures.reload}>
            Refresh
          </button>
        </div>
        <ErrorMessage error={failures.error} />
        {failures.data && failures.data.length === 0 ? (
          <p class="muted">No failed runs in the last 24 hours.</p>
        ) : null}
        {failures.data && failures.data.length > 0 ? (
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">Failed runs, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Started</th>
                  <th scope="col">Job</th>
                  <th scope="col">Status</th>
                  <th scope="col">Error</th>
                </tr>
              </thead>
              <tbody>
                {failures.data.map((run) => (
                  <tr key={run.id}>
                    <td>
                      <a href={href.run(run.job_id, run.id)}>{formatTime(run.started_at)}</a>
                    </td>
                    <td>
                      <a href={href.job(run.job_id)}>{run.job_name ?? run.job_id}</a>
                    </td>
                    <td>
                      <StatusBadge status={run.status} />
                    </td>
                    <td class="wrap">{run.error}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        {failures.loading ? <p class="muted">Loading…</p> : null}
      </section>
    </>
  );
}
