import { InvalidStateError, NameUnavailableError, NotFoundError } from '../errors.js';
import { BackupUnreadableError } from '../backup/rules.js';
import { Backup } from '../backup/graphql.js';
import { EditionEnum, Service } from '../service/graphql.js';
import { builder, connectionTypes, edgeType, type Types } from '../graphql/builder.js';
import { ErrorInterface } from '../graphql/errors.js';
import { idProblem } from '../graphql/global-ids.js';
import { defineMutation } from '../graphql/mutation.js';
import { defineSubscription } from '../graphql/subscription.js';
import { checklist, completeChecklistItem } from './checklist.js';
import * as plans from './lifecycle.js';
import { planEvents } from './progress.js';
import { resumeService } from './lifecycle.js';
import { CollisionPolicyEnum, RestoreSelection, RestoreSelectionInput } from './selection-graphql.js';
import {
  ChecklistIncompleteError,
  PlanBlockedError,
  type checklistKinds,
  type controlNumberPolicies,
  type restoreStates,
  type severities,
  type RestoreCheck,
} from './rules.js';
import type { restoreEvents, restorePlans } from './tables.js';

const RestoreStateEnum = builder.enumType('RestoreState', {
  description: 'Where a restore plan is: PLANNED → RESTORING → SUSPENDED → ACTIVE, or FAILED / CANCELLED.',
  values: {
    PLANNED: { description: 'Checked, not executed.' },
    RESTORING: { description: 'The target service exists in state RESTORING and is being filled.' },
    SUSPENDED: { description: 'Restored; the service is SUSPENDED for review of its post-restore checklist.' },
    ACTIVE: {
      description:
        'The restored service was resumed and is ACTIVE; for a merge: the selection was merged into the target, which is back in its state.',
    },
    FAILED: {
      description:
        'The restore failed and was rolled back: no service remains and the name is free (a merge: the target is unchanged, back in its state).',
    },
    CANCELLED: {
      description:
        'Cancelled by an operator (rolled back if it had started), or the scratch restore of a restore drill, removed once compared.',
    },
  } satisfies Record<(typeof restoreStates)[number], unknown>,
});

const CheckSeverityEnum = builder.enumType('CheckSeverity', {
  description: 'How much a check matters.',
  values: {
    BLOCKER: { description: 'The plan cannot execute until this is resolved.' },
    WARNING: { description: 'A risk to understand before executing.' },
    INFO: { description: 'Good to know.' },
  } satisfies Record<(typeof severities)[number], unknown>,
});

const ControlNumberPolicyEnum = builder.enumType('ControlNumberPolicy', {
  description: 'Which EDI control numbers restored agreements continue from.',
  values: {
    ADVANCE_PAST_ISSUED: {
      description: 'Past the highest number ever issued on each agreement lineage: no number is sent twice (default).',
    },
    RESTORE_FROM_BACKUP: {
      description: "The backup's numbers: numbers issued after the backup will be sent again (duplicates).",
    },
  } satisfies Record<(typeof controlNumberPolicies)[number], unknown>,
});

const ChecklistItemKindEnum = builder.enumType('ChecklistItemKind', {
  description: 'Post-restore checklist items (from "After restoring a backup").',
  values: {
    REVIEW_ACS_CREDENTIALS: {
      description: "SDK applications may need the restored environment's ACS credentials (complete it by hand).",
    },
    RESOLVE_FTP_SOURCE_CONFLICT: {
      description:
        "Two agreements pull from one FTP folder; changing the restored agreement's sourceFtpFolder resolves it.",
    },
    CONFIRM_TARGET_ENVIRONMENT: {
      description: 'Make sure tools and applications target the right environment (complete it by hand).',
    },
    CONFIGURE_AUTOMATED_BACKUPS: { description: 'Configure automated backups; setting a schedule completes it.' },
  } satisfies Record<(typeof checklistKinds)[number], unknown>,
});

const ChecklistItemStatusEnum = builder.enumType('ChecklistItemStatus', {
  description: 'Whether a checklist item is done.',
  values: { OPEN: { description: 'Still to do.' }, DONE: { description: 'Done.' } },
});

const RestoreCheckType = builder.objectRef<RestoreCheck>('RestoreCheck').implement({
  description: 'One finding of a restore plan, with what to do about it.',
  fields: (t) => ({
    code: t.exposeString('code', { description: 'Stable code, e.g. NAME_ON_HOLD or CONTROL_NUMBER_DRIFT.' }),
    severity: t.field({
      type: CheckSeverityEnum,
      description: 'BLOCKER, WARNING or INFO.',
      resolve: (c) => c.severity,
    }),
    message: t.exposeString('message', { description: 'What was found and what to do.' }),
  }),
});

