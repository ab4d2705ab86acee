// Bench data prepared straight in SQL (fast, and the same rows the API would write).
import postgres from 'postgres';

/**
 * The statements that seed `services` services, each with `backups` SUCCEEDED backups (one an hour
 * back from now), two partners with a profile each, and `agreements` agreements: to run in order, in
 * one transaction.
 */
export function seedStatements(services: number, backups: number, agreements: number): string[] {
  if (![services, backups, agreements].every((n) => Number.isInteger(n) && n >= 0)) throw new Error('counts only');
  return [
    `insert into services (name, edition, scale_unit_count, product_version, region, state, created_at, updated_at)
      select 'svc-' || lpad(g::text, 4, '0'), 'PREMIUM', 1, '1.0', 'westeurope', 'ACTIVE', now(), now() from generate_series(1, ${services}) g`,
    `insert into backups (service_id, service_name, edition, region, kind, status, format_version, size_bytes, checksum, created_at, completed_at)
      select s.id, s.name, s.edition, s.region, 'ON_DEMAND', 'SUCCEEDED', 1, 1000, md5(s.name || b), now() - (b || ' hours')::interval, now() - (b || ' hours')::interval
      from services s, generate_series(1, ${backups}) b`,
    `insert into partners (service_id, name, created_at, updated_at) select s.id, p, now(), now() from services s, unnest(array['Host', 'Guest']) p`,
    `insert into profiles (service_id, partner_id, name, qualifier, identifier, created_at, updated_at)
      select p.service_id, p.id, p.name || ' EDI', 'ZZ', upper(p.name), now(), now() from partners p`,
    `insert into agreements (service_id, name, host_profile_id, guest_profile_id, protocol, batching, created_at, updated_at)
      select s.id, 'Agreement ' || a, h.id, g.id, (array['X12', 'EDIFACT', 'AS2'])[1 + a % 3], false, now(), now()
      from services s join profiles h on h.service_id = s.id and h.name = 'Host EDI' join profiles g on g.service_id = s.id and g.name = 'Guest EDI', generate_series(1, ${agreements}) a`,
    `insert into control_numbers (agreement_id, interchange, "group", transaction_set, updated_at) select id, 0, 0, 0, now() from agreements`,
  ];
}

/** seedStatements on a PostgreSQL database. */
export async function seedServices(
  databaseUrl: string,
  services: number,
  backups: number,
  agreements: number,
): Promise<void> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  await sql.begin(async (tx) => {
    for (const statement of seedStatements(services, backups, agreements)) await tx.unsafe(statement);
  });
  await sql.end();
}
