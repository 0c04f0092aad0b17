import { Type as T } from '@sinclair/typebox';
import { DURATION_PATTERN } from '../../util/duration.js';

/** The `kind: http` connector: a webhook target for routes, or a system of record for commands. */
export const httpConnectorSpec = {
  kind: 'http',
  summary:
    'HTTP: webhook deliveries (CloudEvents structured or binary mode) and request/reply for sync commands.',
  stability: 'stable' as const,
  schema: T.Object(
    {
      kind: T.Literal('http'),
      url: T.Optional(T.String({ description: 'Where route deliveries are POSTed.' })),
      baseUrl: T.Optional(T.String({ description: 'Base of request/reply calls (commands).' })),
      timeout: T.Optional(T.String({ pattern: DURATION_PATTERN, description: 'Per request. @default 5s' })),
      headers: T.Optional(T.Record(T.String(), T.String(), { description: 'Sent with every request.' })),
      circuitBreaker: T.Optional(
        T.Object({
          failureThreshold: T.Optional(T.Integer({ minimum: 1, description: '@default 5' })),
          resetAfter: T.Optional(T.String({ pattern: DURATION_PATTERN, description: '@default 30s' })),
        }),
      ),
      connections: T.Optional(
        T.Integer({
          minimum: 1,
          maximum: 1024,
          description:
            'Keep-alive connections to the endpoint. @default deliveries: the concurrency of the route lanes that use it; commands: 16',
        }),
      ),
      pipelining: T.Optional(
        T.Integer({
          minimum: 1,
          maximum: 100,
          description:
            'HTTP/1.1 requests in flight on one connection; only for endpoints known to answer pipelined requests in order. @default 1',
        }),
      ),
    },
    { additionalProperties: false },
  ),
};