const RestoreProgressType = builder
  .objectRef<{ category: string; done: number; total: number }>('RestoreProgress')
  .implement({
    description: 'How far the restore of one category has come.',
    fields: (t) => ({
      category: t.exposeString('category', { description: 'Category being restored, e.g. PROFILES.' }),
      done: t.exposeInt('done', { description: 'Items restored so far.' }),
      total: t.exposeInt('total', { description: 'Items of that category in the backup.' }),
    }),
  });

const ChecklistItem = builder
  .objectRef<{ kind: (typeof checklistKinds)[number]; status: 'OPEN' | 'DONE'; message: string }>('ChecklistItem')
  .implement({
    description: 'One item of the post-restore checklist.',
    fields: (t) => ({
      kind: t.field({ type: ChecklistItemKindEnum, description: 'What to do.', resolve: (i) => i.kind }),
      status: t.field({ type: ChecklistItemStatusEnum, description: 'OPEN or DONE.', resolve: (i) => i.status }),
      message: t.exposeString('message', { description: 'The item, for this service.' }),
    }),
  });

/**
 * A plain object type, not a drizzle one: subscription events are rows read once and shared by
 * every subscriber, and a drizzle type would reload each row per subscriber to prove its columns.
 */
const RestoreEvent = builder.objectRef<typeof restoreEvents.$inferSelect>('RestoreEvent').implement({
  description: "One step of a restore plan's history: a transition or progress.",
  fields: (t) => ({
    sequence: t.exposeInt('sequence', {
      description: 'Position in the history: 1, 2, 3… strictly increasing, no gaps.',
    }),
    state: t.field({ type: RestoreStateEnum, description: 'Plan state after this event.', resolve: (e) => e.state }),
    previousState: t.field({
      type: RestoreStateEnum,
      nullable: true,
      description: 'Plan state before it; null for the first event.',
      resolve: (e) => e.previousState,
    }),
    message: t.exposeString('message', { description: 'What happened.' }),
    progress: t.field({
      type: RestoreProgressType,
      nullable: true,
      description: 'Progress of the category being restored.',
      resolve: (e) => e.progress,
    }),
    at: t.expose('at', { type: 'DateTime', description: 'When it happened.' }),
    plan: t.drizzleField({
      type: 'restorePlans',
      description: 'The plan.',
      resolve: async (query, e, _a, ctx) =>
        (await ctx.db.query.restorePlans.findFirst(query({ where: { id: e.planId } })))!,
    }),
  }),
});

export const RestorePlan = builder.drizzleNode('restorePlans', {
  name: 'RestorePlan',
  description:
    'A plan to restore one backup into a new service, or a selection of it into an existing service (a merge): its checks, its state and its history.',
  id: { column: (p) => p.id },
  fields: (t) => ({
    backup: t.relation('backup', {
      nullable: true,
      description: 'The backup to restore; null once that backup was deleted after the plan finished.',
    }),
    targetName: t.exposeString('targetName', { description: 'Name of the service to restore (or merge) into.' }),
    targetService: t.relation('targetService', {
      nullable: true,
      description:
        'For a merge: the existing service the selection is restored into; null for a restore into a new service.',
    }),
    onCollision: t.field({
      type: CollisionPolicyEnum,
      nullable: true,
      description: 'For a merge: what happens to a restored item whose name the target already has; null otherwise.',
      resolve: (p) => p.onCollision,
    }),
    targetEdition: t.field({
      type: EditionEnum,
      description: "Edition of the restored service (the backup's or higher).",
      resolve: (p) => p.targetEdition as never,
    }),
    targetRegion: t.exposeString('targetRegion', { description: 'Region of the restored service.' }),
    controlNumberPolicy: t.field({
      type: ControlNumberPolicyEnum,
      description: 'Which control numbers restored agreements continue from.',
      resolve: (p) => p.controlNumberPolicy,
    }),
    checks: t.field({
      type: [RestoreCheckType],
      description: 'Findings, as of planning or the last execute attempt.',
      resolve: (p) => p.checks,
    }),
    state: t.field({ type: RestoreStateEnum, description: 'State.', resolve: (p) => p.state }),
    selection: t.field({
      type: [RestoreSelection],
      nullable: true,
      description: 'A partial restore: what it restores, dependencies included; null: the whole backup.',
      resolve: (p) => p.selection?.categories ?? null,
    }),
    failureReason: t.exposeString('failureReason', { nullable: true, description: 'Why it FAILED.' }),
    service: t.relation('service', {
      nullable: true,
      description:
        'The restored service, once executing created it (for a merge: its staging service while RESTORING, then null).',
    }),
    history: t.field({
      type: [RestoreEvent],
      description: 'Every event so far, in order.',
      select: { with: { events: { orderBy: { sequence: 'asc' } } } },
      resolve: (p) => p.events,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was planned.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When it last changed.' }),
  }),
});

builder.drizzleObjectFields(Service, (t) => ({
  restoredFrom: t.relation('restoredFrom', {
    nullable: true,
    description: 'The restore plan that created this service, if it was restored.',
  }),
  postRestoreChecklist: t.field({
    type: [ChecklistItem],
    description: 'What to do before resuming a restored service; empty for a service that was not restored.',
    select: { columns: { id: true } },
    resolve: (s, _a, ctx) => checklist(ctx.db, s.id),
  }),
}));

builder.objectType(PlanBlockedError, {
  name: 'PlanBlockedError',
  description: 'The plan has blockers (code PLAN_BLOCKED); nothing was changed.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    blockers: t.field({ type: [RestoreCheckType], description: 'The blocking checks.', resolve: (e) => e.blockers }),
  }),
});

