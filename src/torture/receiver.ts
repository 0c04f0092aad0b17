import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { CloudEvent } from '../model/envelope.js';
import type { Delivery } from './checker.js';
import { peerProcess } from './peer-process.js';
import type { ReceiverMode, TortureRoute } from './routes.js';
import { digestOf, keyOf, seededRandom } from './workload.js';

/** What the receiver did with attempts, per route: for the report and for the duplicate bound. */
export interface ReceiverCounts {
  accepted: number;
  failed: number;
  reset: number;
  stalled: number;
  late: number;
  rejected: number;
}

/**
 * The endpoint of every torture route (`/<route>`): it records each delivery it accepts, with the
 * route's current epoch, and misbehaves as the route's mode says. `flaky` answers 503, resets the
 * connection, stalls past the route's timeout without answering, or accepts and answers too late
 * (so the hub repeats it); `poison` rejects the events it is told are poison with a 400 until they
 * are healed (their dead letters are then replayed).
 */
export class TortureReceiver {
  readonly deliveries: Delivery[] = [];
  readonly counts = new Map<string, ReceiverCounts>();
  url = '';
  private readonly routes = new Map<string, TortureRoute>();
  private readonly epochs = new Map<string, number>();
  private readonly poison = new Set<string>();
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly random: () => number;
  private misbehaving = true;
  private readonly outages = new Set<string>();
  /** The hub processes that may deliver (their pids), to tell which one sent a delivery. */
  senders: () => readonly number[] = () => [];
  private readonly senderOf = new WeakMap<Socket, string>();
  private readonly ids = new Map<string, Set<string>>();
  private readonly highest = new Map<string, number>();
  private readonly arrivals = new Map<string, number[]>();

  constructor(routes: readonly TortureRoute[], seed: number) {
    for (const r of routes) this.addRoute(r);
    this.random = seededRandom(seed ^ 0x5eed);
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () =>
        this.handle(req.url ?? '/', Buffer.concat(chunks).toString('utf8'), req.socket, res),
      );
    });
    this.server.keepAliveTimeout = 30_000;
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      const pid = peerProcess(socket.remotePort ?? 0, socket.localPort ?? 0, this.senders());
      this.senderOf.set(socket, pid === undefined ? 'unknown' : String(pid));
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  addRoute(route: TortureRoute): void {
    this.routes.set(route.name, route);
    if (!this.epochs.has(route.name)) this.epochs.set(route.name, 0);
    if (!this.ids.has(route.name)) this.ids.set(route.name, new Set());
    if (!this.arrivals.has(route.name)) this.arrivals.set(route.name, []);
    if (!this.counts.has(route.name))
      this.counts.set(route.name, { accepted: 0, failed: 0, reset: 0, stalled: 0, late: 0, rejected: 0 });
  }

  /** A fault that may legitimately repeat deliveries happened (restart, failover, replay). */
  nextEpoch(route?: string): void {
    for (const name of route ? [route] : [...this.epochs.keys()])
      this.epochs.set(name, (this.epochs.get(name) ?? 0) + 1);
  }

  epochOf(route: string): number {
    return this.epochs.get(route) ?? 0;
  }

  /** Ids the route's endpoint has accepted so far. */
  deliveredIds(route: string): ReadonlySet<string> {
    return this.ids.get(route) ?? new Set();
  }

  /** The highest log position delivered on the route so far. */
  highestSequence(route: string): number {
    return this.highest.get(route) ?? 0;
  }

  /** Deliveries the route's endpoint accepted in the last `ms` milliseconds. */
  deliveredWithin(route: string, ms: number): number {
    const list = this.arrivals.get(route) ?? [];
    const since = performance.now() - ms;
    let count = 0;
    for (let i = list.length - 1; i >= 0 && (list[i] as number) >= since; i--) count++;
    return count;
  }

  /** Marks an event as poison: the poison route rejects it until `heal`. */
  poisonEvent(id: string): void {
    this.poison.add(id);
  }

  heal(id: string): void {
    this.poison.delete(id);
  }

  healAll(): void {
    this.poison.clear();
  }

  /** The route's endpoint answers 503 to everything until `endOutage`. */
  startOutage(route: string): void {
    this.outages.add(route);
  }

  endOutage(route: string): void {
    this.outages.delete(route);
  }

  /** After the faults: every route answers at once with 2xx (poison still applies until healed). */
  behave(): void {
    this.misbehaving = false;
  }

  private handle(path: string, body: string, socket: Socket, res: import('node:http').ServerResponse): void {
    const name = path.slice(1).split('?')[0] ?? '';
    const route = this.routes.get(name);
    const counts = this.counts.get(name);
    if (!route || !counts) {
      res.writeHead(404).end();
      return;
    }
    let event: CloudEvent & { sequence?: number };
    try {
      event = JSON.parse(body) as CloudEvent & { sequence?: number };
    } catch {
      res.writeHead(400).end();
      return;
    }
    const accept = (late: boolean) => {
      this.ids.get(name)?.add(event.id);
      this.highest.set(name, Math.max(this.highest.get(name) ?? 0, Number(event.sequence) || 0));
      this.arrivals.get(name)?.push(performance.now());
      this.deliveries.push({
        route: name,
        id: event.id,
        sequence: Number(event.sequence),
        key: keyOf(event),
        digest: digestOf(event),
        epoch: this.epochs.get(name) ?? 0,
        late,
        at: performance.now(),
        sender: this.senderOf.get(socket) ?? 'unknown',
      });
      counts.accepted++;
    };
    if (this.outages.has(name)) {
      counts.failed++;
      res.writeHead(503).end();
      return;
    }
    const mode: ReceiverMode = route.mode;
    if (mode === 'poison' && this.poison.has(event.id)) {
      counts.rejected++;
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"poison"}');
      return;
    }
    if (mode === 'flaky' && this.misbehaving) {
      const roll = this.random();
      if (roll < 0.08) {
        counts.failed++;
        res.writeHead(503).end();
        return;
      }
      if (roll < 0.12) {
        counts.reset++;
        socket.destroy();
        return;
      }
      if (roll < 0.14) {
        // Never answers: the hub's timeout ends the attempt and it closes the connection.
        counts.stalled++;
        return;
      }
      if (roll < 0.17) {
        counts.late++;
        accept(true);
        setTimeout(() => {
          if (!res.destroyed) res.writeHead(204).end();
        }, route.timeoutMs + 200);
        return;
      }
    }
    accept(false);
    res.writeHead(204).end();
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
