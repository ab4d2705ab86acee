import { ErrorInterface } from '../graphql/errors.js';
import { builder } from '../graphql/builder.js';
import { IdempotencyKeyInUseError, IdempotencyKeyReusedError } from './service.js';

builder.objectType(IdempotencyKeyReusedError, {
  name: 'IdempotencyKeyReusedError',
  description:
    'The idempotency key was used in the last 24 hours with a different input (code IDEMPOTENCY_KEY_REUSED); nothing was done. Use a new key for a new request.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    operation: t.exposeString('operation', { description: 'The mutation the key was first used for.' }),
  }),
});

builder.objectType(IdempotencyKeyInUseError, {
  name: 'IdempotencyKeyInUseError',
  description:
    'The first request with this idempotency key has not finished (retry later), or it changed something and then failed (check, then use a new key) (code IDEMPOTENCY_KEY_IN_USE).',
  interfaces: [ErrorInterface],
});

/** What every mutation that creates or starts something adds to its input. */
export const IDEMPOTENCY_KEY_DESCRIPTION =
  "Makes the request safe to retry: within 24 hours the same key with the same input returns the first request's result without acting again, and the same key with a different input is refused (IDEMPOTENCY_KEY_REUSED). Keys belong to the calling token; 1–200 characters.";
