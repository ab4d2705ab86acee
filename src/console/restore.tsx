import { useCallback, useState } from 'preact/hooks';
import { mutate } from './api.js';
import { dateTime, time, words } from './format.js';
import { useQuery, useSubscription } from './hooks.js';
import type { Session } from './session.js';

interface PlanRow {
  id: string;
  targetName: string;
  state: string;
  createdAt: string;
  backup: { serviceName: string; label: string | null } | null;
}

const PLANS = `query ConsolePlans { restorePlans(first: 20) { edges { node {
  id targetName state createdAt backup { serviceName label } } } } }`;

/** The latest restore plans: open one to watch it (its history is replayed). */
export function PlanList({ session }: { session: Session }) {
  const plans = useQuery<{ restorePlans: { edges: { node: PlanRow }[] } }>(session.token, PLANS, {});
  useSubscription(session.token, 'subscription ConsolePlanStates { serviceStateChanged { state } }', {}, () =>
    plans.reload(),
  );
  const rows = plans.data?.restorePlans.edges.map((e) => e.node) ?? [];
  return (
    <section aria-labelledby="plans-title">
      <h2 id="plans-title">Restore plans</h2>
      {plans.error && <p role="alert">{plans.error}</p>}
      {rows.length === 0 ? (
        <p>No restore plan yet: open a service and plan a restore of one of its backups.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Target</th>
              <th scope="col">From</th>
              <th scope="col">State</th>
              <th scope="col">Planned</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((p) => (
              <tr key={p.id}>
                <td>
                  <a href={`#/plans/${p.id}`}>{p.targetName}</a>
                </td>
                <td>{p.backup ? `${p.backup.serviceName}${p.backup.label ? ` · ${p.backup.label}` : ''}` : '–'}</td>
                <td>
                  <span class={`state state-${p.state}`}>{p.state}</span>
                </td>
                <td>{dateTime(p.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

interface Check {
  severity: 'BLOCKER' | 'WARNING' | 'INFO';
  code: string;
  message: string;
}
interface ChecklistItem {
  kind: string;
  status: 'OPEN' | 'DONE';
  message: string;
}
interface Plan {
  id: string;
  state: string;
  targetName: string;
  targetEdition: string;
  targetRegion: string;
  controlNumberPolicy: string;
  failureReason: string | null;
  checks: Check[];
  backup: { serviceName: string; label: string | null; createdAt: string } | null;
  service: { id: string; name: string; state: string; postRestoreChecklist: ChecklistItem[] } | null;
}
interface RestoreEvent {
  sequence: number;
  state: string;
  previousState: string | null;
  message: string;
  at: string;
  progress: { category: string; done: number; total: number } | null;
}

const PLAN = `query ConsolePlan($id: ID!) { restorePlan(id: $id) {
  id state targetName targetEdition targetRegion controlNumberPolicy failureReason
  checks { severity code message } backup { serviceName label createdAt }
  service { id name state postRestoreChecklist { kind status message } } } }`;

const PROGRESS = `subscription ConsoleRestoreProgress($planId: ID!) { restoreProgress(planId: $planId) {
  sequence state previousState message at progress { category done total } } }`;

const SEVERITIES = ['BLOCKER', 'WARNING', 'INFO'] as const;

/** A restore plan: its checks, Execute, then the restore live, the checklist and Resume. */
export function PlanPage({ session, id }: { session: Session; id: string }) {
  const loaded = useQuery<{ restorePlan: Plan | null }>(session.token, PLAN, { id });
  const plan = loaded.data?.restorePlan;
  const [events, setEvents] = useState<RestoreEvent[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const { reload } = loaded;
  // The feed replays the history first, so a late arrival sees the same view; an event seen twice
  // (after a reconnection) is kept once, by its sequence.
  const onEvent = useCallback(
    ({ restoreProgress: event }: { restoreProgress: RestoreEvent }) => {
      setEvents((seen) => (seen.some((e) => e.sequence === event.sequence) ? seen : [...seen, event]));
      if (event.previousState !== event.state) reload();
    },
    [reload],
  );
  const feedError = useSubscription(session.token, PROGRESS, { planId: id }, onEvent);
  useSubscription(
    session.token,
    'subscription ConsoleTargetState($serviceId: ID) { serviceStateChanged(serviceId: $serviceId) { state } }',
    { serviceId: plan?.service?.id },
    () => reload(),
    !!plan?.service,
  );
  if (loaded.error) return <p role="alert">{loaded.error}</p>;
  if (!loaded.data) return <p>Loading…</p>;
  if (!plan) return <p role="alert">No restore plan has this id.</p>;

  const blocked = plan.checks.some((c) => c.severity === 'BLOCKER');
  const run = async (name: string, input: Record<string, unknown>, done: string) => {
    const result = await mutate(session.token, name, input);
    setNotice(result.code ? `${result.code}: ${result.message}` : done);
    reload();
    return result;
  };
  return (
    <section aria-labelledby="plan-title">
      <p>
        <a href="#/">← All services</a>
      </p>
      <h2 id="plan-title">
        Restore into {plan.targetName}{' '}
        <span class={`state state-${plan.state}`} data-testid="plan-state">
          {plan.state}
        </span>
      </h2>
      <p>
        From{' '}
        {plan.backup
          ? `${plan.backup.serviceName}'s backup “${plan.backup.label ?? ''}” of ${dateTime(plan.backup.createdAt)}`
          : 'a backup'}
        , as {plan.targetEdition} in {plan.targetRegion}; control numbers: {words(plan.controlNumberPolicy)}.
      </p>
      {plan.failureReason && <p role="alert">Failed: {plan.failureReason}</p>}
      {notice && <p role="status">{notice}</p>}

      <h3>Checks</h3>
      <div class="checks">
        {SEVERITIES.map((severity) => {
          const checks = plan.checks.filter((c) => c.severity === severity);
          return (
            checks.length > 0 && (
              <section key={severity} class={`severity severity-${severity}`} aria-label={`${severity} checks`}>
                <h4>
                  {severity} ({checks.length})
                </h4>
                <ul>
                  {checks.map((c) => (
                    <li key={c.code}>
                      <code>{c.code}</code> {c.message}
                    </li>
                  ))}
                </ul>
              </section>
            )
          );
        })}
      </div>
      {session.canOperate && plan.state === 'PLANNED' && (
        <p class="actions">
          <button
            type="button"
            disabled={blocked}
            onClick={() => run('executeRestorePlan', { planId: plan.id }, 'Restore started')}
          >
            Execute
          </button>
          <button type="button" onClick={() => run('cancelRestorePlan', { planId: plan.id }, 'Plan cancelled')}>
            Cancel plan
          </button>
          {blocked && <span> A blocker must be resolved first (plan again).</span>}
        </p>
      )}

      <Live events={events} />
      {feedError && <p role="alert">{feedError}</p>}

      {plan.service && plan.service.postRestoreChecklist.length > 0 && (
        <Checklist session={session} service={plan.service} run={run} />
      )}
    </section>
  );
}

/** The timeline of states and a bar per category, filled as the progress events arrive. */
function Live({ events }: { events: RestoreEvent[] }) {
  const sorted = [...events].sort((a, b) => a.sequence - b.sequence);
  const transitions = sorted.filter((e) => e.previousState !== e.state);
  const categories = new Map<string, { done: number; total: number }>();
  for (const e of sorted) if (e.progress) categories.set(e.progress.category, e.progress);
  return (
    <section aria-labelledby="live-title" class="live">
      <h3 id="live-title">Live restore</h3>
      <ol class="timeline" aria-label="Timeline">
        {transitions.map((e) => (
          <li key={e.sequence} class={`state-${e.state}`}>
            <time dateTime={e.at}>{time(e.at)}</time> <strong>{e.state}</strong> {e.message}
          </li>
        ))}
      </ol>
      {categories.size > 0 && (
        <ul class="bars" aria-label="Progress per category">
          {[...categories].map(([category, p]) => (
            <li key={category}>
              <span class="category" id={`bar-${category}`}>
                {words(category)}
              </span>
              <progress aria-labelledby={`bar-${category}`} value={p.done} max={p.total || 1} />
              <span class="count">
                {p.done} of {p.total}
              </span>
            </li>
          ))}
        </ul>
      )}
      <p aria-live="polite" class="sr-summary">
        {sorted.length ? `${sorted.length} events, latest: ${sorted[sorted.length - 1]!.state}` : 'Waiting for events'}
      </p>
    </section>
  );
}

const MANUAL = ['REVIEW_ACS_CREDENTIALS', 'CONFIRM_TARGET_ENVIRONMENT'];

function Checklist(props: {
  session: Session;
  service: NonNullable<Plan['service']>;
  run: (name: string, input: Record<string, unknown>, done: string) => Promise<{ code?: string }>;
}) {
  const { session, service, run } = props;
  const [cron, setCron] = useState('0 2 * * *');
  const [refused, setRefused] = useState(false);
  const resume = async (force: boolean) => {
    const result = await run('resumeService', { serviceId: service.id, force }, `${service.name} resumed`);
    setRefused(result.code === 'CHECKLIST_INCOMPLETE');
  };
  return (
    <section aria-labelledby="checklist-title">
      <h3 id="checklist-title">Post-restore checklist of {service.name}</h3>
      <ul class="checklist">
        {service.postRestoreChecklist.map((item, i) => (
          <li key={`${item.kind}-${i}`} class={`item-${item.status}`}>
            <span class="status">{item.status === 'DONE' ? '✔ Done' : 'Open'}</span> <strong>{words(item.kind)}</strong>
            <span> {item.message}</span>
            {session.canOperate && item.status === 'OPEN' && MANUAL.includes(item.kind) && (
              <button
                type="button"
                onClick={() =>
                  run('completeChecklistItem', { serviceId: service.id, kind: item.kind }, `${words(item.kind)}: done`)
                }
                aria-label={`Mark done: ${words(item.kind)}`}
              >
                Mark done
              </button>
            )}
            {session.canOperate && item.status === 'OPEN' && item.kind === 'CONFIGURE_AUTOMATED_BACKUPS' && (
              <form
                class="inline"
                onSubmit={(event) => {
                  event.preventDefault();
                  void run('setBackupSchedule', { serviceId: service.id, cron }, 'Backup schedule set');
                }}
              >
                <label>
                  Schedule (cron, UTC) <input value={cron} onInput={(e) => setCron(e.currentTarget.value)} />
                </label>
                <button type="submit">Set schedule</button>
              </form>
            )}
          </li>
        ))}
      </ul>
      {session.canOperate && service.state === 'SUSPENDED' && (
        <p class="actions">
          <button type="button" onClick={() => resume(false)}>
            Resume
          </button>
          {refused && (
            <button type="button" onClick={() => resume(true)}>
              Resume anyway (force)
            </button>
          )}
        </p>
      )}
      <p>
        Service <a href={`#/services/${service.name}`}>{service.name}</a> is{' '}
        <span class={`state state-${service.state}`} data-testid="target-state">
          {service.state}
        </span>
      </p>
    </section>
  );
}
