import type { OwnAuditEntry } from '../audit/service.js';
import type { Viewer } from '../auth/rules.js';
import type { Database } from '../db/client.js';
import type { Runtime } from '../runtime.js';

/** Per-request (or per-subscription) context: a new object each time, as Pothos' loaders expect. */
export interface Context {
  db: Database;
  viewer: Viewer | null;
  runtime: Runtime;
  requestId: string;
  /** Audit records of refused mutations, written before the response is sent. */
  pendingAudit: Promise<void>[];
  /** Inside a mutation: its audit entry, for a mutation that writes it in its own single statement. */
  audit?: OwnAuditEntry;
}
