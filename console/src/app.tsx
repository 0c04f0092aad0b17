import { useEffect, useState } from 'preact/hooks';
import { ApiProblem, call, session, whenUnauthorized } from './api';
import { Link, navigate, useLocation } from './router';
import { BusinessView } from './views/business';
import { CatalogView } from './views/catalog';
import { DlqView } from './views/dlq';
import { EventsView } from './views/events';
import { OverviewView } from './views/overview';
import { SubscriptionsView } from './views/subscriptions';
import { TraceView } from './views/trace';

const VIEWS = [
  { path: '/', label: 'Overview' },
  { path: '/business', label: 'Business' },
  { path: '/events', label: 'Events' },
  { path: '/subscriptions', label: 'Subscriptions' },
  { path: '/dlq', label: 'Dead letters' },
  { path: '/catalog', label: 'Catalog' },
] as const;

function Login(props: { onLogin(): void; expired: boolean }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(
    props.expired ? 'Your key is no longer accepted; sign in again.' : null,
  );
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const candidate = key.trim();
    if (!candidate) {
      setError('Enter an API key.');
      return;
    }
    setBusy(true);
    try {
      // Any valid credential may read the catalog: a cheap way to ask the hub whether the key is good.
      await call('GET', '/v1/catalog/schemas', { key: candidate });
      session.set(candidate);
      props.onLogin();
    } catch (problem) {
      setError(
        problem instanceof ApiProblem && problem.status === 401
          ? `That API key was not accepted: ${problem.detail}`
          : `Could not sign in: ${problem instanceof ApiProblem ? problem.detail : String(problem)}`,
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <form onSubmit={submit} class="card login-card" aria-label="Sign in">
        <h1>Conveyor</h1>
        <p class="muted">
          Integration hub console. Sign in with an API key; it is kept for this browser session only.
        </p>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          placeholder="cvy_…"
          value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
          aria-invalid={error !== null}
          aria-describedby={error ? 'login-error' : undefined}
        />
        {error && (
          <p id="login-error" class="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

function current(path: string) {
  if (path.startsWith('/trace')) return '/events';
  return VIEWS.find((v) => v.path !== '/' && path.startsWith(v.path))?.path ?? '/';
}

function Page(props: { path: string }) {
  const { path } = props;
  if (path.startsWith('/trace/'))
    return <TraceView subject={decodeURIComponent(path.slice('/trace/'.length))} />;
  switch (current(path)) {
    case '/business':
      return <BusinessView />;
    case '/events':
      return <EventsView />;
    case '/subscriptions':
      return <SubscriptionsView />;
    case '/dlq':
      return <DlqView />;
    case '/catalog':
      return <CatalogView />;
    default:
      return <OverviewView />;
  }
}

export function App() {
  const [signedIn, setSignedIn] = useState(session.key() !== null);
  const [expired, setExpired] = useState(false);
  const { path } = useLocation();
  useEffect(() => {
    whenUnauthorized(() => {
      session.clear();
      setExpired(true);
      setSignedIn(false);
    });
  }, []);
  if (!signedIn)
    return (
      <Login
        expired={expired}
        onLogin={() => {
          setExpired(false);
          setSignedIn(true);
        }}
      />
    );
  const active = current(path);
  return (
    <div class="shell">
      <header class="topbar">
        <span class="brand">Conveyor</span>
        <nav aria-label="Views">
          {VIEWS.map((v) => (
            <Link key={v.path} href={v.path} current={active === v.path} class="nav-link">
              {v.label}
            </Link>
          ))}
          <a class="nav-link" href="/docs" target="_blank" rel="noopener">
            API reference ↗
          </a>
        </nav>
        <button
          type="button"
          class="secondary small"
          onClick={() => {
            session.clear();
            setSignedIn(false);
            navigate('/');
          }}
        >
          Sign out
        </button>
      </header>
      <main class="content">
        <Page path={path} />
      </main>
    </div>
  );
}
