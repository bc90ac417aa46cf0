// Micro-benchmark of the gateway's route lookup (src/gateway/router.ts) on the built code:
// nanoseconds per match for a prefix-only table (today's common case) and for a table mixing
// hosts, wildcard hosts, exact paths, patterns and methods. Run after `npm run build`:
//
//   node bench/route-match.mjs [iterations]
//
// Prints one JSON line per table. Figures are for comparison on one machine, not assertions.
import { parseConfig } from '../dist/config/load.js';
import { Router } from '../dist/gateway/router.js';

const iterations = Number(process.argv[2] ?? 2_000_000);
const upstream = 'http://127.0.0.1:1';

function table(routes) {
  const { config } = parseConfig(JSON.stringify({ gateway: { routes: routes.map((r) => ({ upstream, auth: 'none', ...r })) } }), 'bench.yaml', {});
  return new Router(config.gateway.routes, 0, config.gateway.identityHeaders);
}

const prefixes = Array.from({ length: 20 }, (_, i) => ({ name: `p${i}`, prefix: `/svc${i}/` }));
const mixed = [
  ...prefixes,
  ...Array.from({ length: 10 }, (_, i) => ({ name: `h${i}`, hosts: [`tenant${i}.example.com`], prefix: '/' })),
  { name: 'wild', hosts: ['*.example.org'], prefix: '/v1/' },
  ...Array.from({ length: 10 }, (_, i) => ({ name: `x${i}`, path: `/exact/${i}` })),
  ...Array.from({ length: 10 }, (_, i) => ({ name: `m${i}`, pattern: `/v${i}/models/:id/chat`, methods: ['POST'] })),
];

const requests = [
  ['/svc7/run?x=1', '127.0.0.1:8080', 'GET'],
  ['/svc19/a/b', 'api.local', 'POST'],
  ['/v3/models/gpt/chat', 'api.local', 'POST'],
  ['/exact/4', 'API.local:443', 'GET'],
  ['/v1/x', 'a.b.example.org', 'GET'],
  ['/nothing', 'tenant3.example.com', 'GET'],
];

for (const [name, router] of [['prefix-only', table(prefixes)], ['mixed', table(mixed)]]) {
  let hits = 0;
  for (let i = 0; i < 100_000; i++) for (const [path, host, method] of requests) if (router.match(path, host, method)) hits++;
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const [path, host, method] = requests[i % requests.length];
    if (router.match(path, host, method)) hits++;
  }
  const ns = Number(process.hrtime.bigint() - started) / iterations;
  console.log(JSON.stringify({ table: name, routes: router.all.length, nsPerMatch: Math.round(ns), hits }));
}
