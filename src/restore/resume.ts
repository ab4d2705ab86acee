import { and, eq } from 'drizzle-orm';
import type { Runtime } from '../runtime.js';
import { transitionService, type ServiceRow } from '../service/service.js';
import { checklist } from './checklist.js';
import { appendEvent } from './plan.js';
import { ChecklistIncompleteError } from './rules.js';
import { restorePlans } from './tables.js';

/**
 * resumeService: SUSPENDED → ACTIVE. For a restored service it also ends its plan ACTIVE, and is
 * refused while an FTP source conflict of its checklist is open, unless forced.
 */
export async function resumeService(rt: Runtime, serviceId: string, force: boolean): Promise<ServiceRow> {
  return transitionService(rt, serviceId, 'resume', async (tx) => {
    const [plan] = await tx.select().from(restorePlans).where(and(eq(restorePlans.serviceId, serviceId), eq(restorePlans.state, 'SUSPENDED'))).for('update');
    if (!plan) return;
    const open = (await checklist(tx, serviceId)).filter((item) => item.kind === 'RESOLVE_FTP_SOURCE_CONFLICT' && item.status === 'OPEN');
    if (open.length && !force) throw new ChecklistIncompleteError(open);
    await tx.update(restorePlans).set({ state: 'ACTIVE', updatedAt: new Date() }).where(eq(restorePlans.id, plan.id));
    const message = open.length ? `Resumed with force while ${open.length} FTP source conflict(s) were open; the service is ACTIVE` : 'Resumed; the restored service is ACTIVE';
    await appendEvent(tx, plan.id, 'ACTIVE', 'SUSPENDED', message);
  });
}
