import { useMemo, useState } from 'preact/hooks';
import { api, getOnce, type Executor, type Job } from '../api';
import { ErrorMessage, PageTitle, StatusBadge, useLoad } from '../components';
import { errorCount, formatTime, fromNow, jobState, viewerZone } from '../format';
import { href } from '../router';

// One screen and then some: the first page is what makes the console usable, so it stays small
// (about 360 bytes of JSON a job); "Load more" follows the API's cursor.
const PAGE_SIZE = 50;

interface Filters {
  tenant: string;
  status: '' | 'active' | 'paused' | 'failing' | 'inactive';
  executor: string;
  search: string;
}

const NO_FILTERS: Filters = { tenant: '', status: '', executor: '', search: '' };

/** The API's filters; status "failing" and the name search apply to the rows loaded. */
function query(filters: Filters, cursor?: string): string {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (filters.tenant) params.set('tenant_id', filters.tenant);
  if (filters.executor) params.set('function_name', filters.executor);
  if (filters.status === 'active' || filters.status === 'failing') params.set('is_active', 'true');
  if (filters.status === 'paused' || filters.status === 'inactive')
    params.set('is_active', 'false');
  if (cursor) params.set('cursor', cursor);
  return `/jobs?${params}`;
}

/** What the jobs page asks for first; main.tsx starts it before the page renders. */
export const FIRST_JOBS_PAGE = query(NO_FILTERS);
export const EXECUTORS_PATH = '/executors';

export function JobsPage() {
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [applied, setApplied] = useState(filters);
  const [more, setMore] = useState<{ jobs: Job[]; cursor: string | null } | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const executors = useLoad(
    async () => (await getOnce<{ executors: Executor[] }>(EXECUTORS_PATH)).executors,
    [],
  );
  const first = useLoad(async () => {
    setMore(null);
    return getOnce<{ jobs: Job[]; next_cursor: string | null }>(query(applied));
  }, [applied.tenant, applied.status, applied.executor]);

  const jobs = useMemo(
    () => [...(first.data?.jobs ?? []), ...(more?.jobs ?? [])],
    [first.data, more],
  );
  const cursor = more ? more.cursor : (first.data?.next_cursor ?? null);
  const shown = jobs.filter(
    (job) =>
      (!filters.search || job.name.toLowerCase().includes(filters.search.toLowerCase())) &&
      (!applied.status || jobState(job) === applied.status),
  );

  const loadMore = async () => {
    if (!cursor) return;
    setLoadingMore(true);
    try {
      const page = (
        await api<{ jobs: Job[]; next_cursor: string | null }>('GET', query(applied, cursor))
      ).body;
      setMore({ jobs: [...(more?.jobs ?? []), ...page.jobs], cursor: page.next_cursor });
    } finally {
      setLoadingMore(false);
    }
  };
  const set = (field: keyof Filters) => (event: Event) =>
    setFilters({ ...filters, [field]: (event.currentTarget as HTMLInputElement).value });

  return (
    <>
      <div class="title-row">
        <PageTitle>Jobs</PageTitle>
        <a class="button primary" href={href.newJob()}>
          New job
        </a>
      </div>
      <form
        class="filters"
        role="search"
        aria-label="Filter jobs"
        onSubmit={(event) => {
          event.preventDefault();
          setApplied(filters);
        }}
      >
        <div>
          <label for="search">Name</label>
          <input id="search" type="search" value={filters.search} onInput={set('search')} />
        </div>
        <div>
          <label for="tenant">Tenant</label>
          <input id="tenant" value={filters.tenant} onInput={set('tenant')} />
        </div>
        <div>
          <label for="status">Status</label>
          <select id="status" value={filters.status} onChange={set('status')}>
            <option value="">any</option>
            <option value="active">active</option>
            <option value="failing">failing</option>
            <option value="paused">paused</option>
            <option value="inactive">inactive</option>
          </select>
        </div>
        <div>
          <label for="executor">Executor</label>
          <select id="executor" value={filters.executor} onChange={set('executor')}>
            <option value="">any</option>
            {(executors.data ?? []).map((executor) => (
              <option key={executor.name} value={executor.name}>
                {executor.name}
              </option>
            ))}
          </select>
        </div>
        <button type="submit">Apply</button>
      </form>
      <ErrorMessage error={first.error} />
      <p class="muted" aria-live="polite">
        {first.loading
          ? 'Loading…'
          : `${shown.length} of ${jobs.length} loaded jobs shown${cursor ? '; more to load' : ''}. Times in ${viewerZone} (yours) and the job’s zone.`}
      </p>
      <div class="table-wrap">
        <table>
          <caption class="visually-hidden">Jobs</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Last run</th>
              <th scope="col">Next run (yours)</th>
              <th scope="col">Next run (job’s zone)</th>
              <th scope="col">Errors</th>
              <th scope="col">Executor</th>
              <th scope="col">Tenant</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((job) => (
              <tr key={job.id}>
                <td>
                  <a href={href.job(job.id)}>{job.name}</a>
                  <div class="muted small">{job.schedule}</div>
                </td>
                <td>
                  <StatusBadge status={jobState(job)} />
                </td>
                <td>
                  {typeof job.metadata.last_execution_status === 'string' ? (
                    <StatusBadge status={job.metadata.last_execution_status} />
                  ) : (
                    <span class="muted">never</span>
                  )}
                  <div class="muted small">{fromNow(job.last_run)}</div>
                </td>
                <td>
                  {formatTime(job.next_run)}
                  <div class="muted small">{fromNow(job.next_run)}</div>
                </td>
                <td>
                  {formatTime(job.next_run, job.timezone)}
                  <div class="muted small">{job.timezone}</div>
                </td>
                <td class={errorCount(job) > 0 ? 'num bad' : 'num'}>{errorCount(job)}</td>
                <td>{job.function_name}</td>
                <td>{job.tenant_id ?? <span class="muted">global</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {cursor ? (
        <button type="button" onClick={() => void loadMore()} disabled={loadingMore}>
          {loadingMore ? 'Loading…' : `Load ${PAGE_SIZE} more`}
        </button>
      ) : null}
    </>
  );
}
