import { ConfigError } from '../config/config-error.js';
import type { Config } from '../config/index.js';
import { compileHttpConnector, type HttpConnectorSettings } from '../connectors/http/http-connector.js';
import type { Clock } from '../delivery/clock.js';
import { SystemOfRecord } from './system-of-record.js';

/** The commands that ask a system of record, and what a demanding config check should know of them. */
export const SYNC_COMMANDS: Readonly<Record<string, string>> = {
  'inventory-reservation': 'POST /v1/inventory/reservations asks the WMS, e.g. path /reservations',
  'shipment-confirmation':
    'POST /v1/shipments/{shipmentId}/confirmation, e.g. path /shipments/{shipmentId}/confirm',
  'supplier-onboarding':
    'POST /v1/suppliers (optional: a supplier master to ask first), e.g. path /suppliers',
};

const PLACEHOLDERS: Readonly<Record<string, readonly string[]>> = {
  'inventory-reservation': [],
  'shipment-confirmation': ['shipmentId'],
  'supplier-onboarding': [],
};

/** Checks `commands:` against the known sync commands and their connectors; compiles each connector once. */
export function compileCommandTargets(
  config: Config,
): Map<string, { settings: HttpConnectorSettings; path: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  const targets = new Map<string, { settings: HttpConnectorSettings; path: string }>();
  const compiled = new Map<string, HttpConnectorSettings>();
  for (const [name, command] of Object.entries(config.commands)) {
    const at = `commands.${name}`;
    if (!Object.hasOwn(SYNC_COMMANDS, name)) {
      problems.push({
        path: at,
        message: `unknown command; configurable ones are ${Object.keys(SYNC_COMMANDS).join(', ')}`,
      });
      continue;
    }
    const raw = config.connectors[command.connector];
    if (raw === undefined) continue; // reported by the config compiler
    if (raw.kind !== 'http') {
      problems.push({
        path: `${at}.connector`,
        message: `connector "${command.connector}" is kind ${raw.kind}; commands call kind http`,
      });
      continue;
    }
    let settings = compiled.get(command.connector);
    if (!settings) {
      settings = compileHttpConnector(command.connector, raw, problems);
      compiled.set(command.connector, settings);
    }
    if (settings.baseUrl === null) {
      problems.push({
        path: `connectors.${command.connector}.baseUrl`,
        message: `${name} needs the system's baseUrl`,
      });
      continue;
    }
    if (!command.path.startsWith('/')) problems.push({ path: `${at}.path`, message: 'must start with "/"' });
    for (const [, placeholder] of command.path.matchAll(/\{([^}]*)\}/g)) {
      if (!(PLACEHOLDERS[name] ?? []).includes(placeholder ?? ''))
        problems.push({
          path: `${at}.path`,
          message: `{${placeholder}} is not known here; ${name} offers ${(PLACEHOLDERS[name] ?? []).map((p) => `{${p}}`).join(', ') || 'no placeholders'}`,
        });
    }
    targets.set(name, { settings, path: command.path });
  }
  if (problems.length > 0) throw new ConfigError('the configuration', problems);
  return targets;
}

/** One SystemOfRecord (pool + circuit breaker) per connector, shared by the commands that use it. */
export class CommandSystems {
  private readonly systems = new Map<string, SystemOfRecord>();
  private readonly targets = new Map<string, { system: SystemOfRecord; path: string }>();

  constructor(config: Config, clock: Clock) {
    for (const [name, { settings, path }] of compileCommandTargets(config)) {
      let system = this.systems.get(settings.name);
      if (!system) {
        system = new SystemOfRecord(settings, clock);
        this.systems.set(settings.name, system);
      }
      this.targets.set(name, { system, path });
    }
  }

  target(command: string): { system: SystemOfRecord; path: string } | undefined {
    return this.targets.get(command);
  }

  /** Circuit state per system of record, for the operations view. */
  states(): Array<{ connector: string; circuit: string; consecutiveFailures: number }> {
    return [...this.systems.values()].map((s) => ({
      connector: s.connector.name,
      circuit: s.breaker.state,
      consecutiveFailures: s.breaker.consecutiveFailures,
    }));
  }

  async close(): Promise<void> {
    await Promise.all([...this.systems.values()].map((s) => s.close()));
  }
}
