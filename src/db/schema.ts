// Every slice's tables, and the relations between them. drizzle-kit reads this file.
import { defineRelations } from 'drizzle-orm';
import { apiTokens } from '../auth/tables.js';
import { services, serviceSecrets } from '../service/tables.js';

export { apiTokens, services, serviceSecrets };

export const tables = { apiTokens, services, serviceSecrets };

export const relations = defineRelations(tables, (r) => ({
  services: {
    secrets: r.many.serviceSecrets({ from: r.services.id, to: r.serviceSecrets.serviceId }),
  },
}));
