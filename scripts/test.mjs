#!/usr/bin/env node
// The whole suite: lint, type check + build, then every compiled test file under Node's test runner,
// then (on a whole run) the quick ingest benchmark checked against its floors.
// One PostgreSQL and one 3-node NATS cluster are started for the whole run (test/helpers/shared-servers.ts);
// servers that only some suites need (mosquitto, a cluster to kill) are started by those suites' helpers.
// The Debian packages the tests need are installed first (as root), once.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function run(cmd, args) {
  const started = Date.now();
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`\n${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
  console.log(`# ${cmd} ${args[0] ?? ''} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function findTests(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

run('npx', ['--no-install', 'biome', 'check', '.']);
run('npx', ['--no-install', 'tsc', '-p', 'tsconfig.json']);
const only = process.argv.slice(2);
const files = findTests('dist').filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
if (files.length === 0) {
  console.error('no test files found under dist/');
  process.exit(1);
}
// Every Debian package the suite needs, installed once and before any test runs: test files running
// side by side would otherwise race for apt's lock. The files themselves only check for theirs.
const { installDebianPackages } = await import('../dist/test/helpers/debian-package.js');
try {
  const installed = installDebianPackages();
  if (installed.length > 0) console.log(`# installed ${installed.join(', ')}`);
} catch (error) {
  // Not root: the tests that need a missing package fail naming the command; the others run.
  console.error(`# ${error.message}`);
}
const started = Date.now();
const { startSharedServers } = await import('../dist/test/helpers/shared-servers.js');
const servers = await startSharedServers();
console.log(`# shared PostgreSQL and NATS cluster up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
const tests = spawn(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=300000', ...files.sort()],
  {
    stdio: 'inherit',
    env: { ...process.env, ...servers.env },
  },
);
// Ctrl-C reaches the test runner too; the servers are stopped once it has ended.
process.on('SIGINT', () => undefined);
const [code, signal] = await once(tests, 'exit');
await servers.stop();
console.log(`# node --test took ${((Date.now() - started) / 1000).toFixed(1)} s`);
if (code !== 0) {
  console.error(`\nnode --test failed (exit ${code ?? signal})`);
  process.exit(code ?? 1);
}

// The performance guard: the quick ingest benchmark against the floors in src/bench/floors.json,
// so that a collapse of ingest throughput fails the run. Only on a whole run: a run of a few
// files is for working on them. Bounded: a hung benchmark is killed and fails the run.
if (only.length > 0) {
  console.log('# performance guard skipped: only some test files were run (run without arguments for it)');
} else {
  const guardStarted = Date.now();
  const guard = spawn(
    process.execPath,
    ['dist/src/cli/main.js', 'bench', '--quick', '--only', 'ingest', '--check'],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const limitMs = 120_000;
  const timer = setTimeout(() => {
    console.error(`\nperformance guard did not finish within ${limitMs / 1000} s; stopping it`);
    guard.kill('SIGKILL');
  }, limitMs);
  const [guardCode, guardSignal] = await once(guard, 'exit');
  clearTimeout(timer);
  console.log(`# performance guard took ${((Date.now() - guardStarted) / 1000).toFixed(1)} s`);
  if (guardCode !== 0) {
    console.error(`\nperformance guard failed (exit ${guardCode ?? guardSignal}): see the ratios above`);
    process.exit(guardCode ?? 1);
  }
}
