import { runDueSchedules } from '../backup/schedule.js';
import { runDueDrills } from '../drill/service.js';
import { forgetExpiredKeys } from '../idempotency/service.js';
import { failInterruptedBackups } from '../backup/service.js';
import { takeOverRestores } from '../restore/lifecycle.js';
import { describeError } from '../log.js';
import type { Runtime } from '../runtime.js';

const SWEEP_EVERY_MS = 30_000;

/** This instance's durable-work loop: runs due backup schedules and restore drills and, on PostgreSQL, takes over restores and backups abandoned by dead instances. */
export function startScheduler(rt: Runtime): { stop(): Promise<void>; tick(): Promise<void> } {
  let stopped = false;
  let running: Promise<void> | null = null;
  let lastSweep = Date.now();
  const tick = async () => {
    await runDueSchedules(rt);
    await runDueDrills(rt);
    if (rt.database.kind === 'postgres') await takeOverRestores(rt, false);
    if (Date.now() - lastSweep > SWEEP_EVERY_MS) {
      lastSweep = Date.now();
      if (rt.database.kind === 'postgres') await failInterruptedBackups(rt, false);
      await forgetExpiredKeys(rt.database.db);
    }
  };
  const loop = () => {
    if (stopped || running) return;
    running = tick()
      .catch((error) => rt.log.error(describeError(error), 'scheduler tick failed'))
      .finally(() => (running = null));
  };
  const timer = setInterval(loop, rt.config.schedulerIntervalMs);
  timer.unref();
  loop(); // a slot missed while every instance was down runs now, once
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running; // a tick in progress finishes before the database closes
    },
    tick,
  };
}
