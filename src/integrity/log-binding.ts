/**
 * That the event log and the state store belong together. The store refers into the log (dead
 * letters and milestones by sequence; consumers resume from positions), so a log that was emptied,
 * replaced or restored from another backup silently loses every acknowledged event unless this is
 * checked. At the first start a random identity is recorded in both; every later start (and
 * `conveyor doctor`) compares them and checks that nothing points past the log's head.
 */
import { randomUUID } from 'node:crypto';
import type { Config } from '../config/index.js';
import type { EventLog } from '../log/port.js';
import type { StateStore } from '../store/port.js';

/** One thing found wrong, with what to do about it. */
export interface Finding {
  readonly what: string;
  readonly fix: string;
}

/** How to name the log and the store in messages: a file path, a stream, a database. */
export interface Places {
  readonly log: string;
  readonly store: string;
}

/** The log and store a config names, as an operator would recognise them. */
export function placesOf(config: Config): Places {
  const log =
    config.log.kind === 'sqlite'
      ? config.log.path
      : `JetStream stream ${config.log.stream} (${config.log.servers.join(', ')})`;
  const store =
    config.store.kind === 'sqlite' ? config.store.path : `PostgreSQL database ${redactUrl(config.store.url)}`;
  return { log, store };
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(the configured store.url)';
  }
}

export interface PairingState {
  readonly logIdentity: string | null;
  readonly storeIdentity: string | null;
  readonly head: number;
  readonly findings: readonly Finding[];
}

const RESTORE_TOGETHER =
  'restore the log and the state store from the same backup (they must always be saved and restored together); to start afresh on purpose, move both aside';

/** Compares the two without changing either; `findings` is empty when they belong together. */
export async function checkPairing(log: EventLog, store: StateStore, places: Places): Promise<PairingState> {
  const [logIdentity, storeIdentity, consumers, referenced] = await Promise.all([
    log.identity(),
    store.logBinding.identity(),
    log.consumers(),
    store.logBinding.highestSequence(),
  ]);
  const head = log.head();
  const findings: Finding[] = [];
  const isNewLog = head === 0 && consumers.every((c) => c.position === 0);
  if (logIdentity !== null && storeIdentity !== null && logIdentity !== storeIdentity) {
    findings.push({
      what: `the event log ${places.log} does not belong to the state store ${places.store}: the log's identity is ${logIdentity}, the store was bound to log ${storeIdentity}`,
      fix: RESTORE_TOGETHER,
    });
  } else if (logIdentity === null && storeIdentity !== null) {
    findings.push({
      what: isNewLog
        ? `the event log ${places.log} is a new, empty log, but the state store ${places.store} belongs to log ${storeIdentity}: that log's events are missing (was the file deleted, emptied or replaced?)`
        : `the event log ${places.log} is not the log the state store ${places.store} belongs to (log ${storeIdentity}): it has no identity (it is another log, or one from an older version)`,
      fix: `restore ${places.log} from a backup; or ${RESTORE_TOGETHER}`,
    });
  } else if (logIdentity !== null && storeIdentity === null && (await store.logBinding.holdsLogState())) {
    findings.push({
      what: `the state store ${places.store} holds dead letters, milestones or quality holds of a log but records no log identity, while the event log ${places.log} is bound as ${logIdentity}: they were not used together`,
      fix: `restore the state store that belongs to ${places.log}; or ${RESTORE_TOGETHER}`,
    });
  }
  for (const consumer of consumers) {
    if (consumer.position > head)
      findings.push({
        what: `consumer ${consumer.name} of the event log ${places.log} is at sequence ${consumer.position}, past the log's head ${head}: events it had reached are missing from the log`,
        fix: `restore ${places.log} from a backup; or ${RESTORE_TOGETHER}`,
      });
  }
  if (referenced > head)
    findings.push({
      what: `the state store ${places.store} refers to event ${referenced} (a dead letter or milestone), past the head ${head} of the event log ${places.log}: the log lost events or is not the store's`,
      fix: `restore ${places.log} from a backup; or ${RESTORE_TOGETHER}`,
    });
  return { logIdentity, storeIdentity, head, findings };
}

/** Start-up refusal: every finding, each with what to do. */
export class LogBindingError extends Error {
  constructor(readonly findings: readonly Finding[]) {
    super(
      `${findings.map((f) => `${f.what}. To fix: ${f.fix}.`).join('\n')}\n(\`conveyor doctor\` checks the data again without starting the hub.)`,
    );
    this.name = 'LogBindingError';
  }
}

/**
 * Run at every start, before anything reads or writes: refuses a pair that does not belong
 * together, and records one identity in both on the first start (also for a pair made by an
 * older version, which has none yet). The log claims first, then the store takes the log's;
 * both claims keep what is already there, so hubs starting together agree on one identity.
 */
export async function bindLogToStore(log: EventLog, store: StateStore, places: Places): Promise<string> {
  const state = await checkPairing(log, store, places);
  if (state.findings.length > 0) throw new LogBindingError(state.findings);
  const logIdentity = state.logIdentity ?? (await log.claimIdentity(randomUUID()));
  const storeIdentity = state.storeIdentity ?? (await store.logBinding.claimIdentity(logIdentity));
  if (storeIdentity !== logIdentity)
    throw new LogBindingError([
      {
        what: `the state store ${places.store} was bound to log ${storeIdentity} while this hub bound the event log ${places.log} as ${logIdentity} (another hub started on a different log at the same moment)`,
        fix: 'give every hub sharing the store the same log configuration',
      },
    ]);
  return logIdentity;
}
