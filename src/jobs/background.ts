import type { Logger } from 'pino';

/**
 * Work that outlives the request that started it (a backup, a restore). Tracked so that a
 * graceful shutdown can wait for it; what is cut short is recovered at the next start.
 */
export class BackgroundWork {
  private readonly running = new Set<Promise<void>>();
  /** Set at shutdown: long work (restores) stops at its next step and is handed to another instance. */
  stopping = false;
  constructor(private readonly log: Logger) {}

  run(name: string, work: () => Promise<void>): void {
    const task = work()
      .catch((error) => this.log.error({ work: name, errorName: (error as Error)?.name }, 'background work failed'))
      .finally(() => this.running.delete(task));
    this.running.add(task);
  }

  /** Waits for running work, at most `ms`. */
  async drain(ms: number): Promise<void> {
    await Promise.race([Promise.allSettled([...this.running]), new Promise((r) => setTimeout(r, ms).unref())]);
  }

  get size(): number {
    return this.running.size;
  }
}
