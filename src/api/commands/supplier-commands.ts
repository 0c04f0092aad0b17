import type { FastifyInstance, FastifyRequest } from 'fastify';
import { clientRecordFor, generateApiKey } from '../../auth/api-keys.js';
import type { Principal } from '../../auth/principal.js';
import type { CommandEvent } from '../../commands/publisher.js';
import { EdiError, parseAsn } from '../../edi/index.js';
import { ProblemError } from '../../errors/problem.js';
import type { SupplierRecord } from '../../store/port.js';
import { requestAudit } from '../audit.js';
import { replayWith } from '../idempotency.js';
import {
  askSystemOfRecord,
  bodyObject,
  type CommandContext,
  requireCommand,
  requirePlant,
} from './command-context.js';

const SUPPLIER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The scope a supplier's own credential carries. */
export const SUPPLIER_ASN_SCOPE = 'commands:supplier-asn';

/** The client name of a supplier's credential. */
export const supplierClientName = (supplierId: string) => `supplier-${supplierId}`;

function validateOnboarding(body: Record<string, unknown>): {
  supplierId: string;
  name: string;
  plants: string[];
} {
  const errors: Array<{ path: string; message: string }> = [];
  if (typeof body.supplierId !== 'string' || !SUPPLIER_ID.test(body.supplierId))
    errors.push({
      path: '/supplierId',
      message: 'must be letters, digits, ".", "_" or "-" (at most 64 characters)',
    });
  if (typeof body.name !== 'string' || body.name.trim() === '')
    errors.push({ path: '/name', message: "must be the supplier's name" });
  if (
    !Array.isArray(body.plants) ||
    body.plants.length === 0 ||
    !body.plants.every((p) => typeof p === 'string' && /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/.test(p))
  )
    errors.push({
      path: '/plants',
      message: 'must list the plant codes the supplier delivers to, e.g. ["P1"]',
    });
  if (errors.length > 0)
    throw new ProblemError('validation-failed', 'the supplier cannot be onboarded', { errors });
  return {
    supplierId: body.supplierId as string,
    name: (body.name as string).trim(),
    plants: [...new Set(body.plants as string[])],
  };
}

/** A supplier credential acts only for its own supplier id; other clients need the scope alone. */
function requireOwnSupplier(principal: Principal, supplierId: string): void {
  if (principal.supplierId !== null && principal.supplierId !== supplierId) {
    throw new ProblemError(
      'forbidden',
      `this credential belongs to supplier "${principal.supplierId}"; it may only send that supplier's ASNs`,
    );
  }
}

const FORMATS: Readonly<Record<string, 'x12' | 'edifact'>> = {
  'application/edi-x12': 'x12',
  'application/edifact': 'edifact',
};

/** ASN bodies: the canonical JSON, or the EDI interchange parsed and mapped. */
function asnEvents(
  request: FastifyRequest,
  supplier: SupplierRecord,
): { specs: CommandEvent[]; warnings: string[] } {
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const format = FORMATS[contentType];
  const query = request.query as { plant?: string; utcOffset?: string };
  const spec = (data: Record<string, unknown>): CommandEvent => ({
    type: 'supplier.asn.received',
    subject: String(data.asnId ?? ''),
    plant: data.plant as string,
    data,
  });
  if (!format) {
    const body = bodyObject(
      request,
      '{"asnId": "ASN-1", "plant": "P1", "shipDate": "2026-12-01", "lines": [{"material": "RM-10", "quantity": {"value": 5, "uom": "KG"}}]}',
    );
    if (body.supplierId !== undefined && body.supplierId !== supplier.supplierId) {
      throw new ProblemError('validation-failed', 'supplierId in the body differs from the one in the path', {
        errors: [{ path: '/supplierId', message: `must be "${supplier.supplierId}" or left out` }],
      });
    }
    return { specs: [spec({ ...body, supplierId: supplier.supplierId })], warnings: [] };
  }
  const raw = request.body;
  if (!Buffer.isBuffer(raw) || raw.length === 0)
    throw new ProblemError(
      'invalid-edi',
      `the ${format === 'x12' ? 'X12 856' : 'EDIFACT DESADV'} body is empty`,
    );
  // A supplier delivering to one plant needs not name it; otherwise ?plant= or the ship-to party decides.
  const plant = query.plant ?? (supplier.plants.length === 1 ? supplier.plants[0] : undefined);
  try {
    const parsed = parseAsn(raw, format, {
      ...(plant !== undefined ? { plant } : {}),
      ...(query.utcOffset !== undefined ? { utcOffset: query.utcOffset } : {}),
    });
    const specs = parsed.asns.map((asn) => {
      const partner = asn.data.supplierId;
      return spec({
        ...asn.data,
        supplierId: supplier.supplierId,
        ...(partner !== supplier.supplierId ? { partnerId: partner } : {}),
      });
    });
    return { specs, warnings: [...parsed.warnings, ...parsed.asns.flatMap((a) => a.warnings)] };
  } catch (error) {
    if (error instanceof EdiError) {
      const at = [
        error.segmentIndex !== undefined ? `segment ${error.segmentIndex + 1}` : null,
        error.tag ? `(${error.tag})` : null,
        error.line !== undefined ? `line ${error.line}` : null,
      ]
        .filter(Boolean)
        .join(' ');
      throw new ProblemError('invalid-edi', error.message, {
        errors: [{ path: at || '/', message: error.message }],
        extensions: { ediCode: error.code, format },
      });
    }
    if (error instanceof RangeError) {
      throw new ProblemError('bad-request', error.message, {
        errors: [{ path: 'query/utcOffset', message: error.message }],
      });
    }
    throw error;
  }
}

