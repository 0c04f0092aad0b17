import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type DebianPackage, installDebianPackages, requireDebianPackage } from './debian-package.js';

/** A package whose presence the test decides; apt "installs" it by flipping the flag. */
function fake(name: string, present = false): DebianPackage & { present: boolean } {
  const pkg = {
    name,
    missing: `${name} (no /usr/bin/${name})`,
    present,
    installed: () => pkg.present,
  };
  return pkg;
}

test('a test file only checks for its package and names the exact command when it is missing', () => {
  assert.doesNotThrow(() => requireDebianPackage(fake('there', true)));
  assert.throws(
    () => requireDebianPackage(fake('nats-server')),
    /nats-server \(no \/usr\/bin\/nats-server\) is not installed; run: sudo apt-get install -y nats-server/,
  );
});

test('the missing packages are installed in one apt-get run that waits for the lock; present ones are left alone', () => {
  const a = fake('mosquitto');
  const b = fake('libxml2-utils');
  const runs: string[][] = [];
  const installed = installDebianPackages([a, fake('postgresql', true), b], {
    root: true,
    apt: (args) => {
      runs.push([...args]);
      a.present = true;
      b.present = true;
      return { ok: true, output: '' };
    },
  });
  assert.deepEqual(installed, ['mosquitto', 'libxml2-utils']);
  assert.deepEqual(runs, [
    [
      '-o',
      'DPkg::Lock::Timeout=120',
      'install',
      '-y',
      '-q',
      '--no-install-recommends',
      'mosquitto',
      'libxml2-utils',
    ],
  ]);
  assert.deepEqual(
    installDebianPackages([a, b], { root: true, apt: () => assert.fail('nothing to install') }),
    [],
  );
});

test('a failed install updates the lists and tries once more; still missing, it fails with the command and apt output', () => {
  const pkg = fake('chromium');
  const runs: string[] = [];
  assert.throws(
    () =>
      installDebianPackages([pkg], {
        root: true,
        apt: (args) => {
          runs.push(args.slice(0, 3).join(' '));
          return { ok: false, output: 'E: Unable to locate package chromium' };
        },
      }),
    /installing chromium failed; run: sudo apt-get install -y chromium\nE: Unable to locate package chromium/,
  );
  const lock = '-o DPkg::Lock::Timeout=120';
  assert.deepEqual(runs, [`${lock} install`, `${lock} update`, `${lock} install`]);
});

test('not root: nothing is run, the error names every missing package and the command', () => {
  assert.throws(
    () =>
      installDebianPackages([fake('mosquitto'), fake('nats-server')], {
        root: false,
        apt: () => assert.fail('apt must not run'),
      }),
    /not installed: mosquitto \(no \/usr\/bin\/mosquitto\), nats-server \(no \/usr\/bin\/nats-server\); run: sudo apt-get install -y mosquitto nats-server/,
  );
});
