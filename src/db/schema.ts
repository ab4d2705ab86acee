// Every slice's tables, and the relations between them. drizzle-kit reads this file.
import { defineRelations } from 'drizzle-orm';
import * as artifact from '../artifact/tables.js';
import { auditLog } from '../audit/tables.js';
import { apiTokens } from '../auth/tables.js';
import * as backup from '../backup/tables.js';
import * as drill from '../drill/tables.js';
import * as edi from '../edi/tables.js';
import { idempotencyKeys } from '../idempotency/tables.js';
import * as restore from '../restore/tables.js';
import { services, serviceSecrets } from '../service/tables.js';

export * from '../artifact/tables.js';
export * from '../backup/tables.js';
export * from '../drill/tables.js';
export * from '../edi/tables.js';
export * from '../restore/tables.js';
export { apiTokens, auditLog, idempotencyKeys, services, serviceSecrets };

export const tables = {
  apiTokens,
  auditLog,
  idempotencyKeys,
  services,
  serviceSecrets,
  ...artifact,
  ...edi,
  ...backup,
  ...restore,
  ...drill,
};

export const relations = defineRelations(tables, (r) => ({
  services: {
    secrets: r.many.serviceSecrets({ from: r.services.id, to: r.serviceSecrets.serviceId }),
    partners: r.many.partners({ from: r.services.id, to: r.partners.serviceId }),
    profiles: r.many.profiles({ from: r.services.id, to: r.profiles.serviceId }),
    agreements: r.many.agreements({ from: r.services.id, to: r.agreements.serviceId }),
    customAssemblies: r.many.customAssemblies({ from: r.services.id, to: r.customAssemblies.serviceId }),
    bridges: r.many.bridges({ from: r.services.id, to: r.bridges.serviceId }),
    certificates: r.many.certificates({ from: r.services.id, to: r.certificates.serviceId }),
    transforms: r.many.transforms({ from: r.services.id, to: r.transforms.serviceId }),
    pipelines: r.many.pipelines({ from: r.services.id, to: r.pipelines.serviceId }),
    templates: r.many.templates({ from: r.services.id, to: r.templates.serviceId }),
    x12Mappings: r.many.x12Mappings({ from: r.services.id, to: r.x12Mappings.serviceId }),
    hybridConnections: r.many.hybridConnections({ from: r.services.id, to: r.hybridConnections.serviceId }),
    backups: r.many.backups({ from: r.services.id, to: r.backups.serviceId }),
    backupSchedule: r.one.backupSchedules({ from: r.services.id, to: r.backupSchedules.serviceId }),
    restoredFrom: r.one.restorePlans({ from: r.services.id, to: r.restorePlans.serviceId }),
    restoreDrills: r.many.restoreDrills({ from: r.services.id, to: r.restoreDrills.serviceId }),
    restoreDrillSchedule: r.one.restoreDrillSchedules({
      from: r.services.id,
      to: r.restoreDrillSchedules.serviceId,
    }),
  },
  restoreDrills: {
    backup: r.one.backups({ from: r.restoreDrills.backupId, to: r.backups.id }),
    service: r.one.services({ from: r.restoreDrills.serviceId, to: r.services.id, optional: false }),
  },
  restorePlans: {
    backup: r.one.backups({ from: r.restorePlans.backupId, to: r.backups.id }),
    service: r.one.services({ from: r.restorePlans.serviceId, to: r.services.id }),
    targetService: r.one.services({ from: r.restorePlans.targetServiceId, to: r.services.id }),
    events: r.many.restoreEvents({ from: r.restorePlans.id, to: r.restoreEvents.planId }),
  },
  backups: {
    service: r.one.services({ from: r.backups.serviceId, to: r.services.id }),
    store: r.one.backupStores({ from: r.backups.storeId, to: r.backupStores.id }),
  },
  partners: {
    service: r.one.services({ from: r.partners.serviceId, to: r.services.id, optional: false }),
    profiles: r.many.profiles({ from: r.partners.id, to: r.profiles.partnerId }),
  },
  profiles: {
    service: r.one.services({ from: r.profiles.serviceId, to: r.services.id, optional: false }),
    partner: r.one.partners({ from: r.profiles.partnerId, to: r.partners.id, optional: false }),
  },
  agreements: {
    service: r.one.services({ from: r.agreements.serviceId, to: r.services.id, optional: false }),
    hostProfile: r.one.profiles({ from: r.agreements.hostProfileId, to: r.profiles.id, optional: false }),
    guestProfile: r.one.profiles({ from: r.agreements.guestProfileId, to: r.profiles.id, optional: false }),
    controlNumbers: r.one.controlNumbers({ from: r.agreements.id, to: r.controlNumbers.agreementId, optional: false }),
    highWater: r.one.controlNumberHighWater({ from: r.agreements.lineageId, to: r.controlNumberHighWater.lineageId }),
    micValues: r.many.as2MicValues({ from: r.agreements.id, to: r.as2MicValues.agreementId }),
    batchMessages: r.many.batchMessages({ from: r.agreements.id, to: r.batchMessages.agreementId }),
  },
  customAssemblies: {
    service: r.one.services({ from: r.customAssemblies.serviceId, to: r.services.id, optional: false }),
  },
  bridges: { service: r.one.services({ from: r.bridges.serviceId, to: r.services.id, optional: false }) },
  certificates: { service: r.one.services({ from: r.certificates.serviceId, to: r.services.id, optional: false }) },
  transforms: { service: r.one.services({ from: r.transforms.serviceId, to: r.services.id, optional: false }) },
  pipelines: { service: r.one.services({ from: r.pipelines.serviceId, to: r.services.id, optional: false }) },
  templates: { service: r.one.services({ from: r.templates.serviceId, to: r.services.id, optional: false }) },
  x12Mappings: { service: r.one.services({ from: r.x12Mappings.serviceId, to: r.services.id, optional: false }) },
  hybridConnections: {
    service: r.one.services({ from: r.hybridConnections.serviceId, to: r.services.id, optional: false }),
  },
  as2MicValues: {
    agreement: r.one.agreements({ from: r.as2MicValues.agreementId, to: r.agreements.id, optional: false }),
  },
}));