/** Onboarding suppliers (with a credential for their own ASNs) and taking their ASNs. */
export function registerSupplierCommands(app: FastifyInstance, ctx: CommandContext): void {
  const audit = requestAudit(ctx.store.audit);
  app.post('/v1/suppliers', async (request, reply) => {
    const principal = requireCommand(request, 'supplier-onboarding');
    const input = validateOnboarding(
      bodyObject(request, '{"supplierId": "SUP-7", "name": "Acme Castings", "plants": ["P1"]}'),
    );
    input.plants.forEach((plant, i) => {
      requirePlant(principal, plant, `/plants/${i}`);
    });
    const events = ctx.publisher.prepare(request, principal, [
      {
        type: 'supplier.onboarded',
        subject: input.supplierId,
        data: { ...(request.body as object), ...input },
      },
    ]);
    if (await ctx.store.suppliers.get(input.supplierId))
      throw new ProblemError('conflict', `supplier "${input.supplierId}" is already onboarded`, {
        errors: [{ path: '/supplierId', message: 'is already onboarded' }],
      });
    ctx.publisher.admit(events);
    // A configured supplier-master system (ERP) is asked first; without one the hub's record is the master.
    const answer = ctx.systemFor('supplier-onboarding')
      ? await askSystemOfRecord(ctx, 'supplier-onboarding', {}, input, request)
      : null;
    const added = await ctx.store.suppliers.add({
      ...input,
      createdAt: ctx.now(),
      createdBy: principal.client,
    });
    if (!added) throw new ProblemError('conflict', `supplier "${input.supplierId}" is already onboarded`);
    const key = generateApiKey();
    const client = supplierClientName(input.supplierId);
    await ctx.store.clients.upsert(
      clientRecordFor(client, key, [SUPPLIER_ASN_SCOPE], input.plants, ctx.now(), {
        supplierId: input.supplierId,
      }),
    );
    const published = await ctx.publisher.appendAdmitted(events);
    await audit(request, 'supplier.onboard', input.supplierId, 'done', {
      credential: client,
      plants: input.plants,
    });
    const answerBody = {
      ...input,
      credential: { client, key, scopes: [SUPPLIER_ASN_SCOPE] },
      ...(answer ? { result: answer.body } : {}),
      events: published,
    };
    // The key is shown once; a replayed answer says so instead of keeping it in the clear.
    replayWith(request, {
      ...answerBody,
      credential: {
        client,
        key: null,
        scopes: [SUPPLIER_ASN_SCOPE],
        note: 'shown only once; re-key with POST /v1/clients',
      },
    });
    return reply.code(201).send(answerBody);
  });

  app.post('/v1/suppliers/:supplierId/asns', async (request, reply) => {
    const principal = requireCommand(request, 'supplier-asn');
    const { supplierId } = request.params as { supplierId: string };
    requireOwnSupplier(principal, supplierId);
    const supplier = await ctx.store.suppliers.get(supplierId);
    if (!supplier)
      throw new ProblemError('not-found', `no supplier "${supplierId}"; onboard it with POST /v1/suppliers`);
    const { specs, warnings } = asnEvents(request, supplier);
    specs.forEach((spec, i) => {
      const path = specs.length > 1 ? `/asns/${i}/plant` : '/plant';
      if (typeof spec.plant === 'string' && !supplier.plants.includes(spec.plant)) {
        throw new ProblemError(
          'forbidden',
          `supplier "${supplierId}" does not deliver to plant "${spec.plant}"`,
          {
            errors: [{ path, message: `must be one of ${supplier.plants.join(', ')}` }],
          },
        );
      }
      requirePlant(principal, spec.plant, path);
    });
    const events = await ctx.publisher.publish(request, principal, specs);
    return reply.code(202).send({ supplierId, events, ...(warnings.length > 0 ? { warnings } : {}) });
  });
}
