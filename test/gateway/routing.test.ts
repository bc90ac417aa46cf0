import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/load.js';
import { startApp, startServer } from '../support/helpers.js';

/** An upstream that answers with the route (a header each route sets) and the path it received. */
async function echo(): Promise<string> {
  const { url } = await startServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ route: req.headers['x-route'], url: req.url }));
  });
  return url;
}

type Json = Record<string, unknown>;

function routesFor(upstream: string, specs: Json[]): Json[] {
  return specs.map((spec) => ({ auth: 'none', upstream, headers: { request: { set: { 'x-route': spec.name } } }, ...spec }));
}

async function call(base: string, path: string, options: { method?: string; host?: string } = {}): Promise<{ status: number; route?: string; url?: string; allow?: string; code?: string }> {
  const res = await request(`${base}${path}`, {
    method: (options.method ?? 'GET') as 'GET',
    headers: options.host === undefined ? {} : { host: options.host },
  });
  const text = await res.body.text();
  const body = text === '' ? {} : (JSON.parse(text) as Json);
  const error = body.error as Json | undefined;
  return {
    status: res.statusCode,
    ...(typeof body.route === 'string' && { route: body.route }),
    ...(typeof body.url === 'string' && { url: body.url }),
    ...(res.headers.allow !== undefined && { allow: String(res.headers.allow) }),
    ...(error && { code: String(error.code) }),
  };
}

