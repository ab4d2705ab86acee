import { encodeGlobalID } from '@pothos/plugin-relay';
import { InvalidStateError, LimitExceededError, NameUnavailableError, NotFoundError } from '../errors.js';
import type { ServiceStateChange } from '../events/bus.js';
import { MAX_CERTIFICATE_BYTES, decodeBase64 } from '../artifact/rules.js';
import { builder } from '../graphql/builder.js';
import { defineMutation } from '../graphql/mutation.js';
import { defineSubscription } from '../graphql/subscription.js';
import { EditionEnum, Service, ServiceStateEnum } from './graphql.js';
import type { LifecycleOperation, SecretKind } from './rules.js';
import * as operations from './service.js';

defineMutation('createService', {
  idempotent: true,
  description: 'Creates a BizTalk Service in state ACTIVE.',
  scope: 'operator',
  errors: [NameUnavailableError, LimitExceededError],
  input: (t) => ({
    name: t.string({
      required: true,
      description:
        'DNS label: 4–50 lowercase letters, digits and hyphens; starts with a letter, does not end with a hyphen.',
    }),
    edition: t.field({ type: EditionEnum, required: true, description: 'Edition of the new service.' }),
    region: t.string({ required: true, description: 'Region id, one of `regions`.' }),
    scaleUnitCount: t.int({ description: "Scale units; defaults to the edition's minimum (1)." }),
    productVersion: t.string({ description: 'Product version; defaults to 1.0.' }),
  }),
  resolve: async (input, ctx) => ({ service: await operations.createService(ctx.runtime, input) }),
  success: (t) => ({ service: t.field({ type: Service, description: 'The new service.', resolve: (r) => r.service }) }),
});

const sslInput = builder.inputType('SslCertificateInput', {
  description: 'An SSL certificate for the environment: PFX data and its password (both kept encrypted).',
  fields: (t) => ({
    pfxBase64: t.string({ required: true, description: 'The PFX file, base64-encoded.' }),
    password: t.string({ required: true, description: 'The PFX password.' }),
  }),
});

defineMutation('updateServiceSettings', {
  description:
    'Changes settings of an ACTIVE service (ADMIN only: they hold secrets). Left-out fields keep their value; a secret set to null is cleared.',
  scope: 'admin',
  errors: [NotFoundError, InvalidStateError],
  input: (t) => ({
    serviceId: t.globalID({ for: Service, required: true, description: 'The service.' }),
    acsNamespace: t.string({ description: 'Access Control Service namespace.' }),
    acsIssuerKey: t.string({ description: 'ACS issuer key (secret).' }),
    trackingDatabaseConnectionString: t.string({ description: 'Tracking database connection string (secret).' }),
    archivingStorageConnectionString: t.string({
      description: 'Archiving storage account connection string (secret; DEVELOPER and PREMIUM only).',
    }),
    monitoringStorageConnectionString: t.string({
      description: 'Monitoring storage account connection string (secret).',
    }),
    sslCertificate: t.field({ type: sslInput, description: 'SSL certificate (secret).' }),
  }),
  resolve: async (input, ctx) => {
    const ssl = input.sslCertificate;
    if (ssl) decodeBase64(ssl.pfxBase64, ['input', 'sslCertificate', 'pfxBase64'], MAX_CERTIFICATE_BYTES);
    const secrets: Partial<Record<SecretKind, string | null>> = {
      ACS_ISSUER_KEY: input.acsIssuerKey,
      TRACKING_DATABASE_CONNECTION_STRING: input.trackingDatabaseConnectionString,
      ARCHIVING_STORAGE_CONNECTION_STRING: input.archivingStorageConnectionString,
      MONITORING_STORAGE_CONNECTION_STRING: input.monitoringStorageConnectionString,
      SSL_CERTIFICATE: ssl === undefined ? undefined : ssl === null ? null : JSON.stringify(ssl),
    };
    const change = { acsNamespace: input.acsNamespace, secrets };
    return { service: await operations.updateServiceSettings(ctx.runtime, input.serviceId.id, change) };
  },
  success: (t) => ({
    service: t.field({ type: Service, description: 'The service with its new settings.', resolve: (r) => r.service }),
  }),
});

