import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

/** Binary encoding ids (ns=0) of the two session requests the proxy tells apart. */
const CREATE_SESSION_REQUEST = 461;
const ACTIVATE_SESSION_REQUEST = 467;
/** Message header (8) + secure channel id (4) + token id (4) + sequence number (4) + request id (4). */
const MSG_BODY_OFFSET = 24;

/**
 * A TCP proxy in front of an OPC UA server (security mode None) that can play a server which hangs
 * up on a client trying to resume a session it does not know, as some server stacks do after a
 * restart: once `forgetSessions` is set, a connection whose first session request is an
 * ActivateSession (a reactivation; a new session starts with CreateSession) is cut. A client that
 * only ever tries to reactivate never gets its session back; one that starts a new session does.
 */
export class OpcuaResumeBreaker {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private port = 0;
  /** Cut reactivations from now on. */
  forgetSessions = false;
  /** Connections cut because they tried to reactivate a session. */
  cutReactivations = 0;

  constructor(
    private readonly target: { host: string; port: number },
    private readonly host = '127.0.0.1',
  ) {}

  get endpointUrl(): string {
    return `opc.tcp://${this.host}:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((client) => this.pipe(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, this.host, () => resolve());
    });
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('the proxy has no port');
    this.port = address.port;
    this.server = server;
  }

  /** Cuts every connection open now (the server side sees them end too). */
  cutAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.cutAll();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private pipe(client: Socket): void {
    const upstream = tcpConnect(this.target);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', cut);
      socket.on('close', () => {
        this.sockets.delete(socket);
        cut();
      });
    }
    upstream.on('data', (data) => client.write(data));
    let pending = Buffer.alloc(0);
    let sessionSeen = false;
    // The first chunk of a message carries its type; the following chunks of the same one do not.
    let continuing = false;
    client.on('data', (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      while (pending.length >= 8) {
        const size = pending.readUInt32LE(4);
        if (size < 8 || pending.length < size) break;
        const chunk = pending.subarray(0, size);
        pending = pending.subarray(size);
        const kind = chunk.toString('latin1', 0, 3);
        const final = chunk.toString('latin1', 3, 4);
        if (kind === 'MSG' && !continuing && !sessionSeen && chunk.length >= MSG_BODY_OFFSET + 4) {
          const request = typeId(chunk, MSG_BODY_OFFSET);
          if (request === ACTIVATE_SESSION_REQUEST && this.forgetSessions) {
            this.cutReactivations++;
            cut();
            return;
          }
          if (request === CREATE_SESSION_REQUEST || request === ACTIVATE_SESSION_REQUEST) sessionSeen = true;
        }
        if (kind === 'MSG') continuing = final === 'C';
        upstream.write(chunk);
      }
    });
  }
}

/** The numeric id of an encoded ns=0 NodeId (two-byte or four-byte form), else null. */
function typeId(chunk: Buffer, at: number): number | null {
  const form = chunk[at];
  if (form === 0x00) return chunk[at + 1] ?? null;
  if (form === 0x01 && chunk[at + 1] === 0) return chunk.readUInt16LE(at + 2);
  return null;
}
