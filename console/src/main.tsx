import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, onUnauthorized } from './api';
import {
  currentToken,
  loadConfig,
  saveToken,
  signOut,
  startCognitoSignIn,
  usesCognito,
} from './auth';
import { PageTitle } from './components';
import { href, useRoute } from './router';
import { JobPage } from './pages/job';
import { JobForm } from './pages/job-form';
import { JobsPage } from './pages/jobs';
import { RunPage } from './pages/run';
import { RunsPage } from './pages/runs';
import './styles.css';

function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
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

void loadConfig().then(() => render(<App />, document.getElementById('app')!));
