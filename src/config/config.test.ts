import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig, loadConfigFromObject } from './index.js';

function writeConfig(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-config-'));
  const file = join(dir, 'conveyor.yaml');
  writeFileSync(file, text);
  return file;
}

function problemsOf(fn: () => unknown): Array<{ path: string; message: string }> {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${(error as Error).message}`);
    return [...error.problems];
  }
  assert.fail('expected the config to be refused');
}

const SPEC_EXAMPLE = `
server: { host: 127.0.0.1, port: 8080, bodyLimit: 1mb }
store: { kind: sqlite, path: ./data/conveyor.db }
log: { kind: sqlite }
clients:
  - { name: erp-prod, scopes: [commands:production-order-release, events:read:production], plants: [P1, P2],
      rateLimit: { perSecond: 200, burst: 400 } }
lanes:
  critical: { concurrency: 32 }
  bulk: { concurrency: 4, maxQueued: 100000, ingressPerSecond: 5000 }
referenceData:
  routings: ./reference/routings.csv
connectors:
  wms: { kind: http, baseUrl: http://127.0.0.1:9101, timeout: 2s, circuitBreaker: { failureThreshold: 5, resetAfter: 30s } }
  mes-p1: { kind: http, url: http://127.0.0.1:9102/events }
  asn-inbox: { kind: files, dir: ./inbox/asn, pattern: "*.edi", format: x12 }
  erp: { kind: http, url: http://127.0.0.1:9103/postings }
  crm: { kind: http, url: http://127.0.0.1:9104/alerts }
commands:
  inventory-reservation: { connector: wms, path: /reservations }
routes:
  - name: mes-p1-orders
    types: [production.order.released]
    filter: "plant = 'P1'"
    transform: null
    sink: mes-p1
    retry: { maxAttempts: 8, initialDelay: 500ms, maxDelay: 30s, maxAge: 24h }
    timeout: 5s
    lane: critical
  - { name: telemetry-out, types: [telemetry.*], sink: mes-p1 }
  - { name: erp-postings, types: [production.order.completed], sink: erp }
milestones:
  - { name: order-posted-to-erp, start: production.order.completed, end: { delivered: erp-postings }, correlate: subject, within: 15m }
alerts:
  - { when: milestone.late, sink: crm }
`;

test('the example configuration of the documentation compiles, with durations in ms and paths absolute', () => {
  const file = writeConfig(SPEC_EXAMPLE);
  const config = loadConfig(file, {}, {});
  assert.equal(config.server.bodyLimitBytes, 1_048_576);
  const route = config.routes[0]!;
  assert.deepEqual(route.retry, {
    maxAttempts: 8,
    initialDelayMs: 500,
    maxDelayMs: 30_000,
    maxAgeMs: 86_400_000,
  });
  assert.equal(route.timeoutMs, 5_000);
  assert.equal(config.routes[1]?.lane, 'bulk', 'telemetry routes default to the bulk lane');
  assert.equal(config.lanes.bulk.ingressPerSecond, 5000);
  assert.equal(config.lanes.critical.maxQueued, 100_000);
  assert.ok(config.store.kind === 'sqlite' && config.store.path.startsWith('/'));
  assert.equal(config.clients[0]?.rateLimit?.burst, 400);
  assert.ok(
    Object.isFrozen(config) && Object.isFrozen(config.routes[0]) && Object.isFrozen(config.routes[0]?.retry),
  );
});

test('every problem is reported by key path, not just the first', () => {
  const file = writeConfig(`
server: { port: 99999, colour: blue }
routes:
  - { name: a, types: [production.order.released], sink: nowhere, retry: { maxAttempts: 0, initialDelay: soon } }
  - { name: a, types: [BAD TYPE], sink: nowhere, filter: "plant = " }
`);
  const problems = problemsOf(() => loadConfig(file, {}, {}));
  const paths = problems.map((p) => p.path);
  assert.ok(paths.includes('server.port'), JSON.stringify(problems));
  assert.ok(paths.includes('server.colour'));
  assert.ok(paths.includes('routes[0].retry.maxAttempts'));
  const delay = problems.find((p) => p.path === 'routes[0].retry.initialDelay');
  assert.match(delay?.message ?? '', /duration such as 500ms/);
  assert.ok(paths.includes('routes[1].types[0]'));
  assert.match(problems.find((p) => p.path === 'routes[0].retry.maxAttempts')?.message ?? '', />= 1/);
});

test('references between sections and expressions are checked after the schema', () => {
  const problems = problemsOf(() =>
    loadConfigFromObject({
      connectors: { mes: { kind: 'http', url: 'http://127.0.0.1:1/x' } },
      routes: [
        { name: 'a', types: ['production.*'], sink: 'nowhere' },
        { name: 'a', types: ['production.*'], sink: 'mes', filter: "plant = 'P1' and (" },
      ],
      commands: { reserve: { connector: 'wms', path: '/r' } },
    }),
  );
  const byPath = new Map(problems.map((p) => [p.path, p.message]));
  assert.match(byPath.get('routes[0].sink') ?? '', /no connector named "nowhere".*known: mes/);
  assert.match(byPath.get('routes[1].name') ?? '', /duplicate route name/);
  assert.match(byPath.get('routes[1].filter') ?? '', /invalid JSONata at position \d+/);
  assert.match(byPath.get('commands.reserve.connector') ?? '', /no connector named "wms"/);
});

test('environment references resolve from the environment and a missing one is named', () => {
  const file = writeConfig(
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the config syntax itself is under test
    'store: { kind: postgres, url: "${DATABASE_URL}" }\nlog: { kind: sqlite, path: "${LOG_DIR}/e.db" }\n',
  );
  const config = loadConfig(
    file,
    {},
    { DATABASE_URL: 'postgres://u@127.0.0.1/db', LOG_DIR: '/var/lib/conveyor' },
  );
  assert.deepEqual(config.store, { kind: 'postgres', url: 'postgres://u@127.0.0.1/db' });
  assert.equal(config.log.kind === 'sqlite' && config.log.path, '/var/lib/conveyor/e.db');
  const problems = problemsOf(() => loadConfig(file, {}, { LOG_DIR: '/x' }));
  assert.deepEqual(problems, [
    {
      path: 'store.url',
      message: 'environment variable DATABASE_URL is not set; export it or write the value',
    },
  ]);
});

test('YAML syntax errors give a line and column', () => {
  const file = writeConfig('server:\n  port: [8080\n');
  const [problem] = problemsOf(() => loadConfig(file, {}, {}));
  assert.match(problem?.message ?? '', /YAML syntax error at line \d+, column \d+/);
});

test('plain HTTP on a non-loopback host is refused unless insecure is explicit', () => {
  const [problem] = problemsOf(() => loadConfigFromObject({ server: { host: '0.0.0.0' } }));
  assert.equal(problem?.path, 'server.host');
  assert.match(problem?.message ?? '', /server\.tls/);
  assert.equal(loadConfigFromObject({ server: { host: '0.0.0.0', insecure: true } }).server.insecure, true);
});

test('command line and environment override the file', () => {
  const file = writeConfig('server: { port: 9000 }\n');
  assert.equal(loadConfig(file, {}, { CONVEYOR_PORT: '9100' }).server.port, 9100);
  assert.equal(loadConfig(file, { port: 9200 }, { CONVEYOR_PORT: '9100' }).server.port, 9200);
  assert.equal(loadConfig(file, {}, { CONVEYOR_DATA: '/srv/conveyor' }).dataDir, '/srv/conveyor');
  assert.equal(problemsOf(() => loadConfig(file, {}, { CONVEYOR_PORT: 'eighty' }))[0]?.path, 'server.port');
});

test('a union speaks through the branch its kind names', () => {
  const problems = problemsOf(() =>
    loadConfigFromObject({ store: { kind: 'postgres' }, log: { kind: 'kafka' } }),
  );
  assert.deepEqual(problems, [
    { path: 'store.url', message: 'is required' },
    { path: 'log', message: 'must be { kind: sqlite } or { kind: jetstream, servers: [nats://...] }' },
  ]);
});

test('the shipped conveyor.example.yaml is a valid configuration', () => {
  const config = loadConfig(new URL('../../../conveyor.example.yaml', import.meta.url).pathname, {}, {});
  assert.equal(config.routes.length, 2);
  assert.equal(config.log.kind === 'sqlite' && config.log.retention.maxAgeMs, 30 * 86_400_000);
});

test('the shipped conveyor.cluster.example.yaml is a valid configuration for a JetStream log and a PostgreSQL store', () => {
  const config = loadConfig(
    new URL('../../../conveyor.cluster.example.yaml', import.meta.url).pathname,
    {},
    { DATABASE_URL: 'postgres://conveyor@db.plant.example:5432/conveyor' },
  );
  assert.equal(
    config.store.kind === 'postgres' && config.store.url,
    'postgres://conveyor@db.plant.example:5432/conveyor',
  );
  assert.equal(config.log.kind === 'jetstream' && config.log.replicas, 3);
  assert.equal(config.log.kind === 'jetstream' && config.log.servers.length, 3);
});

test('server timeouts and the per-address connection cap have defaults, take durations, and name bad keys', () => {
  const defaults = loadConfigFromObject({}).server;
  assert.deepEqual(
    [defaults.headersTimeoutMs, defaults.requestTimeoutMs, defaults.keepAliveTimeoutMs],
    [10_000, 30_000, 5_000],
  );
  assert.equal(defaults.maxConnectionsPerAddress, 256);
  const set = loadConfigFromObject({
    server: {
      headersTimeout: '2s',
      requestTimeout: '1m',
      keepAliveTimeout: '500ms',
      maxConnectionsPerAddress: 8,
    },
  }).server;
  assert.deepEqual(
    [set.headersTimeoutMs, set.requestTimeoutMs, set.keepAliveTimeoutMs, set.maxConnectionsPerAddress],
    [2_000, 60_000, 500, 8],
  );
  const paths = problemsOf(() =>
    loadConfigFromObject({
      server: { headersTimeout: 'soon', keepAliveTimeout: 5, maxConnectionsPerAddress: 0 },
    }),
  ).map((p) => p.path);
  assert.deepEqual(paths.sort(), [
    'server.headersTimeout',
    'server.keepAliveTimeout',
    'server.maxConnectionsPerAddress',
  ]);
  const [order] = problemsOf(() =>
    loadConfigFromObject({ server: { headersTimeout: '1m', requestTimeout: '30s' } }),
  );
  assert.equal(order?.path, 'server.headersTimeout');
  assert.match(order?.message ?? '', /at most server\.requestTimeout/);
});

test('a route batch takes defaults for what it leaves out, and bad values name the field and the fix', () => {
  const config = loadConfigFromObject({
    connectors: { mes: { kind: 'http', url: 'http://127.0.0.1:1/x' } },
    routes: [
      { name: 'single', types: ['production.*'], sink: 'mes' },
      { name: 'some', types: ['production.*'], sink: 'mes', batch: { maxEvents: 500 } },
      {
        name: 'all',
        types: ['production.*'],
        sink: 'mes',
        batch: { maxEvents: 50, maxBytes: '256kb', maxWait: '25ms' },
      },
    ],
  });
  assert.equal(config.routes[0]?.batch, null, 'no batch: one event per request');
  assert.deepEqual(config.routes[1]?.batch, { maxEvents: 500, maxBytes: 1024 ** 2, maxWaitMs: 10 });
  assert.deepEqual(config.routes[2]?.batch, { maxEvents: 50, maxBytes: 256 * 1024, maxWaitMs: 25 });

  const problems = problemsOf(() =>
    loadConfigFromObject({
      connectors: { mes: { kind: 'http', url: 'http://127.0.0.1:1/x' } },
      routes: [
        {
          name: 'a',
          types: ['production.*'],
          sink: 'mes',
          batch: { maxEvents: 0, maxWait: 'soon', size: 3 },
        },
      ],
    }),
  );
  const at = (path: string) => problems.find((p) => p.path === path)?.message ?? '';
  assert.match(at('routes[0].batch.maxEvents'), />= 1/, JSON.stringify(problems));
  assert.match(at('routes[0].batch.size'), /expected one of: maxEvents, maxBytes, maxWait/);
  assert.match(at('routes[0].batch.maxWait'), /duration such as 500ms/);
  assert.ok(problems.some((p) => p.path.startsWith('routes[0].batch')) && problems.length >= 3);

  const ranges = problemsOf(() =>
    loadConfigFromObject({
      connectors: { mes: { kind: 'http', url: 'http://127.0.0.1:1/x' } },
      routes: [
        { name: 'a', types: ['production.*'], sink: 'mes', batch: { maxBytes: '10b', maxWait: '1m' } },
      ],
    }),
  );
  assert.match(
    ranges.find((p) => p.path === 'routes[0].batch.maxBytes')?.message ?? '',
    /at least 1kb/,
    JSON.stringify(ranges),
  );
  assert.match(ranges.find((p) => p.path === 'routes[0].batch.maxWait')?.message ?? '', /at most 10s/);
});
