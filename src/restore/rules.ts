import { DomainError, InvalidStateError } from '../errors.js';
import { editionInfo, editionRank, withArticle, type Edition } from '../service/rules.js';

export const restoreStates = ['PLANNED', 'RESTORING', 'SUSPENDED', 'ACTIVE', 'FAILED', 'CANCELLED'] as const;
export type RestoreState = (typeof restoreStates)[number];
export const controlNumberPolicies = ['ADVANCE_PAST_ISSUED', 'RESTORE_FROM_BACKUP'] as const;
export type ControlNumberPolicy = (typeof controlNumberPolicies)[number];
/** What a merge does with a restored item whose name the target already has. */
export const collisionPolicies = ['SKIP', 'REPLACE', 'RENAME'] as const;
export type CollisionPolicy = (typeof collisionPolicies)[number];
export const checklistKinds = [
  'REVIEW_ACS_CREDENTIALS',
  'RESOLVE_FTP_SOURCE_CONFLICT',
  'CONFIRM_TARGET_ENVIRONMENT',
  'CONFIGURE_AUTOMATED_BACKUPS',
] as const;
export type ChecklistKind = (typeof checklistKinds)[number];
export const severities = ['BLOCKER', 'WARNING', 'INFO'] as const;
export type Severity = (typeof severities)[number];

export const terminalStates: RestoreState[] = ['ACTIVE', 'FAILED', 'CANCELLED'];

/**
 * A restore plan's lifecycle (SPEC §2): each step, the states it may start from and the state it
 * ends in. Only the lifecycle module applies them (restore/lifecycle.ts: `transition`).
 */
export const planSteps = {
  /** executeRestorePlan: the target service is created and the durable work starts. */
  execute: { from: ['PLANNED'], to: 'RESTORING', verb: 'executed' },
  /** Another instance takes over a restore whose lease expired, and starts it again. */
  takeOver: { from: ['RESTORING'], to: 'RESTORING', verb: 'taken over' },
  /** Everything in the backup is restored: the service waits, SUSPENDED, for its checklist. */
  finish: { from: ['RESTORING'], to: 'SUSPENDED', verb: 'finished' },
  /** The restore could not complete: what it restored is removed. */
  fail: { from: ['RESTORING'], to: 'FAILED', verb: 'failed' },
  cancel: { from: ['PLANNED', 'RESTORING'], to: 'CANCELLED', verb: 'cancelled' },
  /** A restore drill is done with its scratch service: the restored service is removed. */
  discard: { from: ['SUSPENDED'], to: 'CANCELLED', verb: 'discarded' },
  /** A merge moved the staging service's rows into its target: the plan is done. */
  merge: { from: ['RESTORING'], to: 'ACTIVE', verb: 'merged' },
  /** resumeService on the restored service. */
  resume: { from: ['SUSPENDED'], to: 'ACTIVE', verb: 'resumed' },
} as const satisfies Record<string, { from: readonly RestoreState[]; to: RestoreState; verb: string }>;
export type PlanStep = keyof typeof planSteps;

/** Whether `step` may start from `state`. */
export function stepAllowed(step: PlanStep, state: RestoreState): boolean {
  return (planSteps[step].from as readonly RestoreState[]).includes(state);
}

/** The state `step` ends in, or an INVALID_STATE error that says which states it needs. */
export function nextPlanState(step: PlanStep, state: RestoreState): RestoreState {
  const { from, to, verb } = planSteps[step];
  if (!stepAllowed(step, state))
    throw new InvalidStateError(`The plan is ${state}; only a ${from.join(' or ')} plan can be ${verb}`, state);
  return to;
}

export interface RestoreCheck {
  code: string;
  severity: Severity;
  message: string;
}

export interface RestoreProgress {
  category: string;
  done: number;
  total: number;
}

/** What the checks need to know, gathered by the restore operations. */
export interface PlanFacts {
  backup: {
    status: string;
    edition: Edition;
    intact: boolean;
    warnings: string[];
    hybridConnectionNames: string[];
    serviceName: string;
    sourceServiceLive: boolean;
  };
  targetName: string;
  targetEdition: Edition;
  policy: ControlNumberPolicy;
  /** A live (not deleted) service with the target name. */
  nameHolder: { state: string } | null;
  /** When the name held by a recently deleted service becomes free. */
  nameFreeAt: Date | null;
  drift: { agreementName: string; issuedSince: number }[];
  ftpConflicts: { agreementName: string; folder: string; otherService: string; otherAgreement: string }[];
  archivingLost: boolean;
}

