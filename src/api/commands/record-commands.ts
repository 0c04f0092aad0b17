import type { FastifyInstance } from 'fastify';
import type { RecordAnswer } from '../../commands/system-of-record.js';
import { ProblemError } from '../../errors/problem.js';
import { requestAudit } from '../audit.js';
import {
  agreeWithPath,
  askSystemOfRecord,
  bodyObject,
  type CommandContext,
  refuseHubOwned,
  requireCommand,
  requirePlant,
  timeOrNow,
} from './command-context.js';

/** Ids a system of record hands back must be sane: short, printable, no control characters. */
const RECORD_ID = /^[\x21-\x7e][\x20-\x7e]{0,127}$/;

function answerField(answer: RecordAnswer, field: string, system: string): string {
  const value = (answer.body as Record<string, unknown> | null)?.[field];
  if (typeof value !== 'string' || !RECORD_ID.test(value)) {
    throw new ProblemError(
      'system-of-record-unavailable',
      `the system of record for this command answered ${answer.status} without a usable "${field}" (1 to 128 printable characters); nothing was published`,
      { retryAfterSeconds: 5, extensions: { upstream: { system, status: answer.status } } },
    );
  }
  return value;
}

/**
 * The sync commands: the system of record (WMS) decides, with the connector's timeout and circuit
 * breaker; the hub publishes the event only once it has said yes, and answers with what it said.
 */
export function registerRecordCommands(app: FastifyInstance, ctx: CommandContext): void {
  const audit = requestAudit(ctx.store.audit, ctx.now);
  app.post('/v1/inventory/reservations', async (request, reply) => {
    const principal = requireCommand(request, 'inventory-reservation');
    const body = bodyObject(
      request,
      '{"plant": "P1", "material": "RM-10", "quantity": {"value": 5, "uom": "KG"}}',
    );
    refuseHubOwned(body, { reservationId: 'the warehouse system assigns the reservation id; leave it out' });
    requirePlant(principal, body.plant);
    const plant = body.plant as string;
    // Validate before asking the WMS: it must never see a request the hub would refuse.
    const pending = ctx.publisher.prepare(request, principal, [
      {
        type: 'inventory.reservation.created',
        subject: 'pending',
        plant,
        data: { ...body, reservationId: 'pending' },
      },
    ]);
    ctx.publisher.admit(pending);
    const answer = await askSystemOfRecord(ctx, 'inventory-reservation', {}, body, request);
    const reservationId = answerField(answer, 'reservationId', 'inventory-reservation');
    const prepared = ctx.publisher.prepare(request, principal, [
      {
        type: 'inventory.reservation.created',
        subject: reservationId,
        plant,
        data: { ...body, reservationId },
      },
    ]);
    const events = await ctx.publisher.appendAdmitted(prepared);
    return reply.code(201).send({ result: answer.body, events });
  });

  app.post('/v1/shipments/:shipmentId/confirmation', async (request, reply) => {
    const principal = requireCommand(request, 'shipment-confirmation');
    const { shipmentId } = request.params as { shipmentId: string };
    const body = bodyObject(
      request,
      '{"plant": "P1", "lines": [{"material": "FG-1000", "quantity": {"value": 10, "uom": "EA"}, "lots": ["L-1"]}]}',
    );
    agreeWithPath(body, 'shipmentId', shipmentId);
    requirePlant(principal, body.plant);
    const plant = body.plant as string;
    const data = { ...body, shipmentId, shippedAt: timeOrNow(body.shippedAt, ctx.now) };
    const events = ctx.publisher.prepare(request, principal, [
      { type: 'logistics.shipment.confirmed', subject: shipmentId, plant, data },
    ]);
    const lots = (body.lines as Array<{ lots: string[] }>).flatMap((line) => line.lots);
    await ctx.holds.catchUp();
    const blocking = await ctx.store.holds.blockingLots(plant, lots);
    if (blocking.length > 0) {
      const holds = blocking.map((h) => ({
        holdId: h.holdId,
        lots: h.lots.filter((lot) => lots.includes(lot)),
        reason: h.reason,
        status: h.status,
        ...(h.disposition ? { disposition: h.disposition } : {}),
      }));
      // A refused shipment is a business fact operations must see (the console's blocked shipments).
      await audit(request, 'shipment.blocked', shipmentId, 'refused', {
        plant,
        lots: [...new Set(holds.flatMap((h) => h.lots))],
        holds: holds.map((h) => h.holdId),
      });
      throw new ProblemError(
        'shipment-blocked-by-quality-hold',
        holds
          .map((h) => `lot ${h.lots.join(', ')} is under quality hold ${h.holdId} (${h.reason})`)
          .join('; '),
        { extensions: { holds } },
      );
    }
    ctx.publisher.admit(events);
    const answer = await askSystemOfRecord(ctx, 'shipment-confirmation', { shipmentId }, data, request);
    const published = await ctx.publisher.appendAdmitted(events);
    return reply.code(201).send({ result: answer.body, events: published });
  });
}
