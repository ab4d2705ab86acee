import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { request, RequestFailed, saveToken, savedToken, signOutSocket } from './api.js';
import { PlanList, PlanPage } from './restore.js';
import { ServiceList, ServicePage } from './services.js';
import { session as makeSession, type Session } from './session.js';

const VIEWER = 'query ConsoleViewer { viewer { tokenName role } }';

async function signIn(token: string): Promise<Session> {
  const { viewer } = await request<{ viewer: { tokenName: string; role: Session['role'] } }>(token, VIEWER);
  return makeSession(token, viewer);
}

function useRoute() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const changed = () => setHash(location.hash);
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
}

function SignIn({ onSession }: { onSession: (s: Session) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    try {
      const s = await signIn(token.trim());
      saveToken(s.token);
      onSession(s);
    } catch (e) {
      setError(e instanceof RequestFailed ? e.message : 'The server did not answer');
    }
  };
  return (
    <form class="sign-in" onSubmit={submit} aria-labelledby="sign-in-title">
      <h2 id="sign-in-title">Sign in</h2>
      <p>Paste an API token (the one `npm start` or `npm run demo` printed). It is kept for this browser tab only.</p>
      <label>
        API token{' '}
        <input
          type="password"
          autocomplete="off"
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          required
        />
      </label>
      <button type="submit">Sign in</button>
      {error && <p role="alert">{error}</p>}
    </form>
  );
}

function Console() {
  const [session, setSession] = useState<Session | null>(null);
  const [checking, setChecking] = useState(!!savedToken());
  const route = useRoute();
  useEffect(() => {
    const token = savedToken();
    if (token)
      signIn(token)
        .then(setSession, () => saveToken(null))
        .finally(() => setChecking(false));
  }, []);
  const signOut = () => {
    saveToken(null);
    signOutSocket();
    setSession(null);
  };
  let page = null;
  if (session) {
    if (route[0] === 'services' && route[1]) page = <ServicePage session={session} name={route[1]} />;
    else if (route[0] === 'plans' && route[1]) page = <PlanPage session={session} id={route[1]} />;
    else
      page = (
        <>
          <ServiceList session={session} />
          <PlanList session={session} />
        </>
      );
  }
  return (
    <>
      <header>
        <h1>
          <a href="#/">BizTalk Backup</a>
        </h1>
        {session && (
          <p class="who">
            Signed in as <strong>{session.tokenName}</strong> ({session.role}){' '}
            <button type="button" onClick={signOut}>
              Sign out
            </button>
          </p>
        )}
        <a href="/graphql">GraphiQL</a>
      </header>
      <main>{session ? page : checking ? <p>Signing in…</p> : <SignIn onSession={setSession} />}</main>
    </>
  );
}

render(<Console />, document.getElementById('console')!);
