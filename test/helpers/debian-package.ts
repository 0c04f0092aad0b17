/**
 * The Debian packages the tests need (mosquitto, nats-server, postgresql, chromium): installed
 * when missing and the tests run as root, otherwise an error that names the command to run.
 */
import { spawnSync } from 'node:child_process';

const APT_TIMEOUT_MS = 300_000;

export interface DebianPackage {
  /** The package name, e.g. `nats-server`. */
  readonly name: string;
  /** What is missing when it is not installed, e.g. `nats-server (no /usr/sbin/nats-server)`. */
  readonly missing: string;
  readonly installed: () => boolean;
  /** A system service the package starts; the tests never use it, so it is stopped. */
  readonly service?: string;
}

function apt(args: string[]): { ok: boolean; output: string } {
  const result = spawnSync('apt-get', args, {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    encoding: 'utf8',
    timeout: APT_TIMEOUT_MS,
  });
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}`.slice(-2000) };
}

/** Installs the package as root (updating the lists only when the plain install fails). */
export function ensureDebianPackage(pkg: DebianPackage): void {
  if (pkg.installed()) return;
  const command = `sudo apt-get install -y ${pkg.name}`;
  if (process.getuid?.() !== 0) throw new Error(`${pkg.missing} is not installed; run: ${command}`);
  const install = ['install', '-y', '-q', '--no-install-recommends', pkg.name];
  let result = apt(install);
  if (!result.ok) {
    apt(['update', '-q']);
    result = apt(install);
  }
  // Another test process may have installed it in the meantime (apt's lock makes one of them fail).
  if (!pkg.installed()) throw new Error(`installing ${pkg.name} failed; run: ${command}\n${result.output}`);
  if (pkg.service) spawnSync('service', [pkg.service, 'stop'], { stdio: 'ignore', timeout: 30_000 });
}