defineMutation('scaleService', {
  description: "Changes the scale unit count of an ACTIVE service, within its edition's range.",
  scope: 'operator',
  errors: [NotFoundError, InvalidStateError, LimitExceededError],
  input: (t) => ({
    serviceId: t.globalID({ for: Service, required: true, description: 'The service.' }),
    scaleUnitCount: t.int({ required: true, description: 'The new number of scale units.' }),
  }),
  resolve: async (input, ctx) => ({
    service: await operations.scaleService(ctx.runtime, input.serviceId.id, input.scaleUnitCount),
  }),
  success: (t) => ({
    service: t.field({ type: Service, description: 'The scaled service.', resolve: (r) => r.service }),
  }),
});

/** start/stop/restart/suspend/resume/delete share one shape: a service id in, the service out. */
function lifecycleMutation(name: string, operation: LifecycleOperation, description: string) {
  defineMutation(name, {
    description,
    scope: operation === 'delete' ? 'admin' : 'operator',
    idempotent: operation === 'start' || operation === 'restart',
    errors: [NotFoundError, InvalidStateError],
    input: (t) => ({ serviceId: t.globalID({ for: Service, required: true, description: 'The service.' }) }),
    resolve: async (input, ctx) => ({
      service: await operations.transitionService(ctx.runtime, input.serviceId.id, operation),
    }),
    success: (t) => ({
      service: t.field({ type: Service, description: 'The service in its new state.', resolve: (r) => r.service }),
    }),
  });
}

lifecycleMutation('startService', 'start', 'Starts a STOPPED service (→ ACTIVE).');
lifecycleMutation('stopService', 'stop', 'Stops an ACTIVE service (→ STOPPED).');
lifecycleMutation('restartService', 'restart', 'Restarts an ACTIVE or STOPPED service (→ ACTIVE).');
lifecycleMutation('suspendService', 'suspend', 'Suspends an ACTIVE service (→ SUSPENDED).');
lifecycleMutation(
  'deleteService',
  'delete',
  'Deletes a service (ADMIN only; → DELETED). Its backups stay; its name is on hold for NAME_HOLD_SECONDS.',
);

const ServiceStateChangedEvent = builder.objectRef<ServiceStateChange>('ServiceStateChangedEvent').implement({
  description: 'A service moved from one state to another.',
  fields: (t) => ({
    service: t.drizzleField({
      type: 'services',
      nullable: true,
      description:
        'The service, as it is now; null once it is gone (the target of a restore that failed or was cancelled is removed).',
      resolve: async (query, event, _args, ctx) =>
        (await ctx.db.query.services.findFirst(query({ where: { id: event.serviceId } }))) ?? null,
    }),
    serviceId: t.id({
      description: 'Global id of the service.',
      resolve: (e) => encodeGlobalID('Service', e.serviceId),
    }),
    previousState: t.field({
      type: ServiceStateEnum,
      nullable: true,
      description: 'The state before; null when the service was just created.',
      resolve: (e) => e.previousState,
    }),
    state: t.field({ type: ServiceStateEnum, description: 'The state now.', resolve: (e) => e.state }),
    at: t.field({ type: 'DateTime', description: 'When it changed.', resolve: (e) => e.at }),
  }),
});

defineSubscription('serviceStateChanged', {
  description: 'Every state change of one service, or of all services when serviceId is left out.',
  type: ServiceStateChangedEvent,
  scope: 'reader',
  id: { arg: 'serviceId', of: 'Service', required: false, description: 'Only this service.' },
  topic: 'serviceStateChanged',
  idOf: (event) => event.serviceId,
});
