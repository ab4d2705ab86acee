import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { request, subscribe } from './api.js';

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  reload: () => void;
}

/** Loads a query, again whenever `reload` is called or the variables change. */
export function useQuery<T>(token: string, query: string, variables: Record<string, unknown>): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [round, setRound] = useState(0);
  const key = JSON.stringify(variables);
  // The variables are compared by their JSON (key), not by identity.
  useEffect(() => {
    let current = true;
    request<T>(token, query, variables).then(
      (result) => {
        if (!current) return;
        setData(result);
        setError(null);
      },
      (e: Error) => current && setError(e.message),
    );
    return () => {
      current = false;
    };
  }, [token, query, key, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { data, error, reload };
}

/** Keeps a subscription open while the component shows (and while `enabled`). */
export function useSubscription<T>(
  token: string,
  query: string,
  variables: Record<string, unknown>,
  onEvent: (data: T) => void,
  enabled = true,
): string | null {
  const [error, setError] = useState<string | null>(null);
  const key = JSON.stringify(variables);
  // Events go to the latest onEvent; the subscription is opened again only when the variables change.
  const latest = useRef(onEvent);
  latest.current = onEvent;
  useEffect(() => {
    if (!enabled) return;
    setError(null);
    return subscribe<T>(token, query, variables, (data) => latest.current(data), setError);
  }, [token, query, key, enabled]);
  return error;
}
