import { useEffect, useState } from 'preact/hooks';

/**
 * Hash routes (#/jobs/...), so every static host serves the console from one index.html with no
 * rewrite rules: the local server, S3 behind CloudFront.
 */
export type Route =
  | { page: 'jobs' }
  | { page: 'new' }
  | { page: 'job'; id: string }
  | { page: 'edit'; id: string }
  | { page: 'run'; id: string; runId: string }
  | { page: 'runs' }
  | { page: 'not-found' };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '').split('?')[0] || '/';
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0 || (parts.length === 1 && parts[0] === 'jobs')) return { page: 'jobs' };
  if (parts[0] === 'runs' && parts.length === 1) return { page: 'runs' };
  if (parts[0] === 'new' && parts.length === 1) return { page: 'new' };
  if (parts[0] === 'jobs' && parts[1]) {
    if (parts.length === 2) return { page: 'job', id: parts[1] };
    if (parts.length === 3 && parts[2] === 'edit') return { page: 'edit', id: parts[1] };
    if (parts.length === 4 && parts[2] === 'runs' && parts[3])
      return { page: 'run', id: parts[1], runId: parts[3] };
  }
  return { page: 'not-found' };
}

export const href = {
  jobs: () => '#/jobs',
  newJob: () => '#/new',
  job: (id: string) => `#/jobs/${encodeURIComponent(id)}`,
  edit: (id: string) => `#/jobs/${encodeURIComponent(id)}/edit`,
  run: (id: string, runId: string) =>
    `#/jobs/${encodeURIComponent(id)}/runs/${encodeURIComponent(runId)}`,
  runs: () => '#/runs',
};

export function navigate(to: string): void {
  location.hash = to;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}
