import { type Logger, pino } from 'pino';

/**
 * The hub's structured logger. Authorization headers and key material are redacted at the
 * serializer so a secret can never reach a log line.
 */
export function createLogger(
  level = process.env.CONVEYOR_LOG_LEVEL ?? 'info',
  destination?: NodeJS.WritableStream,
): Logger {
  return pino(
    {
      level,
      base: { service: 'conveyor' },
      redact: {
        paths: ['req.headers.authorization', 'headers.authorization', 'key', '*.key', 'apiKey', 'token'],
        censor: '[redacted]',
      },
    },
    destination ?? pino.destination({ dest: 2, sync: false }),
  );
}

export type { Logger };
