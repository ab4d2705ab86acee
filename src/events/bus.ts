import { createPubSub } from 'graphql-yoga';
import type { ServiceState } from '../service/rules.js';

/** A service moved from one state to another (payloads stay small: ids and states). */
export interface ServiceStateChange {
  serviceId: string;
  previousState: ServiceState | null;
  state: ServiceState;
  at: string;
}

/** A backup moved from one status to another. */
export interface BackupStatusChange {
  backupId: string;
  serviceId: string;
  previousStatus: string | null;
  status: string;
  at: string;
}

/** The one event bus: typed topics over yoga's pub/sub (in-process transport for now). */
export function createEventBus() {
  return createPubSub<{
    serviceStateChanged: [ServiceStateChange];
    backupStatusChanged: [BackupStatusChange];
    /** A token was revoked: close what it has open. */
    tokenRevoked: [{ tokenId: string }];
    /** A restore plan recorded event `sequence` (read it from restore_events). */
    restoreProgress: [planId: string, event: { planId: string; sequence: number }];
  }>();
}

export type EventBus = ReturnType<typeof createEventBus>;
