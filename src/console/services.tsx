import { useState } from 'preact/hooks';
import { mutate } from './api.js';
import { bytes, dateTime, words } from './format.js';
import { useQuery, useSubscription } from './hooks.js';
import type { Session } from './session.js';

const ALL_STATES = '[ACTIVE, STOPPED, SUSPENDED, RESTORING, DELETED]';

interface ServiceRow {
  id: string;
  name: string;
  state: string;
  edition: string;
  region: string;
  lastBackup: { createdAt: string; status: string; label: string | null } | null;
  backupSchedule: { nextRunAt: string | null; enabled: boolean } | null;
}

const SERVICES = `query ConsoleServices { services(first: 100, states: ${ALL_STATES}) { edges { node {
  id name state edition region lastBackup { createdAt status label } backupSchedule { nextRunAt enabled } } } } }`;

/** Every service with what an operator checks first; service states and backups update live. */
export function ServiceList({ session }: { session: Session }) {
  const services = useQuery<{ services: { edges: { node: ServiceRow }[] } }>(session.token, SERVICES, {});
  useSubscription(session.token, 'subscription ConsoleAllStates { serviceStateChanged { serviceId state } }', {}, () =>
    services.reload(),
  );
  useSubscription(session.token, 'subscription ConsoleAllBackups { backupStatusChanged { status } }', {}, () =>
    services.reload(),
  );
  const rows = services.data?.services.edges.map((e) => e.node) ?? [];
  return (
    <section aria-labelledby="services-title">
      <h2 id="services-title">Services</h2>
      {services.error && <p role="alert">{services.error}</p>}
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">State</th>
            <th scope="col">Edition</th>
            <th scope="col">Region</th>
            <th scope="col">Last backup</th>
            <th scope="col">Next scheduled backup</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((s) => (
            <tr key={s.id} data-service={s.name}>
              <td>
                <a href={`#/services/${s.name}`}>{s.name}</a>
              </td>
              <td>
                <span class={`state state-${s.state}`}>{s.state}</span>
              </td>
              <td>{s.edition}</td>
              <td>{s.region}</td>
              <td>
                {s.lastBackup
                  ? `${dateTime(s.lastBackup.createdAt)} · ${s.lastBackup.status}${s.lastBackup.label ? ` · ${s.lastBackup.label}` : ''}`
                  : 'none'}
              </td>
              <td>{s.backupSchedule?.enabled ? dateTime(s.backupSchedule.nextRunAt) : 'no schedule'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

interface BackupRow {
  id: string;
  status: string;
  kind: string;
  label: string | null;
  edition: string;
  createdAt: string;
  sizeBytes: number | null;
  checksum: string | null;
  verifiedAt: string | null;
  itemCounts: { category: string; count: number }[];
}

interface ServiceDetail {
  id: string;
  name: string;
  address: string;
  state: string;
  edition: string;
  region: string;
  scaleUnitCount: number;
  backupSchedule: { cron: string; nextRunAt: string | null; enabled: boolean } | null;
  backups: { totalCount: number; edges: { node: BackupRow }[] };
}

const SERVICE = `query ConsoleService($name: String!) { service(name: $name) {
  id name address state edition region scaleUnitCount backupSchedule { cron nextRunAt enabled }
  backups(first: 20) { totalCount edges { node {
    id status kind label edition createdAt sizeBytes checksum verifiedAt itemCounts { category count } } } } } }`;

const BACKUP_STATES = ['ACTIVE', 'STOPPED', 'SUSPENDED'];

/** One service: its facts and its backups, with Back up, Verify and Plan a restore. */
export function ServicePage({ session, name }: { session: Session; name: string }) {
  const loaded = useQuery<{ service: ServiceDetail | null }>(session.token, SERVICE, { name });
  const service = loaded.data?.service;
  const [notice, setNotice] = useState<string | null>(null);
  const live = { serviceId: service?.id };
  useSubscription(
    session.token,
    'subscription ConsoleServiceState($serviceId: ID) { serviceStateChanged(serviceId: $serviceId) { state } }',
    live,
    () => loaded.reload(),
    !!service,
  );
  useSubscription(
    session.token,
    'subscription ConsoleBackups($serviceId: ID) { backupStatusChanged(serviceId: $serviceId) { status } }',
    live,
    () => loaded.reload(),
    !!service,
  );
  if (loaded.error) return <p role="alert">{loaded.error}</p>;
  if (!loaded.data) return <p>Loading…</p>;
  if (!service) return <p role="alert">No service is named {name}.</p>;

  const backUp = async () => {
    const result = await mutate(session.token, 'createBackup', { serviceId: service.id });
    setNotice(result.code ? `${result.code}: ${result.message}` : 'Backup started');
    loaded.reload();
  };
  return (
    <section aria-labelledby="service-title">
      <p>
        <a href="#/">← All services</a>
      </p>
      <h2 id="service-title">{service.name}</h2>
      <dl class="facts">
        <dt>State</dt>
        <dd>
          <span class={`state state-${service.state}`} data-testid="service-state">
            {service.state}
          </span>
        </dd>
        <dt>Edition</dt>
        <dd>
          {service.edition} × {service.scaleUnitCount}
        </dd>
        <dt>Region</dt>
        <dd>{service.region}</dd>
        <dt>Address</dt>
        <dd>{service.address}</dd>
        <dt>Schedule</dt>
        <dd>
          {service.backupSchedule
            ? `${service.backupSchedule.cron} (UTC) · next ${dateTime(service.backupSchedule.nextRunAt)}`
            : 'none'}
        </dd>
      </dl>
      {notice && <p role="status">{notice}</p>}
      <h3>Backups ({service.backups.totalCount})</h3>
      {session.canOperate && BACKUP_STATES.includes(service.state) && (
        <button type="button" onClick={backUp}>
          Back up
        </button>
      )}
      <table>
        <thead>
          <tr>
            <th scope="col">Taken</th>
            <th scope="col">Label</th>
            <th scope="col">Status</th>
            <th scope="col">Size</th>
            <th scope="col">Items</th>
            <th scope="col">Checksum</th>
            {session.canOperate && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {service.backups.edges.map(({ node: b }) => (
            <BackupLine key={b.id} session={session} backup={b} onChange={loaded.reload} onNotice={setNotice} />
          ))}
        </tbody>
      </table>
    </section>
  );
}

function BackupLine(props: {
  session: Session;
  backup: BackupRow;
  onChange: () => void;
  onNotice: (text: string) => void;
}) {
  const { session, backup: b } = props;
  const [planning, setPlanning] = useState(false);
  const items = b.itemCounts.reduce((sum, c) => sum + c.count, 0);
  const verify = async () => {
    const result = await mutate(
      session.token,
      'verifyBackup',
      { backupId: b.id },
      '... on VerifyBackupSuccess { backup { status } }',
    );
    const status = (result.backup as { status: string } | undefined)?.status;
    props.onNotice(result.code ? `${result.code}: ${result.message}` : `Verified: ${status}`);
    props.onChange();
  };
  return (
    <>
      <tr data-backup={b.label ?? b.id}>
        <td>{dateTime(b.createdAt)}</td>
        <td>{b.label ?? '–'}</td>
        <td>
          <span class={`status status-${b.status}`}>{b.status}</span>
        </td>
        <td>{bytes(b.sizeBytes)}</td>
        <td>
          {/* A disclosure rather than a tooltip: reachable by keyboard. */}
          <details>
            <summary>{items}</summary>
            <ul class="counts">
              {b.itemCounts.map((c) => (
                <li key={c.category}>
                  {words(c.category)}: {c.count}
                </li>
              ))}
            </ul>
          </details>
        </td>
        <td>
          {b.checksum ? <code>{b.checksum.slice(0, 12)}…</code> : '–'}{' '}
          {b.verifiedAt ? `verified ${dateTime(b.verifiedAt)}` : 'not verified'}
        </td>
        {session.canOperate && (
          <td class="actions">
            {b.status === 'SUCCEEDED' && (
              <>
                <button type="button" onClick={verify} aria-label={`Verify backup ${b.label ?? b.id}`}>
                  Verify
                </button>
                <button
                  type="button"
                  aria-expanded={planning}
                  onClick={() => setPlanning(!planning)}
                  aria-label={`Plan a restore of backup ${b.label ?? b.id}`}
                >
                  Plan a restore…
                </button>
              </>
            )}
          </td>
        )}
      </tr>
      {planning && (
        <tr>
          <td colSpan={7}>
            <PlanForm session={session} backup={b} />
          </td>
        </tr>
      )}
    </>
  );
}

const EDITIONS = ['DEVELOPER', 'BASIC', 'STANDARD', 'PREMIUM'];

function PlanForm({ session, backup }: { session: Session; backup: BackupRow }) {
  const [targetName, setTargetName] = useState('');
  const [targetEdition, setTargetEdition] = useState(backup.edition);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    const result = await mutate(
      session.token,
      'createRestorePlan',
      { backupId: backup.id, targetName, targetEdition },
      '... on CreateRestorePlanSuccess { plan { id } }',
    );
    if (result.code) return setError(`${result.code}: ${result.message}`);
    location.hash = `#/plans/${(result.plan as { id: string }).id}`;
  };
  return (
    <form class="inline" onSubmit={submit} aria-label="Plan a restore">
      <label>
        Target name <input value={targetName} onInput={(e) => setTargetName(e.currentTarget.value)} required />
      </label>
      <label>
        Target edition{' '}
        <select value={targetEdition} onChange={(e) => setTargetEdition(e.currentTarget.value)}>
          {EDITIONS.map((e) => (
            <option key={e} value={e}>
              {e}
            </option>
          ))}
        </select>
      </label>
      <button type="submit">Plan restore</button>
      {error && <p role="alert">{error}</p>}
    </form>
  );
}
