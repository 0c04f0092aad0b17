import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../../errors/problem.js';
import {
  agreeWithPath,
  bodyObject,
  type CommandContext,
  refuseHubOwned,
  requireCommand,
  requirePlant,
  timeOrNow,
} from './command-context.js';

/** Releasing production orders (enriched from reference routings) and reporting material consumption. */
export function registerProductionCommands(app: FastifyInstance, ctx: CommandContext): void {
  app.post('/v1/production-orders/:orderId/release', async (request, reply) => {
    const principal = requireCommand(request, 'production-order-release');
    const { orderId } = request.params as { orderId: string };
    const body = bodyObject(
      request,
      '{"plant": "P1", "material": "FG-1000", "quantity": {"value": 100, "uom": "EA"}, "dueDate": "2026-12-01T00:00:00Z"}',
    );
    refuseHubOwned(body, {
      routing: 'the routing comes from the reference data (referenceData.routings); leave it out',
      bom: 'the bill of materials comes from the reference data (referenceData.routings); leave it out',
    });
    agreeWithPath(body, 'orderId', orderId);
    requirePlant(principal, body.plant);
    const data = { ...body, orderId, routing: [], bom: [] };
    // Check the request's own fields before looking up its routing: a bad body is named as such.
    ctx.publisher.prepare(request, principal, [
      { type: 'production.order.released', subject: orderId, data },
    ]);
    const plant = body.plant as string;
    const material = body.material as string;
    const routing = ctx.routings.lookup(plant, material);
    if (!routing) {
      const known = ctx.routings.configured ? ctx.routings.materialsOf(plant) : [];
      throw new ProblemError(
        'unknown-routing',
        ctx.routings.configured
          ? `no routing for material "${material}" at plant "${plant}"${known.length ? ` (the plant has routings for ${known.slice(0, 10).join(', ')})` : ''}`
          : 'no routings are configured (referenceData.routings), so no order can be enriched',
        { errors: [{ path: '/material', message: `has no routing at plant ${plant}` }] },
      );
    }
    const events = await ctx.publisher.publish(request, principal, [
      {
        type: 'production.order.released',
        subject: orderId,
        plant,
        data: { ...data, routing: routing.routing, bom: routing.bom },
      },
    ]);
    return reply.code(202).send({ orderId, events });
  });

  app.post('/v1/material-consumptions', async (request, reply) => {
    const principal = requireCommand(request, 'material-consumption');
    const body = bodyObject(
      request,
      '{"orderId": "PO-1", "plant": "P1", "material": "RM-10", "quantity": {"value": 5, "uom": "KG"}, "lot": "L-7"}',
    );
    requirePlant(principal, body.plant);
    const data = { ...body, consumedAt: timeOrNow(body.consumedAt, ctx.now) };
    const events = await ctx.publisher.publish(request, principal, [
      {
        type: 'production.material.consumed',
        subject: String(body.orderId ?? ''),
        plant: body.plant as string,
        data,
      },
    ]);
    return reply.code(202).send({ events });
  });
}
