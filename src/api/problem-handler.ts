import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ProblemError } from '../errors/problem.js';

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
function fromFastifyError(error: FastifyError): ProblemError {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ProblemError(
        'payload-too-large',
        'the request body is over the configured limit (server.bodyLimit)',
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ProblemError(
        'unsupported-media-type',
        `content type "${error.message.split("'")[1] ?? ''}" is not accepted here`,
      );
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

export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = error instanceof ProblemError ? error : fromFastifyError(error);
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, request, problem);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      request,
      new ProblemError('not-found', `no route ${request.method} ${request.url.split('?')[0]}`),
    ),
  );
}
