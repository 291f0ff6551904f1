import { useEffect, useRef, useState } from 'preact/hooks';
import { api, apiOptional, jobPath, type Job, type LogLine, type LogPage, type Run } from '../api';
import { ErrorMessage, PageTitle, StatusBadge, useLoad } from '../components';
import { formatDuration, formatTime } from '../format';
import { href } from '../router';

// Polled this often while the run is in progress; the engine writes lines within 250 ms, so a
// line shows at most ~0.75 s after the executor logged it.
const TAIL_INTERVAL_MS = 500;
// A full page means more may follow at once.
const LOG_PAGE_LINES = 500;

/** One run: its outcome and its log, tailed live while the run is in progress. */
export function RunPage({ jobId, runId }: { jobId: string; runId: string }) {
  const job = useLoad(async () => (await api<Job>('GET', jobPath(jobId))).body, [jobId]);
  const [run, setRun] = useState<Run | null>(null);
  const [lines, setLines] = useState<LogLine[]>([]);
  const [status, setStatus] = useState<string>('');
  const [complete, setComplete] = useState(false);
  const [error, setError] = useState<Error | undefined>();
  const [follow, setFollow] = useState(true);
  const logRef = useRef<HTMLOListElement>(null);

  useEffect(() => {
    let stopped = false;
    let after = 0;
    let runLoaded = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const loadRun = async () => {
      const single = await apiOptional<Run>(`${jobPath(jobId)}/runs/${encodeURIComponent(runId)}`);
      if (single) return single;
      const { runs } = (await api<{ runs: Run[] }>('GET', `${jobPath(jobId)}/runs?limit=200`)).body;
      return runs.find((candidate) => candidate.id === runId) ?? null;
    };
    const tick = async () => {
      try {
        // Drain every page there is, then wait; stop once the run is over and the log whole.
        for (;;) {
          const page = (
            await api<LogPage>(
              'GET',
              `${jobPath(jobId)}/runs/${encodeURIComponent(runId)}/log?after=${after}`,
            )
          ).body;
          if (stopped) return;
          after = page.next_after;
          if (page.lines.length > 0) setLines((previous) => [...previous, ...page.lines]);
          setStatus(page.status);
          if (page.complete) {
            // The run's outcome first, then "whole log": the page never shows a stale status.
            setRun(await loadRun());
            setComplete(true);
            return;
          }
          if (page.lines.length < LOG_PAGE_LINES) break;
        }
        if (!runLoaded) {
          runLoaded = true;
          setRun(await loadRun());
        }
        timer = setTimeout(() => void tick(), TAIL_INTERVAL_MS);
      } catch (caught) {
        if (!stopped) setError(caught as Error);
      }
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [jobId, runId]);

  useEffect(() => {
    if (follow && logRef.current) logRef.current.scrollTop = logRef.current.scrollHeight;
  }, [lines.length, follow]);

  const shownStatus = status || run?.status || '';
  return (
    <>
      <p class="crumbs">
        <a href={href.jobs()}>Jobs</a> / <a href={href.job(jobId)}>{job.data?.name ?? 'job'}</a> /
      </p>
      <div class="title-row">
        <PageTitle>Run {formatTime(run?.started_at)}</PageTitle>
        {shownStatus ? <StatusBadge status={shownStatus} /> : null}
      </div>
      <ErrorMessage error={error ?? job.error} />
      {run ? (
        <dl class="inline-dl">
          <dt>Trigger</dt>
          <dd>
            {run.trigger}
            {run.attempt > 1 ? ` (attempt ${run.attempt})` : ''}
          </dd>
          <dt>Slot</dt>
          <dd>{formatTime(run.scheduled_for)}</dd>
          <dt>Finished</dt>
          <dd>{formatTime(run.finished_at)}</dd>
          <dt>Duration</dt>
          <dd>{formatDuration(run.duration_ms)}</dd>
        </dl>
      ) : null}
      {run?.error ? (
        <div class="error" role="status">
          <strong>Error</strong>
          <p class="run-error">{run.error}</p>
        </div>
      ) : null}
      {run && run.result !== null && run.result !== undefined ? (
        <details>
          <summary>Result</summary>
          <pre>{JSON.stringify(run.result, null, 2)}</pre>
        </details>
      ) : null}
      <section aria-labelledby="log-heading">
        <div class="title-row">
          <h2 id="log-heading">Log</h2>
          <label class="inline">
            <input
              type="checkbox"
              checked={follow}
              onChange={(event) => setFollow(event.currentTarget.checked)}
            />{' '}
            Follow
          </label>
        </div>
        <p class="muted" role="status" aria-live="polite">
          {complete
            ? `Whole log: ${lines.length} line${lines.length === 1 ? '' : 's'}.`
            : `Live: ${lines.length} line${lines.length === 1 ? '' : 's'} so far…`}
        </p>
        <ol class="log" ref={logRef} tabIndex={0} aria-label="Run log lines">
          {lines.map((line) => (
            <li key={line.seq} class={`log-${line.level}`} data-seq={line.seq}>
              <span class="log-at">{formatTime(line.at).split(', ').at(-1)}</span>{' '}
              <span class="log-level">{line.level}</span>{' '}
              <span class="log-message">{line.message}</span>
              {line.fields && Object.keys(line.fields).length > 0 ? (
                <span class="log-fields"> {JSON.stringify(line.fields)}</span>
              ) : null}
            </li>
          ))}
        </ol>
      </section>
    </>
  );
}
