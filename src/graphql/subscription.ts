import type { ArgumentRef, SchemaTypes } from '@pothos/core';
import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { filter, pipe, type Plugin } from 'graphql-yoga';
import { NotFoundError } from '../errors.js';
import type { Topics } from '../events/bus.js';
import { builder } from './builder.js';
import type { Context } from './context.js';
import { localId } from './ids.js';

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : SchemaTypes;

/** Set on every Subscription field defined by defineSubscription (a test checks that none is missing). */
export const SHARED_BY_ROLE = 'eventResultsSharedByRole';

/** Bus topics without an id whose events are of type `Event`. */
type TopicOf<Event> = {
  [K in keyof Topics]: Topics[K] extends [infer Payload] ? (Payload extends Event ? K : never) : never;
}[keyof Topics];

interface IdArgument<Required extends boolean> {
  /** Name of the argument, e.g. `serviceId`. */
  arg: string;
  /** Type of the object it is the global id of, e.g. `Service`. */
  of: string;
  /** Required (`ID!`): the events of that object only; optional (`ID`): left out, those of all. */
  required: Required;
  description: string;
  /** When given: an id that names no object is refused with NOT_FOUND before anything is streamed. */
  exists?: (id: string, ctx: Context) => Promise<boolean>;
}

type LocalId<Required extends boolean> = Required extends true ? string : string | null;

/** Where the events come from: a bus topic, filtered by the id, or a stream of the subscription's own. */
type EventSource<Event, Required extends boolean> =
  | { topic: TopicOf<Event>; idOf: (event: Event) => string; events?: never }
  | { events: (id: LocalId<Required>, ctx: Context) => AsyncIterable<Event>; topic?: never; idOf?: never };

export interface SubscriptionOptions<Event, Required extends boolean> {
  description: string;
  /** The type of each event; its fields read the rest from the database. */
  type: PothosSchemaTypes.ObjectRef<Types, Event>;
  /** The least role allowed to subscribe. */
  scope: 'reader' | 'operator' | 'admin';
  id: IdArgument<Required>;
}

/**
 * Defines a field of Subscription: `name(<id.arg>: ID): <type>`, streaming the events of one
 * object (all objects when an optional id is left out) to viewers of at least `scope`.
 *
 * THE RULE for every subscription: **an event's result may depend on the viewer's role, and on
 * nothing else of the context** (not the token, not the user, not the request). shareEventResults
 * executes each event once per distinct (document, operation name, variables, role) and hands that
 * one result to every subscriber of it, so a field that read `ctx.viewer.tokenId` or `tokenName`
 * (to hide something from one token, say) would show one subscriber's result to another. Auth scopes
 * are fine: they come from the role. Define every Subscription field here: the field is marked
 * (extensions.eventResultsSharedByRole), and test/subscription.test.ts fails on one that is not.
 */
export function defineSubscription<Event, Required extends boolean>(
  name: string,
  options: SubscriptionOptions<Event, Required> & EventSource<Event, Required>,
): void {
  const { id } = options;
  const eventsOf = async (given: string | null | undefined, ctx: Context): Promise<AsyncIterable<Event>> => {
    // An optional id left out or empty means every object; a required one is always read (an empty one is invalid).
    const local = (id.required || given ? localId(String(given), id.of, [id.arg]) : null) as LocalId<Required>;
    if (local !== null && id.exists && !(await id.exists(local, ctx))) throw new NotFoundError(id.of, String(given));
    if (options.events) return options.events(local, ctx);
    const idOf = options.idOf;
    const events = ctx.runtime.events.subscribe(options.topic) as AsyncIterable<Event>;
    return pipe(
      events,
      filter((event: Event) => local === null || idOf(event) === local),
    );
  };
  builder.subscriptionField(name, (t) => {
    const idArg: ArgumentRef<Types, string | null | undefined> = t.arg.id({
      required: id.required,
      description: id.description,
    });
    return t.field({
      type: options.type,
      description: options.description,
      authScopes: { [options.scope]: true },
      args: { [id.arg]: idArg },
      extensions: { [SHARED_BY_ROLE]: true },
      subscribe: (_root, args, ctx) => eventsOf(args[id.arg], ctx),
      // The event is the type's parent: its fields read from it (a generic Event is beyond Pothos' inference).
      resolve: (event) => event as never,
    });
  });
}

/**
 * Each subscription event is executed once per distinct operation (document, variables, role) and
 * the result shared by every subscriber of that operation: the event object is the same for all
 * of them (one bus message, one database read), so 1,000 subscribers of a plan cost one execution
 * per event, not 1,000. Correct only under the rule of defineSubscription: results depend on
 * nothing of the context but the role.
 */
export function shareEventResults(): Plugin<Context> {
  const documents = new WeakMap<DocumentNode, number>();
  let count = 0;
  const results = new WeakMap<object, Map<string, ExecutionResult | Promise<ExecutionResult>>>();
  const subscribe = async (args: ExecutionArgs) => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source;
    if (!documents.has(args.document)) documents.set(args.document, ++count);
    const key = [
      documents.get(args.document),
      args.operationName,
      (args.contextValue as Context).viewer?.role,
      JSON.stringify(args.variableValues ?? {}),
    ].join('\n');
    const resultOf = (event: unknown) => {
      if (typeof event !== 'object' || event === null) return execute({ ...args, rootValue: event });
      const byOperation = results.get(event) ?? new Map();
      results.set(event, byOperation);
      if (!byOperation.has(key)) byOperation.set(key, execute({ ...args, rootValue: event }));
      return byOperation.get(key)!;
    };
    const events = source[Symbol.asyncIterator]();
    // An iterator, not a generator: `return` must reach the source at once, not after its next event.
    const mapped: AsyncIterableIterator<ExecutionResult> = {
      [Symbol.asyncIterator]: () => mapped,
      next: async () => {
        const next = await events.next();
        return next.done ? next : { done: false, value: await resultOf(next.value) };
      },
      return: async () => {
        await events.return?.();
        return { done: true, value: undefined };
      },
      throw: async (error) => {
        await events.return?.();
        throw error;
      },
    };
    return mapped;
  };
  return { onSubscribe: ({ setSubscribeFn }) => setSubscribeFn(subscribe as never) };
}