builder.objectType(ChecklistIncompleteError, {
  name: 'ChecklistIncompleteError',
  description:
    'Post-restore checklist items block resuming (code CHECKLIST_INCOMPLETE); resume with force: true to override.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    openItems: t.field({
      type: [ChecklistItem],
      description: 'The blocking items.',
      resolve: (e) => e.openItems.map((i) => ({ ...i, status: 'OPEN' as const })),
    }),
  }),
});

builder.queryFields((t) => ({
  restorePlans: t.drizzleConnection(
    {
      type: 'restorePlans',
      description: 'Restore plans, newest first.',
      authScopes: { reader: true },
      args: { state: t.arg({ type: RestoreStateEnum, required: false, description: 'Only plans in this state.' }) },
      resolve: (query, _p, args, ctx) =>
        ctx.db.query.restorePlans.findMany(
          query({ where: args.state ? { state: args.state } : {}, orderBy: { createdAt: 'desc' } }),
        ),
    },
    connectionTypes('RestorePlan'),
    edgeType('RestorePlan'),
  ),
  restorePlan: t.drizzleField({
    type: 'restorePlans',
    nullable: true,
    description: 'One restore plan by id.',
    authScopes: { reader: true },
    args: { id: t.arg.globalID({ for: RestorePlan, required: true, description: 'Global id of the plan.' }) },
    resolve: async (query, _r, args, ctx, info) => {
      if (idProblem(info)) return null; // malformed, or not a plan's: no plan has it
      return (await ctx.db.query.restorePlans.findFirst(query({ where: { id: args.id.id } }))) ?? null;
    },
  }),
}));

const planResult = (t: PothosSchemaTypes.ObjectFieldBuilder<Types, { plan: typeof restorePlans.$inferSelect }>) => ({
  plan: t.field({ type: RestorePlan, description: 'The plan.', resolve: (r) => r.plan }),
});

defineMutation('createRestorePlan', {
  idempotent: true,
  description:
    'Plans a restore of a backup into a new service (targetName), or of a selection of it into an existing SUSPENDED or STOPPED service (targetServiceId: a merge, with a NAME_COLLISION check per name the service already has), and runs every check (blockers, warnings, information). Nothing changes until executeRestorePlan.',
  scope: 'operator',
  errors: [NotFoundError, InvalidStateError, BackupUnreadableError],
  input: (t) => ({
    backupId: t.globalID({ for: Backup, required: true, description: 'The backup to restore.' }),
    targetName: t.string({
      description:
        "Name of the new service (a deleted service's name once its hold has passed). Required unless targetServiceId is given.",
    }),
    targetServiceId: t.globalID({
      for: Service,
      description:
        'Merge the selection into this existing service instead, which must be SUSPENDED or STOPPED (else INVALID_STATE); its edition and region are used. It is RESTORING while the restore runs and returns to its state afterwards; if the restore fails nothing in it changes. Needs a selection without SERVICE_SETTINGS and SSL_CERTIFICATE.',
    }),
    onCollision: t.field({
      type: CollisionPolicyEnum,
      description: 'For a merge: what happens to a restored item whose name the target already has. Default SKIP.',
    }),
    targetEdition: t.field({
      type: EditionEnum,
      description: "Default: the backup's edition. Only the same or a higher edition.",
    }),
    targetRegion: t.string({ description: "Default: the backup's region." }),
    controlNumberPolicy: t.field({ type: ControlNumberPolicyEnum, description: 'Default ADVANCE_PAST_ISSUED.' }),
    selection: t.field({
      type: [RestoreSelectionInput],
      description:
        'Restore only part of the backup: these categories, whole or by item names. What the selected items need is added (an agreement brings its profiles, their partners, its control numbers and AS2 MIC values) and a check says so. Left out: the whole backup.',
    }),
  }),
  resolve: async (input, ctx) => ({
    plan: await plans.createRestorePlan(ctx.runtime, {
      ...input,
      backupId: input.backupId.id,
      targetServiceId: input.targetServiceId?.id ?? null,
    }),
  }),
  success: planResult,
});

