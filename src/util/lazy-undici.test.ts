import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { LazyPool } from './lazy-undici.js';

test('loading the hub and the CLI does not load undici: it comes with the first HTTP client', () => {
  const hub = new URL('../hub.js', import.meta.url).href;
  const cli = new URL('../cli/run-commands.js', import.meta.url).href;
  const script = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(hub)});
    await import(${JSON.stringify(cli)});
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('/node_modules/undici/'));
    console.log(loaded.length);`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim(), '0', 'undici modules loaded at start');
});

test('a lazy pool is made on its first use and serves requests; closed, it refuses new ones', async () => {
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const pool = new LazyPool(`http://127.0.0.1:${port}`, { connections: 1 });
  try {
    const first = await pool.get();
    assert.equal(await pool.get(), first, 'one pool');
    const response = await first.request({ method: 'GET', path: '/' });
    assert.equal(await response.body.text(), 'ok');
  } finally {
    await pool.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
  const unused = new LazyPool('http://127.0.0.1:9', {});
  await unused.destroy();
  await assert.rejects(Promise.resolve(unused.get()), /closed/);
});
