import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../../errors/problem.js';
import { endRequestTrace, startRequestTrace } from '../../observability/request-trace.js';
import type { CommandContext } from './command-context.js';
import { registerProductionCommands } from './production-commands.js';
import { registerQualityCommands } from './quality-commands.js';
import { registerRecordCommands } from './record-commands.js';
import { registerSupplierCommands } from './supplier-commands.js';

const EDI_TYPES = ['application/edi-x12', 'application/edifact'];

/** The governed commands of the API: each checks, then publishes canonical events. */
export async function commandsPlugin(app: FastifyInstance, ctx: CommandContext): Promise<void> {
  // EDI bodies stay raw for the ASN parsers; every other command takes JSON only.
  app.addContentTypeParser(EDI_TYPES, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  if (ctx.tracing?.enabled) {
    // Named `conveyor.command <name>` once the handler says which command it is.
    const tracing = ctx.tracing;
    app.addHook('onRequest', async (request) => {
      startRequestTrace(request, tracing, 'conveyor.command');
    });
    app.addHook('onResponse', async (request, reply) => endRequestTrace(request, reply));
  }
  app.addHook('preValidation', async (request) => {
    if (!Buffer.isBuffer(request.body)) return;
    if (request.routeOptions.url === '/v1/suppliers/:supplierId/asns') return;
    throw new ProblemError('unsupported-media-type', 'this command takes application/json');
  });
  registerProductionCommands(app, ctx);
  registerQualityCommands(app, ctx);
  registerRecordCommands(app, ctx);
  registerSupplierCommands(app, ctx);
}
