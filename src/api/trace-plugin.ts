import type { FastifyInstance } from 'fastify';
import jsonata from 'jsonata';
import type { Config } from '../config/index.js';
import type { DeliveryEngine } from '../delivery/engine.js';
import { ProblemError } from '../errors/problem.js';
import { type EventLog, typeMatcher } from '../log/port.js';
import type { StoredEvent } from '../model/envelope.js';
import type { StateStore } from '../store/port.js';
import { requirePrincipal } from './auth-plugin.js';
import { readableTypes } from './events-plugin.js';

export interface TracePluginOptions {
  readonly config: Config;
  readonly log: EventLog;
  readonly store: StateStore;
  readonly delivery: DeliveryEngine;
}

/** Most events one trace shows. */
const TRACE_LIMIT = 1000;

type DeliveryState = 'pending' | 'done' | 'dead-lettered' | 'filtered-out';

/**
 * `GET /v1/trace/{subject}`: the story of one business object (an order, lot, hold or shipment):
 * every event with that subject the client may read, in log order, and for each the routes it
 * goes to and how far each is (pending, done, dead-lettered with the reason, or filtered out).
 */
export async function tracePlugin(app: FastifyInstance, options: TracePluginOptions): Promise<void> {
  const { config, log, store, delivery } = options;
  const routes = config.routes.map((route) => ({
    name: route.name,
    sink: route.sink,
    matches: typeMatcher(route.types),
    filter: route.filter ? jsonata(route.filter) : null,
  }));

  app.get('/v1/trace/:subject', async (request) => {
    const principal = requirePrincipal(request);
    const { subject } = request.params as { subject: string };
    const types = readableTypes(principal);
    if (types !== undefined && types.length === 0)
      throw new ProblemError('forbidden', 'tracing needs an events:read:<domain> scope');
    const events: StoredEvent[] = [];
    for (let after = 0; events.length < TRACE_LIMIT; ) {
      const page = await log.read({
        subject,
        types,
        ...(principal.plants !== null ? { plants: [...principal.plants] } : {}),
        after,
        limit: Math.min(1000, TRACE_LIMIT - events.length),
      });
      events.push(...page);
      const last = page[page.length - 1];
      if (!last || page.length < 1000) break;
      after = last.sequence;
    }
    if (events.length === 0)
      throw new ProblemError('not-found', `no events with subject "${subject}" that this client may read`);
    const positions = new Map(delivery.subscriptions().map((s) => [s.name, s.position]));
    const dead = new Map<string, Array<{ route: string; id: string; reason: string; status: string }>>();
    for (const entry of await store.deadLetters.forEvents(events.map((e) => e.id))) {
      const list = dead.get(entry.event.id) ?? [];
      list.push({ route: entry.route, id: entry.id, reason: entry.reason, status: entry.status });
      dead.set(entry.event.id, list);
    }
    const items = [];
    for (const event of events) {
      const deliveries = [];
      for (const route of routes) {
        if (!route.matches(event.type)) continue;
        const letter = dead.get(event.id)?.find((d) => d.route === route.name);
        let state: DeliveryState;
        if (letter) state = 'dead-lettered';
        else if (route.filter && !(await route.filter.evaluate(event))) state = 'filtered-out';
        else state = (positions.get(route.name) ?? 0) >= event.sequence ? 'done' : 'pending';
        deliveries.push({
          route: route.name,
          sink: route.sink,
          state,
          ...(letter ? { deadLetter: { id: letter.id, reason: letter.reason, status: letter.status } } : {}),
        });
      }
      items.push({ event, deliveries });
    }
    return { subject, items, truncated: events.length === TRACE_LIMIT };
  });
}
