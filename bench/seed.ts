// Bench data prepared straight in SQL (fast, and the same rows the API would write).
import postgres from 'postgres';

/** `services` services, each with `backups` SUCCEEDED backups, two partners with a profile each, and `agreements` agreements. */
export async function seedServices(
  databaseUrl: string,
  services: number,
  backups: number,
  agreements: number,
): Promise<void> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  await sql.begin(async (tx) => {
    await tx`insert into services (name, edition, scale_unit_count, product_version, region, state, created_at, updated_at)
      select 'svc-' || lpad(g::text, 4, '0'), 'PREMIUM', 1, '1.0', 'westeurope', 'ACTIVE', now(), now() from generate_series(1, ${services}) g`;
    await tx`insert into backups (service_id, service_name, edition, region, kind, status, format_version, size_bytes, checksum, created_at, completed_at)
      select s.id, s.name, s.edition, s.region, 'ON_DEMAND', 'SUCCEEDED', 1, 1000, md5(s.name || b), now() - (b || ' hours')::interval, now() - (b || ' hours')::interval
      from services s, generate_series(1, ${backups}) b`;
    await tx`insert into partners (service_id, name, created_at, updated_at) select s.id, p, now(), now() from services s, unnest(array['Host', 'Guest']) p`;
    await tx`insert into profiles (service_id, partner_id, name, qualifier, identifier, created_at, updated_at)
      select p.service_id, p.id, p.name || ' EDI', 'ZZ', upper(p.name), now(), now() from partners p`;
    await tx`insert into agreements (service_id, name, host_profile_id, guest_profile_id, protocol, batching, created_at, updated_at)
      select s.id, 'Agreement ' || a, h.id, g.id, (array['X12', 'EDIFACT', 'AS2'])[1 + a % 3], false, now(), now()
      from services s join profiles h on h.service_id = s.id and h.name = 'Host EDI' join profiles g on g.service_id = s.id and g.name = 'Guest EDI', generate_series(1, ${agreements}) a`;
    await tx`insert into control_numbers (agreement_id, interchange, "group", transaction_set, updated_at) select id, 0, 0, 0, now() from agreements`;
  });
  await sql.end();
}
