import { createClient, type Client } from 'graphql-ws';

/** The public GraphQL API on the same origin: POST for queries and mutations, graphql-ws for subscriptions. */
const ENDPOINT = '/graphql';

/** The token lives in this browser tab only (sessionStorage): closing the tab signs out. */
const TOKEN_KEY = 'biztalk-backup-token';
export const savedToken = () => sessionStorage.getItem(TOKEN_KEY);
export const saveToken = (token: string | null) =>
  token ? sessionStorage.setItem(TOKEN_KEY, token) : sessionStorage.removeItem(TOKEN_KEY);

export interface ApiError {
  message: string;
  code: string;
}

export class RequestFailed extends Error {
  constructor(readonly errors: ApiError[]) {
    super(errors.map((e) => e.message).join('; '));
  }
}

type Json = Record<string, unknown>;

export async function request<T = Json>(token: string, query: string, variables: Json = {}): Promise<T> {
  const response = await fetch(ENDPOINT, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as {
    data?: T;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  if (body.errors?.length)
    throw new RequestFailed(
      body.errors.map((e) => ({ message: e.message, code: e.extensions?.code ?? 'INTERNAL_SERVER_ERROR' })),
    );
  return body.data as T;
}

/** A mutation's result union: its success, or a typed error ({ code, message }) that the page shows. */
export interface MutationOutcome {
  __typename: string;
  code?: string;
  message?: string;
  [field: string]: unknown;
}

/** Runs a mutation; a refusal before it ran (an expired token, a limit) comes back as a typed error too. */
export async function mutate(token: string, name: string, input: Json, selection = ''): Promise<MutationOutcome> {
  const type = name[0]!.toUpperCase() + name.slice(1);
  try {
    const data = await request<Record<string, MutationOutcome>>(
      token,
      `mutation Console${type}($input: ${type}Input!) { ${name}(input: $input) { __typename ... on Error { code message } ${selection} } }`,
      { input },
    );
    return data[name]!;
  } catch (error) {
    const first = error instanceof RequestFailed ? error.errors[0] : undefined;
    return {
      __typename: 'Error',
      code: first?.code ?? 'UNAVAILABLE',
      message: first?.message ?? 'The server did not answer',
    };
  }
}

let socket: { token: string; client: Client } | null = null;

/** One WebSocket per token, shared by every live view of the page. */
function client(token: string): Client {
  if (socket?.token !== token) {
    void socket?.client.dispose();
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${ENDPOINT}`;
    socket = { token, client: createClient({ url, connectionParams: { authorization: `Bearer ${token}` } }) };
  }
  return socket.client;
}

/** Calls onEvent for each event of a subscription until the returned function is called. */
export function subscribe<T = Json>(
  token: string,
  query: string,
  variables: Json,
  onEvent: (data: T) => void,
  onError: (message: string) => void = () => {},
): () => void {
  return client(token).subscribe<T>(
    { query, variables },
    {
      next: (result) => {
        if (result.errors?.length) onError(result.errors.map((e) => e.message).join('; '));
        else if (result.data) onEvent(result.data as T);
      },
      error: (error) => onError(error instanceof Error ? error.message : 'The live connection closed'),
      complete: () => {},
    },
  );
}

export function signOutSocket() {
  void socket?.client.dispose();
  socket = null;
}
