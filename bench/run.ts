// `npm run bench`: measure what the tests only bound, and print one table.
// BENCH=membership|chaos|gateway|all (default all; membership includes the mDNS advert update
// row). The membership and chaos rows need root and iproute2 (they build a private test LAN of
// network namespaces); the gateway rows run on loopback as any user.
import { benchAdvert } from './advert.js';
import { benchChaos, benchKillMidLoad } from './chaos.js';
import { benchGateway, GATEWAY_REQUESTS } from './gateway.js';
import { benchMembership } from './membership.js';
import { type BenchRow, renderTable } from './table.js';

const which = process.env.BENCH ?? 'all';
if (!['membership', 'chaos', 'gateway', 'all'].includes(which)) {
  throw new Error(`BENCH must be membership, chaos, gateway or all, not ${JSON.stringify(which)}`);
}
const runs = Number(process.env.BENCH_RUNS ?? 3);
const rows: BenchRow[] = [];
const scope: string[] = [];
if (which === 'membership' || which === 'all') {
  rows.push(...(await benchMembership(runs)));
  rows.push(...(await benchAdvert(runs)));
  scope.push(`membership ${runs} runs each`);
}
if (which === 'chaos' || which === 'all') {
  rows.push(...(await benchKillMidLoad(runs)));
  rows.push(...(await benchChaos(runs)));
  scope.push(`chaos ${runs} runs`);
}
if (which === 'gateway' || which === 'all') {
  rows.push(...(await benchGateway()));
  scope.push(`gateway ${GATEWAY_REQUESTS} requests a latency row`);
}
process.stdout.write(
  `\nswarmd bench (${scope.join('; ')}, ${new Date().toISOString()})\n\n${renderTable(rows)}\n`,
);
