import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, onUnauthorized, startEarly } from './api';
import {
  currentToken,
  loadConfig,
  returningFromSignIn,
  saveToken,
  signOut,
  startCognitoSignIn,
  usesCognito,
} from './auth';
import { lazyPage, PageTitle } from './components';
import { href, parseRoute, useRoute } from './router';
import { EXECUTORS_PATH, FIRST_JOBS_PAGE, JobsPage } from './pages/jobs';
import './styles.css';

// The jobs list is the first page and in the main chunk; the others load when first opened.
const JobPage = lazyPage(() => import('./pages/job').then((module) => module.JobPage));
const JobForm = lazyPage(() => import('./pages/job-form').then((module) => module.JobForm));
const RunPage = lazyPage(() => import('./pages/run').then((module) => module.RunPage));
const RunsPage = lazyPage(() => import('./pages/runs').then((module) => module.RunsPage));

function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  // Which sign-in this deployment uses is in its config, still loading on a first visit.
  const [configured, setConfigured] = useState(false);
  useEffect(() => void loadConfig().then(() => setConfigured(true)), []);
  if (!configured) return <p aria-live="polite">Loading…</p>;
  if (usesCognito()) {
    return (
      <main id="main" class="signin">
        <PageTitle>Sign in</PageTitle>
        <button type="button" class="primary" onClick={() => void startCognitoSignIn()}>
          Sign in with your organization account
        </button>
      </main>
    );
  }
  const submit = async (event: Event) => {
    event.preventDefault();
    saveToken(token.trim());
    try {
      await api('GET', '/executors');
      onSignedIn();
    } catch {
      setError('The API did not accept this token.');
    }
  };
  return (
    <main id="main" class="signin">
      <PageTitle>Sign in</PageTitle>
      <p>
        This API asks for a bearer token (<code>CRON_API_TOKEN</code> or one of{' '}
        <code>CRON_API_TOKENS</code>). It is kept in this tab only.
      </p>
      <form onSubmit={submit}>
        <label for="token">API token</label>
        <input
          id="token"
          type="password"
          autocomplete="off"
          required
          value={token}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={error ? 'token-error' : undefined}
          onInput={(event) => setToken(event.currentTarget.value)}
        />
        {error ? (
          <p id="token-error" class="field-error">
            {error}
          </p>
        ) : null}
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
    </main>
  );
}

function App() {
  const route = useRoute();
  const [needsSignIn, setNeedsSignIn] = useState(false);
  const [generation, setGeneration] = useState(0);
  useEffect(() => onUnauthorized(() => setNeedsSignIn(true)), []);
  const nav = (target: string, label: string, current: boolean) => (
    <a href={target} aria-current={current ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(event) => {
          event.preventDefault();
          document.getElementById('main')?.querySelector('h1')?.focus();
        }}
      >
        Skip to content
      </a>
      <header>
        <span class="brand">Cron jobs</span>
        <nav aria-label="Main">
          {nav(href.jobs(), 'Jobs', route.page === 'jobs' || route.page === 'job')}
          {nav(href.runs(), 'Runs & system', route.page === 'runs')}
          {nav(href.newJob(), 'New job', route.page === 'new')}
        </nav>
        {currentToken() ? (
          <button type="button" class="link" onClick={() => (signOut(), setNeedsSignIn(true))}>
            Sign out
          </button>
        ) : null}
      </header>
      {needsSignIn ? (
        <SignIn
          onSignedIn={() => {
            setNeedsSignIn(false);
            setGeneration((value) => value + 1);
          }}
        />
      ) : (
        <main id="main" key={`${generation}:${location.hash}`}>
          {route.page === 'jobs' ? <JobsPage /> : null}
          {route.page === 'new' ? <JobForm /> : null}
          {route.page === 'job' ? <JobPage id={route.id} /> : null}
          {route.page === 'edit' ? <JobForm id={route.id} /> : null}
          {route.page === 'run' ? <RunPage jobId={route.id} runId={route.runId} /> : null}
          {route.page === 'runs' ? <RunsPage /> : null}
          {route.page === 'not-found' ? <PageTitle>Page not found</PageTitle> : null}
        </main>
      )}
    </>
  );
}

const mount = () => render(<App />, document.getElementById('app')!);
// The API calls need only the token kept in this tab, not the config, so the app mounts at once
// and the config loads beside it; the jobs list (the first page) has its data asked for before
// the app mounts. Only the way back from the Cognito sign-in waits: its token comes from the
// config's user pool.
if (returningFromSignIn()) {
  void loadConfig().then(mount);
} else {
  void loadConfig();
  if (parseRoute(location.hash).page === 'jobs') {
    startEarly(FIRST_JOBS_PAGE);
    startEarly(EXECUTORS_PATH);
  }
  mount();
}
