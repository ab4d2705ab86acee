import { describe, expect, it } from 'vitest';
import { CREATE_SERVICE, lifecycle } from './helpers/operations.js';
import { ADMIN_TOKEN, collect, useTestServer } from './helpers/server.js';
import { schema } from '../src/graphql/schema.js';
import { SHARED_BY_ROLE } from '../src/graphql/subscription.js';

const STATE_CHANGED = `subscription ($id: ID) {
  serviceStateChanged(serviceId: $id) { serviceId previousState state at service { name state } }
}`;

const file = useTestServer();

async function create(name: string) {
  return (await file.server.gql(CREATE_SERVICE, { input: { name, edition: 'BASIC', region: 'westus' } })).data
    .createService.service.id as string;
}

describe('serviceStateChanged', () => {
  it('streams every transition of one service over WebSocket, in order, and nothing of others', async () => {
    const id = await create('watched-svc');
    const other = await create('other-svc');
    const sub = collect(file.server.ws(), STATE_CHANGED, { id }, 3);
    await sub.ready;
    await file.server.gql(lifecycle('stopService'), { id: other });
    await file.server.gql(lifecycle('stopService'), { id });
    await file.server.gql(lifecycle('startService'), { id });
    await file.server.gql(lifecycle('suspendService'), { id });
    const events = await sub.done;
    expect(events.map((e) => e.serviceStateChanged)).toEqual([
      {
        serviceId: id,
        previousState: 'ACTIVE',
        state: 'STOPPED',
        at: expect.any(String),
        service: { name: 'watched-svc', state: 'STOPPED' },
      },
      {
        serviceId: id,
        previousState: 'STOPPED',
        state: 'ACTIVE',
        at: expect.any(String),
        service: { name: 'watched-svc', state: 'ACTIVE' },
      },
      {
        serviceId: id,
        previousState: 'ACTIVE',
        state: 'SUSPENDED',
        at: expect.any(String),
        service: { name: 'watched-svc', state: 'SUSPENDED' },
      },
    ]);
  });

  it('delivers a burst of transitions in the order they were made', async () => {
    const id = await create('burst-svc');
    const sub = collect(
      file.server.ws(),
      `subscription ($id: ID) { serviceStateChanged(serviceId: $id) { state } }`,
      { id },
      40,
    );
    await sub.ready;
    for (let i = 0; i < 20; i++) {
      await file.server.gql(lifecycle('stopService'), { id });
      await file.server.gql(lifecycle('startService'), { id });
    }
    expect((await sub.done).map((e) => e.serviceStateChanged.state)).toEqual(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? 'ACTIVE' : 'STOPPED')),
    );
  });

  it('streams the creation and deletion of any service when no service is given', async () => {
    const sub = collect(file.server.ws(), STATE_CHANGED, {}, 2);
    await sub.ready;
    const id = await create('fresh-svc');
    await file.server.gql(lifecycle('deleteService'), { id });
    const events = (await sub.done).map((e) => e.serviceStateChanged);
    expect(events.map((e) => [e.service.name, e.previousState, e.state])).toEqual([
      ['fresh-svc', null, 'ACTIVE'],
      ['fresh-svc', 'ACTIVE', 'DELETED'],
    ]);
  });

  it('does not publish a refused transition', async () => {
    const id = await create('quiet-svc');
    const sub = collect(file.server.ws(), STATE_CHANGED, { id }, 1);
    await sub.ready;
    expect((await file.server.gql(lifecycle('startService'), { id })).data.startService.code).toBe('INVALID_STATE');
    await file.server.gql(lifecycle('stopService'), { id });
    expect((await sub.done).map((e) => e.serviceStateChanged.state)).toEqual(['STOPPED']);
  });

  it('streams over server-sent events too', async () => {
    const id = await create('sse-svc');
    const response = await fetch(file.server.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        authorization: `Bearer ${ADMIN_TOKEN}`,
      },
      body: JSON.stringify({ query: STATE_CHANGED, variables: { id } }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    await new Promise((r) => setTimeout(r, 300));
    await file.server.gql(lifecycle('stopService'), { id });
    let text = '';
    while (!text.includes('"state":"STOPPED"')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    const event = JSON.parse(
      text
        .split('\n')
        .find((l) => l.startsWith('data: {'))!
        .slice(6),
    );
    expect(event.data.serviceStateChanged).toMatchObject({
      serviceId: id,
      previousState: 'ACTIVE',
      state: 'STOPPED',
      service: { name: 'sse-svc', state: 'STOPPED' },
    });
  });

  it('refuses a subscription without a token: WebSocket closed with 4403, SSE answered 401', async () => {
    const client = file.server.ws(null);
    const closed = await new Promise<any>((resolve) => {
      client.subscribe(
        { query: STATE_CHANGED },
        { next: () => {}, error: resolve, complete: () => resolve('completed') },
      );
    });
    expect(closed.code).toBe(4403);
    const response = await fetch(file.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: STATE_CHANGED }),
    });
    const text = await response.text();
    expect(text).toContain('UNAUTHENTICATED');
  });
});

describe('an event is executed once per role and shared', () => {
  it('defines every Subscription field with defineSubscription, whose rule makes sharing results by role correct', () => {
    const fields = Object.values(schema.getSubscriptionType()!.getFields());
    expect(fields.length).toBeGreaterThan(0);
    expect(fields.filter((f) => f.extensions[SHARED_BY_ROLE] !== true).map((f) => f.name)).toEqual([]);
  });

  it('gives two tokens of one role the same result from one execution, and another role its own', async () => {
    const id = await create('shared-svc');
    const token = async (name: string, role: string) =>
      (
        await file.server.gql(
          'mutation ($n: String!, $r: Role!) { createApiToken(input: { name: $n, role: $r }) { ... on CreateApiTokenSuccess { secret } } }',
          { n: name, r: role },
        )
      ).data.createApiToken.secret as string;
    const subscribers = [
      await token('shared-reader-1', 'READER'),
      await token('shared-reader-2', 'READER'),
      await token('shared-operator', 'OPERATOR'),
    ];
    const subs = [];
    for (const secret of subscribers) {
      const sub = collect(
        file.server.ws(secret),
        `subscription ($id: ID) { serviceStateChanged(serviceId: $id) { state service { name region } } }`,
        { id },
        1,
      );
      await sub.ready;
      subs.push(sub);
    }
    const before = file.server.queries.length;
    await file.server.gql(lifecycle('stopService'), { id });
    const results = await Promise.all(subs.map((s) => s.done));
    expect(results).toEqual(
      Array(3).fill([{ serviceStateChanged: { state: 'STOPPED', service: { name: 'shared-svc', region: 'westus' } } }]),
    );
    // Each execution of the event reads its service once (`service` is a findFirst): once for the
    // READER tokens together, once for the OPERATOR.
    const reads = file.server.queries
      .slice(before)
      .filter((q) => /from "services" as "d0" where "d0"."id" = \$1 limit/.test(q));
    expect(reads).toHaveLength(2);
  });
});
