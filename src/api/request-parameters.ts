import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { ProblemError } from '../errors/problem.js';

/**
 * The longest id a path takes (`orderId`, `holdId`, `subject`, ...), in characters: the same bound as
 * the ids in the event schemas and the API description, so any id an event carries can be asked for.
 */
export const MAX_PATH_PARAMETER_LENGTH = 128;

/**
 * The router's bound on a path segment as sent, percent-encoded: a character takes up to 12 bytes
 * (`%F0%9F%98%80`). Within it `refuseLongPathParameters` counts decoded characters; past it the router
 * refuses the segment itself (`pathSegmentTooLong`).
 */
export const MAX_ENCODED_PATH_SEGMENT = MAX_PATH_PARAMETER_LENGTH * 12;

/**
 * Every query parameter Conveyor takes is a single value, but `?type=a&type=b` reaches the handlers as
 * an array, which they would misread (or fail on with a 500). Installed once as a hook for every
 * route, this answers 400 naming each repeated parameter before any handler sees it.
 */
function refuseRepeatedQueryParameters(request: FastifyRequest): void {
  const query = request.query;
  if (query === null || typeof query !== 'object') return;
  const errors = Object.entries(query as Record<string, unknown>)
    .filter((entry): entry is [string, unknown[]] => Array.isArray(entry[1]))
    .map(([name, values]) => ({
      path: name,
      message: `is given ${values.length} times; give it once (a query parameter takes one value)`,
    }));
  if (errors.length > 0) {
    throw new ProblemError(
      'bad-request',
      `repeated query parameter: ${errors.map((e) => e.path).join(', ')}`,
      {
        errors,
      },
    );
  }
}

/** Installed once as a hook for every route: 400 naming each path parameter over the bound. */
function refuseLongPathParameters(request: FastifyRequest): void {
  const params = request.params;
  if (params === null || typeof params !== 'object') return;
  const errors = Object.entries(params as Record<string, unknown>)
    .filter(([, value]) => typeof value === 'string' && [...value].length > MAX_PATH_PARAMETER_LENGTH)
    .map(([name]) => ({
      path: name,
      message: `must be at most ${MAX_PATH_PARAMETER_LENGTH} characters long`,
    }));
  if (errors.length > 0) {
    throw new ProblemError(
      'bad-request',
      `path parameter too long: ${errors.map((e) => e.path).join(', ')}`,
      {
        errors,
      },
    );
  }
}

/** The problem for a path segment the router refused as too long, before any route was chosen. */
export function pathSegmentTooLong(): ProblemError {
  return new ProblemError('bad-request', 'a path segment is too long', {
    errors: [
      {
        path: 'path',
        message: `a path segment is over ${MAX_PATH_PARAMETER_LENGTH} characters; ids are at most ${MAX_PATH_PARAMETER_LENGTH} characters long`,
      },
    ],
  });
}

/**
 * One synchronous `preValidation` hook for both checks: a hook that returns a promise costs every
 * request an extra turn of the microtask queue, and this one never waits on anything.
 */
export function checkRequestParameters(
  request: FastifyRequest,
  _reply: FastifyReply,
  done: HookHandlerDoneFunction,
): void {
  try {
    refuseRepeatedQueryParameters(request);
    refuseLongPathParameters(request);
  } catch (error) {
    done(error as Error);
    return;
  }
  done();
}
