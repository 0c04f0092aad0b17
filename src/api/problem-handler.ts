import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ProblemError } from '../errors/problem.js';
import { LogStorageFullError, LogUnavailableError } from '../log/log-errors.js';
import { StoreUnavailableError } from '../store/store-errors.js';
import { pathSegmentTooLong } from './request-parameters.js';

/** A store restart or a log leader election takes seconds. */
const STORE_RETRY_AFTER_SECONDS = 2;

/** Freeing disk space takes an operator (or retention) a while; the log probes for room every 2 s. */
const DISK_FULL_RETRY_AFTER_SECONDS = 5;

const PROBLEM_JSON = 'application/problem+json';

export function sendProblem(reply: FastifyReply, request: FastifyRequest, error: ProblemError): FastifyReply {
  if (error.retryAfterSeconds !== undefined)
    reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
  return reply
    .code(error.status)
    .type(PROBLEM_JSON)
    .send(error.toProblem(request.url.split('?')[0]));
}

/** Maps fastify's own errors onto registry codes so every error the API sends is problem+json. */
function fromFastifyError(error: FastifyError, request: FastifyRequest): ProblemError {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ProblemError(
        'payload-too-large',
        'the request body is over the configured limit (server.bodyLimit)',
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ProblemError(
        'unsupported-media-type',
        `content type "${String(request.headers['content-type'] ?? '(none)').slice(0, 100)}" is not accepted here`,
      );
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return pathSegmentTooLong();
    case 'FST_ERR_BAD_URL':
      return new ProblemError('bad-request', 'the URL is not valid (broken percent-encoding)');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ProblemError('malformed-json', 'the body is empty; send a JSON document');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ProblemError('malformed-json', `the body is not valid JSON: ${error.message}`);
    default:
      break;
  }
  if (error.validation) {
    return new ProblemError('bad-request', 'the request does not match what this endpoint takes', {
      errors: error.validation.map((v) => ({
        path: `${error.validationContext ?? ''}${v.instancePath || ''}`,
        message: v.message ?? 'is invalid',
      })),
    });
  }
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return new ProblemError('bad-request', error.message);
  }
  return new ProblemError(
    'internal',
    'an unexpected error occurred; nothing from this request was acknowledged',
  );
}

/**
 * Turns fastify's router-level failures (a malformed URL) into problems too, for the
 * `frameworkErrors` option. Hooks do not run for these, so `decorate` sets the common headers.
 */
export function frameworkErrorHandler(
  decorate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>,
): (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => void {
  return (error, request, reply) => {
    void decorate(request, reply).then(() => sendProblem(reply, request, fromFastifyError(error, request)));
  };
}

/** Compiles route patterns (`/v1/dlq/:id`) into a lookup of the methods served at a concrete path. */
export function methodIndex(
  routes: ReadonlyArray<{ method: string; url: string }>,
): (path: string) => string[] {
  let compiled: Array<{ pattern: RegExp; method: string }> | null = null;
  return (path) => {
    compiled ??= routes.map((r) => ({
      method: r.method,
      pattern: new RegExp(
        `^${r.url
          .split('/')
          .map((part) =>
            part.startsWith(':')
              ? '[^/]+'
              : part === '*'
                ? '.*'
                : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
          )
          .join('/')}/?$`,
      ),
    }));
    return [...new Set(compiled.filter((c) => c.pattern.test(path)).map((c) => c.method))];
  };
}

export function installProblemHandlers(
  app: FastifyInstance,
  methodsAt: (path: string) => string[] = () => [],
): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem =
      error instanceof ProblemError
        ? error
        : error instanceof StoreUnavailableError
          ? new ProblemError('store-unavailable', `the state store is unavailable: ${error.message}`, {
              retryAfterSeconds: STORE_RETRY_AFTER_SECONDS,
            })
          : error instanceof LogStorageFullError
            ? new ProblemError('log-disk-full', `the event log cannot store this: ${error.message}`, {
                retryAfterSeconds: DISK_FULL_RETRY_AFTER_SECONDS,
              })
            : error instanceof LogUnavailableError
              ? new ProblemError('log-unavailable', `the event log is unavailable: ${error.message}`, {
                  retryAfterSeconds: STORE_RETRY_AFTER_SECONDS,
                })
              : fromFastifyError(error, request);
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, request, problem);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] as string;
    const allowed = methodsAt(path);
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return sendProblem(
        reply,
        request,
        new ProblemError('method-not-allowed', `${path} takes ${allowed.join(', ')}, not ${request.method}`),
      );
    }
    return sendProblem(reply, request, new ProblemError('not-found', `no route ${request.method} ${path}`));
  });
}
