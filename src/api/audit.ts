import type { FastifyRequest } from 'fastify';
import type { AuditRepository } from '../store/port.js';

/** Records what a request did, acting as its authenticated client, into the audit trail. */
export type RequestAudit = (
  request: FastifyRequest,
  action: string,
  target: string,
  outcome: string,
  detail?: Record<string, unknown>,
) => Promise<void>;

export function requestAudit(audit: AuditRepository, now: () => number = Date.now): RequestAudit {
  return (request, action, target, outcome, detail) =>
    audit.record({
      at: now(),
      actor: request.principal?.client ?? 'anonymous',
      action,
      target,
      outcome,
      ip: request.ip,
      ...(detail ? { detail } : {}),
    });
}
