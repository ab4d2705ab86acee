// The query benchmark's page and its hand-written baseline: one SQL statement (lateral json_agg) that
// produces the same JSON as the API's answer. Shared by the benchmark, its baseline server and the test
// that keeps the two answers identical (test/page-baseline.test.ts).

/** The page of the query benchmark: 50 services, each with 10 backups and its agreements. */
export const PAGE_QUERY =
  '{ services(first: 50) { edges { node { name edition backups(first: 10) { edges { node { id status createdAt } } } agreements(first: 10) { edges { node { name protocol } } } } } } }';

/** `edges` of PAGE_QUERY's `services`, built by PostgreSQL in one statement. */
export const PAGE_SQL = `
select coalesce(json_agg(json_build_object('node', json_build_object('name', s.name, 'edition', s.edition,
  'backups', json_build_object('edges', b.edges), 'agreements', json_build_object('edges', a.edges))) order by s.name, s.id), '[]') as edges
from (select * from services where state <> 'DELETED' order by name, id limit 50) s
cross join lateral (select coalesce(json_agg(json_build_object('node', json_build_object('id', encode(('Backup:' || x.id)::bytea, 'base64'), 'status', x.status, 'createdAt', to_char(x.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))) order by x.created_at desc, x.id desc), '[]') as edges
  from (select * from backups where service_id = s.id order by created_at desc, id desc limit 10) x) b
cross join lateral (select coalesce(json_agg(json_build_object('node', json_build_object('name', y.name, 'protocol', y.protocol)) order by y.name, y.id), '[]') as edges
  from (select * from agreements where service_id = s.id order by name, id limit 10) y) a`;
