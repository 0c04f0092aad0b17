import type { FastifyInstance } from 'fastify';
import type { CommandEvent } from '../../commands/publisher.js';
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

/** Dispositions after which the hold stays in force: the lots are scrapped or sent back. */
const KEEPS_HOLD = new Set(['scrap', 'return-to-supplier']);

/** Placing quality holds and deciding their disposition. */
export function registerQualityCommands(app: FastifyInstance, ctx: CommandContext): void {
  app.post('/v1/quality/holds', async (request, reply) => {
    const principal = requireCommand(request, 'quality-hold');
    const body = bodyObject(
      request,
      '{"plant": "P1", "material": "FG-1000", "lots": ["L-1"], "reason": "dimension out of tolerance"}',
    );
    refuseHubOwned(body, { status: 'a hold is active when placed; decide a disposition to end it' });
    requirePlant(principal, body.plant);
    // Derived from the Idempotency-Key when there is one, so a late retry names the same hold.
    const holdId = body.holdId === undefined ? ctx.publisher.keyedId(request, principal, 'QH') : body.holdId;
    const data = { ...body, holdId, placedAt: timeOrNow(body.placedAt, ctx.now) };
    const events = ctx.publisher.prepare(request, principal, [
      { type: 'quality.hold.placed', subject: String(holdId), plant: body.plant as string, data },
    ]);
    await ctx.holds.catchUp();
    // Hold ids are unique for good: reusing one (even of a released hold, or another plant's)
    // would rewrite that hold's history.
    const existing = await ctx.store.holds.get(String(holdId));
    if (existing) {
      throw new ProblemError(
        'conflict',
        `hold id ${String(holdId)} is already used; leave holdId out to have one assigned`,
        {
          errors: [{ path: '/holdId', message: 'is already used by another hold' }],
        },
      );
    }
    const published = await ctx.publisher.append(events);
    await ctx.holds.catchUp();
    return reply.code(202).send({ holdId, events: published });
  });

  app.post('/v1/quality/holds/:holdId/disposition', async (request, reply) => {
    const principal = requireCommand(request, 'quality-disposition');
    const { holdId } = request.params as { holdId: string };
    const body = bodyObject(request, '{"disposition": "use-as-is"}');
    agreeWithPath(body, 'holdId', holdId);
    await ctx.holds.catchUp();
    const hold = await ctx.store.holds.get(holdId);
    // Another plant's hold is reported as missing, like any object outside the client's plants.
    if (!hold || (principal.plants !== null && !principal.plants.has(hold.plant)))
      throw new ProblemError('not-found', `no quality hold "${holdId}"`);
    requirePlant(principal, hold.plant);
    agreeWithPath(body, 'plant', hold.plant);
    const decidedAt = timeOrNow(body.decidedAt, ctx.now);
    const disposition = body.disposition;
    const specs: CommandEvent[] = [
      {
        type: 'quality.disposition.decided',
        subject: holdId,
        plant: hold.plant,
        data: { ...body, holdId, plant: hold.plant, decidedAt },
      },
    ];
    if (typeof disposition !== 'string' || !KEEPS_HOLD.has(disposition)) {
      specs.push({
        type: 'quality.hold.released',
        subject: holdId,
        plant: hold.plant,
        data: { holdId, plant: hold.plant, releasedAt: decidedAt },
      });
    }
    const events = ctx.publisher.prepare(request, principal, specs);
    if (hold.status !== 'active') {
      throw new ProblemError(
        'conflict',
        `hold ${holdId} is ${hold.status}${hold.disposition ? ` (${hold.disposition})` : ''}; only an active hold takes a disposition`,
      );
    }
    const published = await ctx.publisher.append(events);
    await ctx.holds.catchUp();
    return reply.code(202).send({ holdId, events: published });
  });
}
