/**
 * The no-op ceiling for HTTP ingest: fastify with its default JSON parser and a POST route that
 * answers 202 without doing anything. Run as a separate process by the benchmark.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false, bodyLimit: 1_048_576 });
app.addContentTypeParser(
  ['application/cloudevents+json', 'application/cloudevents-batch+json'],
  { parseAs: 'string' },
  (_request, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  },
);
app.post('/v1/events', async (_request, reply) => reply.code(202).send({ ok: true }));
const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening on ${address}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
