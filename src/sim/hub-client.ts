import { Agent, request } from 'undici';

/** A small CloudEvents publisher the simulated systems use, over real HTTP like any other client. */
export class HubClient {
  private readonly dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: 4 });

  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
  ) {}

  /** Publishes events as one batch; resolves with the HTTP status (202 when durable). */
  async publish(events: object[]): Promise<number> {
    const response = await request(`${this.baseUrl}/v1/events`, {
      method: 'POST',
      dispatcher: this.dispatcher,
      headers: {
        'content-type': 'application/cloudevents-batch+json',
        authorization: `Bearer ${this.apiKey}`,
      },
      body: JSON.stringify(events),
    });
    await response.body.dump();
    return response.statusCode;
  }

  async close(): Promise<void> {
    // Stopping must not wait for a hub that is itself shutting down.
    await this.dispatcher.destroy();
  }
}
