// The second page of the query benchmark, shaped like an operator's screen: the newest restore plans
// with their checks and history, the newest backups with their item counts, and a page of the audit
// log, as one GraphQL document; and its baseline, the same JSON from one hand-written SQL statement
// (json_agg). The test test/bench-pages.test.ts proves both answer the same JSON.
import postgres from 'postgres';

export const OPERATOR_QUERY = `{
  restorePlans(first: 20) { edges { node { id targetName targetEdition state createdAt failureReason
    checks { code severity message }
    history { sequence state previousState message at progress { category done total } } } } }
  backups(first: 50) { edges { node { id serviceName status kind sizeBytes storedBytes createdAt completedAt
    itemCounts { category count } } } }
  auditLog(first: 50) { edges { node { at tokenName operation targetId outcome } } }
}`;

/** A timestamp as the API's DateTime writes it (ISO 8601, milliseconds, UTC). */
const iso = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
/** A node's global id: base64 of "Type:id". */
const globalId = (type: string, column: string) => `encode(('${type}:' || ${column})::bytea, 'base64')`;

/** The data of OPERATOR_QUERY as one JSON value (connections ordered as the API orders them: newest first, then id). */
export const OPERATOR_SQL = `
select json_build_object(
  'restorePlans', json_build_object('edges', (
    select coalesce(json_agg(json_build_object('node', json_build_object(
      'id', ${globalId('RestorePlan', 'p.id')}, 'targetName', p.target_name, 'targetEdition', p.target_edition,
      'state', p.state, 'createdAt', ${iso('p.created_at')}, 'failureReason', p.failure_reason,
      'checks', (select coalesce(json_agg(json_build_object('code', c->>'code', 'severity', c->>'severity',
          'message', c->>'message') order by n), '[]')
        from jsonb_array_elements(p.checks) with ordinality as x(c, n)),
      'history', (select coalesce(json_agg(json_build_object('sequence', e.sequence, 'state', e.state,
          'previousState', e.previous_state, 'message', e.message, 'at', ${iso('e.at')},
          'progress', case when e.progress is null then null else json_build_object('category',
            e.progress->>'category', 'done', (e.progress->>'done')::int, 'total', (e.progress->>'total')::int) end)
          order by e.sequence), '[]')
        from restore_events e where e.plan_id = p.id)
    )) order by p.created_at desc, p.id desc), '[]')
    from (select * from restore_plans order by created_at desc, id desc limit 20) p)),
  'backups', json_build_object('edges', (
    select coalesce(json_agg(json_build_object('node', json_build_object(
      'id', ${globalId('Backup', 'b.id')}, 'serviceName', b.service_name, 'status', b.status, 'kind', b.kind,
      'sizeBytes', b.size_bytes, 'storedBytes', b.stored_bytes, 'createdAt', ${iso('b.created_at')},
      'completedAt', ${iso('b.completed_at')},
      'itemCounts', (select coalesce(json_agg(json_build_object('category', i->>'category',
          'count', (i->>'count')::int) order by n), '[]')
        from jsonb_array_elements(b.item_counts) with ordinality as x(i, n))
    )) order by b.created_at desc, b.id desc), '[]')
    from (select * from backups order by created_at desc, id desc limit 50) b)),
  'auditLog', json_build_object('edges', (
    select coalesce(json_agg(json_build_object('node', json_build_object(
      'at', ${iso('a.at')}, 'tokenName', a.token_name, 'operation', a.operation, 'targetId', a.target_id,
      'outcome', a.outcome
    )) order by a.at desc, a.id desc), '[]')
    from (select * from audit_log order by at desc, id desc limit 50) a))
) as page`;

/**
 * What the operator's screen shows, straight in SQL on a database seeded by seedServices: item counts
 * and stored sizes on every backup, `plans` restore plans of recent backups (three checks and eight
 * events each with progress from the third; none left RESTORING, which a starting server would take over) and `entries` audit entries.
 */
export async function seedOperatorScreen(databaseUrl: string, plans: number, entries: number): Promise<void> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  await sql.begin(async (tx) => {
    await tx`update backups set stored_bytes = size_bytes / 2, item_counts = (
      select jsonb_agg(jsonb_build_object('category', c, 'count', 10 + length(service_name) * n) order by n)
      from unnest(array['PARTNERS', 'PROFILES', 'AGREEMENTS', 'CONTROL_NUMBERS', 'AS2_MIC_VALUES', 'CERTIFICATES',
        'TRANSFORMS', 'SETTINGS']) with ordinality as x(c, n))`;
    await tx`insert into restore_plans (backup_id, target_name, target_edition, target_region, control_number_policy,
        state, checks, failure_reason, created_at, updated_at)
      select b.id, 'restored-' || g, b.edition, b.region, 'ADVANCE_PAST_ISSUED',
        (array['PLANNED', 'ACTIVE', 'FAILED', 'CANCELLED', 'ACTIVE'])[1 + g % 5],
        jsonb_build_array(
          jsonb_build_object('code', 'CONTROL_NUMBER_DRIFT', 'severity', 'WARNING', 'message', 'Agreement ' || g || ' issued numbers after the backup'),
          jsonb_build_object('code', 'FTP_SOURCE_CONFLICT', 'severity', 'INFO', 'message', 'ftp://ftp.example.com/' || g || ' is also pulled by svc-0001'),
          jsonb_build_object('code', 'HYBRID_CONNECTIONS', 'severity', 'INFO', 'message', 'Recreate 2 hybrid connections')),
        case when g % 5 = 2 then 'The restore was interrupted' end,
        date_trunc('milliseconds', now()) - g * interval '1 minute', date_trunc('milliseconds', now())
      from generate_series(1, ${plans}) g
      join lateral (select * from backups order by created_at desc, id offset g limit 1) b on true`;
    await tx`insert into restore_events (plan_id, sequence, state, previous_state, message, progress, at)
      select p.id, s, case when s = 1 then 'PLANNED' else 'RESTORING' end, case when s > 1 then 'PLANNED' end,
        'Step ' || s || ' of the restore to ' || p.target_name,
        case when s > 2 then jsonb_build_object('category', (array['PARTNERS', 'PROFILES', 'AGREEMENTS'])[1 + s % 3], 'done', s * 100, 'total', 1000) end,
        p.created_at + s * interval '1 second'
      from restore_plans p, generate_series(1, 8) s`;
    await tx`insert into audit_log (at, token_name, operation, target_id, outcome)
      select date_trunc('milliseconds', now()) - g * interval '1 second', 'operator-' || g % 3,
        (array['createPartner', 'updateAgreement', 'backupService', 'planRestore'])[1 + g % 4],
        encode(('Service:' || md5(g::text))::bytea, 'base64'), case when g % 7 = 0 then 'INVALID_STATE' else 'SUCCEEDED' end
      from generate_series(1, ${entries}) g`;
  });
  await sql.end();
}
