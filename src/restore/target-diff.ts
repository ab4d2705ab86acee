import { diffFromService } from '../backup/diff.js';
import { BackupDiffType } from '../backup/diff-graphql.js';
import { InvalidStateError, NotFoundError } from '../errors.js';
import { builder } from '../graphql/builder.js';
import { RestorePlan } from './graphql.js';

builder.drizzleObjectFields(RestorePlan, (t) => ({
  targetDiff: t.field({
    type: BackupDiffType,
    nullable: true,
    description:
      'While the plan is PLANNED and a live service already has the target name: what that service holds that differs from the backup (added: only in the service; removed: only in the backup; changed: in both, different). Null otherwise.',
    errors: {
      types: [NotFoundError, InvalidStateError],
      union: { description: 'The differences, or why the backup cannot be compared with the target.' },
    },
    select: { columns: { backupId: true, targetName: true, state: true } },
    resolve: async (plan, _args, ctx) => {
      if (plan.state !== 'PLANNED' || !plan.backupId) return null;
      const target = await ctx.db.query.services.findFirst({
        columns: { id: true },
        where: { name: plan.targetName, state: { ne: 'DELETED' } },
      });
      return target ? diffFromService(ctx.runtime, plan.backupId, target.id) : null;
    },
  }),
}));