/** Every check of SPEC §2 "Restore plan", from the facts; the order is the order shown. */
export function planChecks(f: PlanFacts): RestoreCheck[] {
  const checks: RestoreCheck[] = [];
  const add = (code: string, severity: Severity, message: string) => checks.push({ code, severity, message });
  if (editionRank(f.targetEdition) < editionRank(f.backup.edition)) {
    add(
      'EDITION_DOWNGRADE',
      'BLOCKER',
      `The backup was taken on ${f.backup.edition}; it can only be restored to ${f.backup.edition} or a higher edition, not ${f.targetEdition}`,
    );
  }
  if (!editionInfo(f.targetEdition).backupRestore) {
    add(
      'EDITION_WITHOUT_BACKUP_RESTORE',
      'BLOCKER',
      `The ${f.targetEdition} edition does not support backup and restore; pick DEVELOPER or higher`,
    );
  }
  if (f.nameHolder) {
    add(
      'NAME_IN_USE',
      'BLOCKER',
      `${withArticle(f.nameHolder.state)} service is named "${f.targetName}"; delete it first, or restore to a new name`,
    );
  } else if (f.nameFreeAt) {
    add(
      'NAME_ON_HOLD',
      'BLOCKER',
      `"${f.targetName}" belonged to a service deleted recently; the name becomes available at ${f.nameFreeAt.toISOString()}. Wait until then, or restore to a new name`,
    );
  }
  if (f.backup.status !== 'SUCCEEDED' || !f.backup.intact) {
    const why =
      f.backup.status !== 'SUCCEEDED'
        ? `it is ${f.backup.status}`
        : 'its content does not match its checksum (now marked CORRUPT)';
    add('BACKUP_NOT_RESTORABLE', 'BLOCKER', `This backup cannot be restored: ${why}. Pick another backup`);
  }
  if (f.drift.length) {
    const list = f.drift.map((d) => `"${d.agreementName}" (${d.issuedSince} interchange(s))`).join(', ');
    const consequence =
      f.policy === 'ADVANCE_PAST_ISSUED'
        ? 'with ADVANCE_PAST_ISSUED the restored agreements continue past every number issued, so none is sent twice'
        : 'with RESTORE_FROM_BACKUP the restored agreements would send those numbers again: duplicates your partners may reject';
    add(
      'CONTROL_NUMBER_DRIFT',
      'WARNING',
      `Control numbers were issued after this backup on ${f.drift.length} agreement(s): ${list}; ${consequence}`,
    );
  }
  for (const c of f.ftpConflicts) {
    add(
      'FTP_SOURCE_CONFLICT',
      'WARNING',
      `Agreement "${c.agreementName}" pulls from ${c.folder}, as does agreement "${c.otherAgreement}" of service "${c.otherService}": two agreements would steal each other's messages. Change the restored agreement's sourceFtpFolder before resuming`,
    );
  }
  if (f.backup.hybridConnectionNames.length) {
    add(
      'HYBRID_CONNECTIONS_NOT_RESTORED',
      'WARNING',
      `Hybrid connections are never backed up; recreate them after the restore: ${f.backup.hybridConnectionNames.join(', ')}`,
    );
  }
  if (f.backup.warnings.some((w) => w.includes('batch message'))) {
    add(
      'BATCH_MESSAGES_NOT_IN_BACKUP',
      'WARNING',
      `The backup was taken while batches held messages; they are not in it: ${f.backup.warnings.join('; ')}`,
    );
  }
  if (f.archivingLost) {
    add(
      'ARCHIVING_NOT_RESTORED',
      'WARNING',
      `The ${f.targetEdition} edition has no archiving; the archiving storage account setting is not restored`,
    );
  }
  add(
    'TRACKING_DATA_NOT_RESTORED',
    'INFO',
    f.backup.sourceServiceLive
      ? `Tracking data is not in the backup. The restored service gets the tracking database connection string of "${f.backup.serviceName}", which still exists: both will share that tracking database`
      : 'Tracking data is not in the backup; only the tracking database connection string is restored',
  );
  add(
    'ACS_CREDENTIALS_REVIEW',
    'INFO',
    "Applications built with the BizTalk Services SDK may need the restored environment's ACS credentials; review them after the restore",
  );
  add(
    'RESTORES_SUSPENDED',
    'INFO',
    'The service is restored in the SUSPENDED state: review the post-restore checklist, then resume it',
  );
  return checks;
}

export function blockers(checks: RestoreCheck[]): RestoreCheck[] {
  return checks.filter((c) => c.severity === 'BLOCKER');
}

export class PlanBlockedError extends DomainError {
  readonly code = 'PLAN_BLOCKED';
  constructor(readonly blockers: RestoreCheck[]) {
    super(`The plan has ${blockers.length} blocker(s): ${blockers.map((b) => `${b.code}: ${b.message}`).join(' | ')}`);
  }
}

export class ChecklistIncompleteError extends DomainError {
  readonly code = 'CHECKLIST_INCOMPLETE';
  constructor(readonly openItems: { kind: ChecklistKind; message: string }[]) {
    super(`Resolve these first, or resume with force: true: ${openItems.map((i) => i.message).join(' | ')}`);
  }
}
