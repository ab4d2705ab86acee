import { sql } from 'drizzle-orm';
import type { Plugin } from 'graphql-yoga';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Context } from './graphql/context.js';
import type { Runtime } from './runtime.js';

/**
 * Prometheus metrics at /metrics. Counters and latencies are this instance's; backups, restores and
 * queued work are read from the database at scrape time, so they are the same on every instance.
 */
export function createMetrics(rt: Runtime) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'biztalk_backup_' });
  const operations = new Counter({
    name: 'biztalk_backup_graphql_operations_total',
    help: 'GraphQL operations by name, type and outcome (ok or error)',
    labelNames: ['operation', 'type', 'outcome'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'biztalk_backup_graphql_operation_duration_seconds',
    help: 'GraphQL operation latency',
    labelNames: ['operation', 'type'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const subscriptions = new Gauge({
    name: 'biztalk_backup_active_subscriptions',
    help: 'Open subscriptions on this instance (WebSocket and SSE)',
    registers: [registry],
  });
  const opened = new Counter({
    name: 'biztalk_backup_subscriptions_opened_total',
    help: 'Subscriptions opened on this instance since it started',
    registers: [registry],
  });
  const readDatabase = async () => {
    const db = rt.database.db;
    const count = (table: string, column: string) =>
      db
        .execute<{ value: string; n: number }>(
          sql.raw(`select ${column} as value, count(*)::int as n from ${table} group by ${column}`),
        )
        .then((r) => ((r as { rows?: unknown }).rows ?? r) as { value: string; n: number }[]);
    return { backups: await count('backups', 'status'), restores: await count('restore_plans', 'state') };
  };
  const backups = new Gauge({
    name: 'biztalk_backup_backups',
    help: 'Backups by status (all instances)',
    labelNames: ['status'],
    registers: [registry],
  });
  const restores = new Gauge({
    name: 'biztalk_backup_restores',
    help: 'Restore plans by state (all instances)',
    labelNames: ['state'],
    registers: [registry],
  });
  const queue = new Gauge({
    name: 'biztalk_backup_job_queue_depth',
    help: 'Durable work waiting or running: backups PENDING or RUNNING, restores RESTORING',
    registers: [registry],
  });
  const background = new Gauge({
    name: 'biztalk_backup_background_work',
    help: 'Background work running on this instance',
    registers: [registry],
  });
  const databaseUp = new Gauge({
    name: 'biztalk_backup_database_up',
    help: '1 when the database answers',
    registers: [registry],
  });
  const poolSize = new Gauge({
    name: 'biztalk_backup_database_pool_max',
    help: 'Largest number of database connections this instance opens',
    registers: [registry],
  });

  // Operation names are chosen by clients: only a bounded set of names, sent with a valid token, become
  // label values; the rest are `other`, and operations without a token are counted as `unauthenticated`.
  const seen = new Set<string>();
  const label = (name: string | null | undefined, context: unknown) => {
    if (!(context as Partial<Context>).viewer) return 'unauthenticated';
    if (!name || !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) return 'anonymous';
    if (!seen.has(name) && seen.size >= 200) return 'other';
    seen.add(name);
    return name;
  };
  const plugin: Plugin = {
    onExecute: ({ args }) => {
      const started = performance.now();
      const definition = args.document.definitions.find((d: { kind: string }) => d.kind === 'OperationDefinition') as
        | { operation?: string; name?: { value: string } }
        | undefined;
      const operation = label(args.operationName ?? definition?.name?.value, args.contextValue);
      const type = definition?.operation ?? 'unknown';
      return {
        onExecuteDone: ({ result }) => {
          const failed = 'errors' in result && !!result.errors?.length;
          operations.inc({ operation, type, outcome: failed ? 'error' : 'ok' });
          latency.observe({ operation, type }, (performance.now() - started) / 1000);
        },
      };
    },
    onSubscribe: ({ args }) => {
      operations.inc({ operation: label(args.operationName, args.contextValue), type: 'subscription', outcome: 'ok' });
      return {
        onSubscribeResult: () => {
          subscriptions.inc();
          opened.inc();
          return { onEnd: () => subscriptions.dec() };
        },
      };
    },
  };

  return {
    plugin,
    contentType: registry.contentType,
    async render(): Promise<string> {
      const up = await rt.database.ping();
      databaseUp.set(up ? 1 : 0);
      poolSize.set(rt.database.kind === 'postgres' ? 10 : 1);
      background.set(rt.background.size);
      if (up) {
        const { backups: byStatus, restores: byState } = await readDatabase();
        backups.reset();
        restores.reset();
        for (const row of byStatus) backups.set({ status: row.value }, row.n);
        for (const row of byState) restores.set({ state: row.value }, row.n);
        const waiting = byStatus
          .filter((r) => r.value === 'PENDING' || r.value === 'RUNNING')
          .reduce((n, r) => n + r.n, 0);
        queue.set(waiting + byState.filter((r) => r.value === 'RESTORING').reduce((n, r) => n + r.n, 0));
      }
      return registry.metrics();
    },
  };
}
