// `npm run bench`: measure what the tests only bound, and print one table.
// Needs root and iproute2 (it builds a private test LAN of network namespaces).
import { benchMembership } from './membership.js';
import { renderTable } from './table.js';

const runs = Number(process.env.BENCH_RUNS ?? 3);
const rows = await benchMembership(runs);
process.stdout.write(
  `\nswarmd bench (${runs} runs each, ${new Date().toISOString()})\n\n${renderTable(rows)}\n`,
);