function configIssues(routes: Json[]): string[] {
  try {
    parseConfig(JSON.stringify({ gateway: { routes } }), 'routes.yaml', {});
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
  return [];
}

describe('gateway routing precedence', () => {
  it('host, then exact > pattern > longest prefix, then method-specific, then config order', async () => {
    const upstream = await echo();
    const { gatewayUrl } = await startApp({
      gateway: {
        routes: routesFor(upstream, [
          { name: 'root', prefix: '/' },
          { name: 'v1', prefix: '/v1/' },
          { name: 'models', prefix: '/v1/models/' },
          { name: 'chat', pattern: '/v1/models/:id/chat', rewrite: { path: '/chat/:id' } },
          { name: 'chat-post', pattern: '/v1/models/:id/chat', methods: ['post'] },
          { name: 'health', path: '/v1/models/health' },
          { name: 'models-rest', pattern: '/v1/models/*rest' },
          { name: 'order-a', pattern: '/o/:x' },
          { name: 'order-b', pattern: '/o/:y' },
          { name: 'order-literal', pattern: '/o/:x/end' },
          { name: 'order-literal-first', pattern: '/o/lit/:y' },
          { name: 'exact-any', path: '/e' },
          { name: 'exact-get', path: '/e', methods: ['GET'] },
          { name: 'prefix-any', prefix: '/p/' },
          { name: 'prefix-get', prefix: '/p/', methods: ['GET'] },
          { name: 'host-exact', hosts: ['API.example.com'], prefix: '/' },
          { name: 'host-wild', hosts: ['*.example.com'], prefix: '/v1/' },
          { name: 'host-wild-deep', hosts: ['*.eu.example.com'], prefix: '/' },
        ]),
      },
    });
    const cases: [string, { method?: string; host?: string }, string, string][] = [
      // Path kinds within the any-host tier.
      ['/v1/models/gpt-4/chat', {}, 'chat', '/chat/gpt-4'],
      ['/v1/models/gpt-4/chat', { method: 'POST' }, 'chat-post', '/v1/models/gpt-4/chat'],
      ['/v1/models/health', {}, 'health', '/v1/models/health'],
      ['/v1/models/a/b', {}, 'models-rest', '/v1/models/a/b'],
      ['/v1/models', {}, 'models-rest', '/v1/models'],
      ['/v1/other?q=1', {}, 'v1', '/v1/other?q=1'],
      ['/v1', {}, 'v1', '/v1'],
      ['/elsewhere', {}, 'root', '/elsewhere'],
      // A trailing slash is a different path for `path` and `pattern` routes.
      ['/v1/models/gpt-4/chat/', {}, 'models-rest', '/v1/models/gpt-4/chat/'],
      ['/v1/models//chat', {}, 'models-rest', '/v1/models//chat'],
      // Pattern specificity segment by segment, then config order.
      ['/o/1', {}, 'order-a', '/o/1'],
      ['/o/lit/end', {}, 'order-literal-first', '/o/lit/end'],
      ['/o/x/end', {}, 'order-literal', '/o/x/end'],
      // Method-specific before any-method, whatever the config order.
      ['/e', {}, 'exact-get', '/e'],
      ['/e', { method: 'HEAD' }, 'exact-get', ''],
      ['/e', { method: 'DELETE' }, 'exact-any', '/e'],
      ['/p/x', {}, 'prefix-get', '/p/x'],
      ['/p/x', { method: 'PUT' }, 'prefix-any', '/p/x'],
      // Host tiers: exact host, then the longest wildcard, then routes without hosts.
      ['/v1/models/gpt-4/chat', { host: 'api.example.com' }, 'host-exact', '/v1/models/gpt-4/chat'],
      ['/x', { host: 'API.EXAMPLE.COM:8443' }, 'host-exact', '/x'],
      ['/x', { host: 'api.example.com.' }, 'host-exact', '/x'],
      ['/v1/a', { host: 'x.example.com' }, 'host-wild', '/v1/a'],
      ['/v1/a', { host: 'deep.x.example.com' }, 'host-wild', '/v1/a'],
      ['/v1/a', { host: 'a.eu.example.com' }, 'host-wild-deep', '/v1/a'],
      // The wildcard tier has no route for the path: the any-host routes take it.
      ['/elsewhere', { host: 'x.example.com' }, 'root', '/elsewhere'],
      // `*.example.com` does not take example.com itself.
      ['/v1/models/health', { host: 'example.com' }, 'health', '/v1/models/health'],
    ];
    for (const [path, options, route, url] of cases) {
      const got = await call(gatewayUrl, path, options);
      const label = `${options.method ?? 'GET'} ${options.host ?? ''}${path}`;
      assert.equal(got.status, 200, label);
      assert.equal(got.route ?? (options.method === 'HEAD' ? 'exact-get' : undefined), route, label);
      if (options.method !== 'HEAD') assert.equal(got.url, url, label);
    }
  });

  it('405 with Allow when only other methods are served; 404 when no route takes the host and path', async () => {
    const upstream = await echo();
    const { gatewayUrl, app } = await startApp({
      gateway: {
        routes: routesFor(upstream, [
          { name: 'read', path: '/items', methods: ['GET'] },
          { name: 'write', path: '/items', methods: ['POST', 'PUT'] },
          { name: 'tenant', hosts: ['*.tenant.test'], prefix: '/t/', methods: ['PATCH'] },
        ]),
      },
    });
    assert.equal((await call(gatewayUrl, '/items', { method: 'POST' })).route, 'write');
    const refused = await call(gatewayUrl, '/items', { method: 'DELETE' });
    assert.equal(refused.status, 405);
    assert.equal(refused.code, 'VGL_GATEWAY_METHOD_NOT_ALLOWED');
    assert.equal(refused.allow, 'GET, HEAD, POST, PUT');
    assert.equal((await call(gatewayUrl, '/t/x', { host: 'a.tenant.test', method: 'GET' })).allow, 'PATCH');
    const noRoute = await call(gatewayUrl, '/t/x', { host: 'other.test' });
    assert.deepEqual([noRoute.status, noRoute.code], [404, 'VGL_GATEWAY_NO_ROUTE']);
    assert.equal((await call(gatewayUrl, '/nothing')).status, 404);
    let records = await app.store.access.recent(10);
    for (let i = 0; i < 100 && !records.some((r) => r.status === 405); i++) {
      await sleep(50);
      records = await app.store.access.recent(10);
    }
    assert.ok(
      records.some((r) => r.status === 405 && r.errorCode === 'VGL_GATEWAY_METHOD_NOT_ALLOWED'),
      'the 405 is recorded with its code',
    );
  });

  it('rewrites: prefix replaced, stripped, pattern captures placed, query kept, target base path first', async () => {
    const upstream = await echo();
    const { gatewayUrl } = await startApp({
      gateway: {
        routes: [
          ...routesFor(upstream, [
            { name: 'old', prefix: '/old/', rewrite: { prefix: '/new' } },
            { name: 'strip', prefix: '/strip', stripPrefix: true },
            { name: 'files', pattern: '/files/:bucket/*rest', rewrite: { path: '/store/:bucket/objects/*rest' } },
            { name: 'swap', pattern: '/swap/:a/:b', rewrite: { path: '/:b/:a' } },
            { name: 'fixed', path: '/fixed', rewrite: { path: '/v2/fixed' } },
          ]),
          ...routesFor(`${upstream}/base/`, [{ name: 'based', pattern: '/based/:id', rewrite: { path: '/items/:id' } }]),
        ],
      },
    });
    const cases: [string, string][] = [
      ['/old/x/y?q=1', '/new/x/y?q=1'],
      ['/old/', '/new/'],
      ['/old', '/new'],
      ['/old?q=1', '/new?q=1'],
      ['/strip/a', '/a'],
      ['/strip', '/'],
      ['/strip?x', '/?x'],
      ['/stripped', '/ped'],
      ['/files/b1/a/b%2Fc.txt?v=2', '/store/b1/objects/a/b%2Fc.txt?v=2'],
      ['/files/b1', '/store/b1/objects/'],
      ['/swap/one/two', '/two/one'],
      ['/fixed?k=v', '/v2/fixed?k=v'],
      ['/based/42', '/base/items/42'],
    ];
    for (const [path, url] of cases) assert.equal((await call(gatewayUrl, path)).url, url, path);
  });

  it('hostile paths and hosts never escape a route or reach a host-only route', async () => {
    const upstream = await echo();
    const { gatewayUrl, app } = await startApp({
      gateway: {
        routes: routesFor(upstream, [
          { name: 'secret-host', hosts: ['admin.internal'], prefix: '/' },
          { name: 'wild', hosts: ['*.example.com'], prefix: '/' },
          { name: 'public', pattern: '/pub/:id', rewrite: { path: '/public/:id' } },
        ]),
      },
    });
    const port = app.gateway.address().port;
    const raw = (text: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(text));
        let out = '';
        socket.on('data', (d: Buffer) => (out += d.toString()));
        socket.on('close', () => resolve(out));
        socket.on('error', reject);
      });
    // Sent raw: an HTTP client would resolve the dot segments itself.
    for (const path of ['/pub/..', '/pub/%2e%2e', '/pub/%2E.', '/pub/x/../../admin', '/pub/./x', '/pub/x%2f..%2f..', '/pub/x%5C..']) {
      assert.match(await raw(`GET ${path} HTTP/1.1\r\nHost: admin.internal\r\nConnection: close\r\n\r\n`), /^HTTP\/1\.1 400 /, path);
    }
    // An encoded slash stays encoded inside one capture.
    assert.equal((await call(gatewayUrl, '/pub/a%2Fb')).url, '/public/a%2Fb');
    // A capture needs a non-empty segment.
    assert.equal((await call(gatewayUrl, '/pub/')).status, 404);
    for (const host of ['admin.internal.evil.test', 'evil.test', '*.example.com', 'admin.internal@evil.test', 'x.example.com.evil.test', '']) {
      const got = await call(gatewayUrl, '/pub/1', { host });
      assert.equal(got.route, 'public', `Host: ${host}`);
    }
    assert.equal((await call(gatewayUrl, '/pub/1', { host: '[::1]:80' })).route, 'public');
    // Raw requests: no Host at all (HTTP/1.0), a huge one, one with trailing space, one in capitals.
    assert.match(await raw('GET /pub/7 HTTP/1.0\r\n\r\n'), /"route":"public"/); // HTTP/1.0: the server closes after the answer
    assert.match(await raw(`GET /pub/7 HTTP/1.1\r\nHost: ${'a.'.repeat(3000)}example.com\r\nConnection: close\r\n\r\n`), /"route":"public"/);
    assert.match(await raw('GET /x HTTP/1.1\r\nHost: admin.internal \r\nConnection: close\r\n\r\n'), /"route":"secret-host"/);
    assert.match(await raw('GET /x HTTP/1.1\r\nHost: ADMIN.internal\r\nConnection: close\r\n\r\n'), /"route":"secret-host"/);
  });

  it('refuses ambiguous or impossible route rules at load, with their paths', () => {
    const base = { upstream: 'http://127.0.0.1:1' };
    const issues = configIssues([
      { ...base, name: 'both', prefix: '/a/', path: '/a' },
      { ...base, name: 'none' },
      { ...base, name: 'badcap', pattern: '/a/:id', rewrite: { path: '/b/:other' } },
      { ...base, name: 'midrest', pattern: '/a/*rest/b' },
      { ...base, name: 'glob', pattern: '/a/x*' },
      { ...base, name: 'twice', pattern: '/a/:id/:id' },
      { ...base, name: 'strip-pattern', pattern: '/s/:id', stripPrefix: true },
      { ...base, name: 'prefix-on-path', path: '/q', rewrite: { prefix: '/r' } },
      { ...base, name: 'path-on-prefix', prefix: '/q/', rewrite: { path: '/r' } },
      { ...base, name: 'port', hosts: ['api.example.com:443'], prefix: '/h/' },
      { ...base, name: 'regex-host', hosts: ['(a|b).example.com'], prefix: '/h/' },
      { ...base, name: 'method', prefix: '/m/', methods: ['GET /'] },
      { ...base, name: 'dup-1', hosts: ['b.test', 'a.test'], prefix: '/d/', methods: ['GET'] },
      { ...base, name: 'dup-2', hosts: ['a.test', 'B.test'], prefix: '/d/', methods: ['get'] },
    ]);
    const expected = [
      /routes\[0\]\.path: set exactly one of/,
      /routes\[1\]\.prefix: set exactly one of/,
      /routes\[2\]\.rewrite\.path: 'other' is not a capture/,
      /routes\[3\]\.pattern: '\*rest' must be the last segment/,
      /routes\[4\]\.pattern: segment 'x\*'/,
      /routes\[5\]\.pattern: capture 'id' appears twice/,
      /routes\[6\]\.stripPrefix: `stripPrefix` needs a `prefix` route/,
      /routes\[7\]\.rewrite\.prefix:/,
      /routes\[8\]\.rewrite\.path:/,
      /routes\[9\]\.hosts\[0\]: must be a host name without port/,
      /routes\[10\]\.hosts\[0\]:/,
      /routes\[11\]\.methods\[0\]: must be an HTTP method/,
      /routes\[13\]\.prefix: same hosts, prefix and methods as route 'dup-1'/,
    ];
    for (const pattern of expected) assert.ok(issues.some((i) => pattern.test(i)), `${pattern} not in\n${issues.join('\n')}`);
    assert.equal(issues.length, expected.length, issues.join('\n'));
  });

  it('reload swaps host, pattern and method routes under load with zero failed requests', async () => {
    const a = await echo();
    const b = await echo();
    const version = (n: number): Json[] => [
      ...routesFor(n % 2 === 0 ? a : b, [{ name: `pat-${n % 2}`, pattern: '/m/:id/run', rewrite: { path: `/run${n % 2}/:id` } }]),
      ...routesFor(n % 2 === 0 ? b : a, [{ name: `host-${n % 2}`, hosts: ['svc.test'], prefix: '/', methods: n % 2 === 0 ? ['GET'] : [] }]),
    ];
    const { app, gatewayUrl, dataDir } = await startApp({ gateway: { routes: version(0) } });
    const agent = new Agent({ connections: 8 });
    after(() => agent.close());
    const failures: string[] = [];
    const seen = new Set<string>();
    let running = true;
    let count = 0;
    const worker = async (i: number): Promise<void> => {
      while (running) {
        const host = i % 2 === 0 ? 'svc.test' : `127.0.0.1`;
        try {
          const res = await request(`${gatewayUrl}/m/${i}/run`, { dispatcher: agent, headers: { host } });
          const body = (await res.body.json()) as Json;
          if (res.statusCode !== 200) failures.push(`${res.statusCode} ${JSON.stringify(body)}`);
          else seen.add(`${host} ${String(body.route)} ${String(body.url)}`);
          count++;
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    const workers = Array.from({ length: 6 }, (_, i) => worker(i));
    for (let n = 1; n <= 6; n++) {
      await sleep(100);
      await app.reloadRoutes(parseConfig(JSON.stringify({ gateway: { listen: { port: 0 }, routes: version(n) }, console: { listen: { port: 0 } }, store: { dataDir } }), 'r.yaml', {}));
    }
    await sleep(100);
    running = false;
    await Promise.all(workers);
    assert.deepEqual(failures, []);
    assert.ok(count > 30, `only ${count} requests ran`);
    for (const line of seen) assert.match(line, /^(svc\.test host-[01] \/m\/\d\/run|127\.0\.0\.1 pat-0 \/run0\/\d|127\.0\.0\.1 pat-1 \/run1\/\d)$/);
  });
});
