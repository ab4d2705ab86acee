// npm run bench [-- name …]: every benchmark (or the named ones) on PostgreSQL, each against a
// baseline measured in the same run; prints the figures and writes bench/results.json.
import { writeFileSync } from 'node:fs';
import { backupBench } from './backup.js';
import { fanoutBench } from './fanout.js';
import { memoryBench } from './memory.js';
import { mutationBench } from './mutation.js';
import { queryBench } from './query.js';

// backup also measures the restore of that backup against pg_restore (one fill serves both).
const benchmarks: Record<string, () => Promise<unknown>> = {
  query: queryBench,
  mutation: mutationBench,
  fanout: fanoutBench,
  backup: backupBench,
  memory: memoryBench,
};
const chosen = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = chosen.filter((name) => !(name in benchmarks));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(benchmarks).join(', ')}`);
  process.exit(2);
}
const results: Record<string, unknown> = {
  machine: `${process.platform} ${process.arch}, node ${process.version}`,
  date: new Date().toISOString(),
};
for (const name of chosen.length ? chosen : Object.keys(benchmarks)) {
  console.log(`\n== ${name}`);
  results[name] = await benchmarks[name]!();
}
writeFileSync('bench/results.json', JSON.stringify(results, null, 2));
console.log('\nwritten to bench/results.json');
process.exit(0);
