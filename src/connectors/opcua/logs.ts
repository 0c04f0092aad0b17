/**
 * The OPC UA stack logs through process-wide hooks straight to the console. This routes them to
 * the logger of whatever uses the stack (the latest to register wins): its warnings as debug lines,
 * its errors as warnings, since the connector reports what matters through health.
 */
import { format } from 'node:util';
import type { Logger } from '../../observability/logger.js';

type PrintFunc = (context: unknown, ...args: unknown[]) => void;

interface StackLogHooks {
  setWarningLogger(log: PrintFunc): void;
  setErrorLogger(log: PrintFunc): void;
}

const loggers: Logger[] = [];
let installed = false;

function place(context: unknown): string | undefined {
  const filename = (context as { filename?: unknown } | null)?.filename;
  return typeof filename === 'string' ? filename : undefined;
}

/** Sends the stack's log lines to `logger` until the returned function is called. */
export function routeStackLogs(hooks: StackLogHooks, logger: Logger): () => void {
  if (!installed) {
    installed = true;
    hooks.setWarningLogger((context, ...args) =>
      loggers.at(-1)?.debug({ opcua: place(context) }, format(...args)),
    );
    hooks.setErrorLogger((context, ...args) =>
      loggers.at(-1)?.warn({ opcua: place(context) }, format(...args)),
    );
  }
  loggers.push(logger);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const index = loggers.lastIndexOf(logger);
    if (index >= 0) loggers.splice(index, 1);
  };
}