defineMutation('executeRestorePlan', {
  idempotent: true,
  description:
    'Re-checks the plan and starts the restore: returns at once (state RESTORING); follow it with restoreProgress. Fails with PLAN_BLOCKED listing any blocker.',
  scope: 'operator',
  errors: [NotFoundError, InvalidStateError, PlanBlockedError, NameUnavailableError],
  input: (t) => ({ planId: t.globalID({ for: RestorePlan, required: true, description: 'The plan.' }) }),
  resolve: async (input, ctx) => ({
    plan: await plans.executeRestorePlan(ctx.runtime, input.planId.id),
  }),
  success: planResult,
});

defineMutation('cancelRestorePlan', {
  description:
    'Cancels a PLANNED or RESTORING plan; a started restore is rolled back (no service remains, the name is free).',
  scope: 'operator',
  errors: [NotFoundError, InvalidStateError],
  input: (t) => ({ planId: t.globalID({ for: RestorePlan, required: true, description: 'The plan.' }) }),
  resolve: async (input, ctx) => ({ plan: await plans.cancelRestorePlan(ctx.runtime, input.planId.id) }),
  success: planResult,
});

defineMutation('completeChecklistItem', {
  description:
    'Marks a manual post-restore checklist item (REVIEW_ACS_CREDENTIALS, CONFIRM_TARGET_ENVIRONMENT) done; the others complete by themselves.',
  scope: 'operator',
  errors: [NotFoundError, InvalidStateError],
  input: (t) => ({
    serviceId: t.globalID({ for: Service, required: true, description: 'The restored service.' }),
    kind: t.field({ type: ChecklistItemKindEnum, required: true, description: 'The item.' }),
  }),
  resolve: async (input, ctx) => {
    const serviceId = input.serviceId.id;
    await completeChecklistItem(ctx.runtime, serviceId, input.kind);
    return { serviceId };
  },
  success: (t) => ({
    service: t.drizzleField({
      type: 'services',
      description: 'The service with its checklist.',
      resolve: async (query, r, _a, ctx) =>
        (await ctx.db.query.services.findFirst(query({ where: { id: r.serviceId } })))!,
    }),
  }),
});

// Lives here, not with the other lifecycle mutations: resuming a restored service completes its restore plan.
defineMutation('resumeService', {
  idempotent: true,
  description:
    'Resumes a SUSPENDED service (→ ACTIVE). For a restored service this completes its restore plan (→ ACTIVE); refused with CHECKLIST_INCOMPLETE while an FTP source conflict is open, unless force is true.',
  scope: 'operator',
  errors: [NotFoundError, InvalidStateError, ChecklistIncompleteError],
  input: (t) => ({
    serviceId: t.globalID({ for: Service, required: true, description: 'The service.' }),
    force: t.boolean({ description: 'Resume even while FTP source conflicts of the post-restore checklist are open.' }),
  }),
  resolve: async (input, ctx) => ({
    service: await resumeService(ctx.runtime, input.serviceId.id, input.force ?? false),
  }),
  success: (t) => ({
    service: t.field({ type: Service, description: 'The service in its new state.', resolve: (r) => r.service }),
  }),
});

defineSubscription('restoreProgress', {
  description:
    "A plan's events: first its whole history, then live ones; completes after ACTIVE, FAILED or CANCELLED. `sequence` is strictly increasing: a late or reconnecting subscriber misses nothing and sees nothing twice.",
  type: RestoreEvent,
  scope: 'reader',
  id: {
    arg: 'planId',
    of: 'RestorePlan',
    required: true,
    description: 'The plan.',
    exists: async (planId, ctx) =>
      !!(await ctx.db.query.restorePlans.findFirst({ where: { id: planId }, columns: { id: true } })),
  },
  events: (planId, ctx) => planEvents(ctx.runtime, ctx.db, planId),
});
