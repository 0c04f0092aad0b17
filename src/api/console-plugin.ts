import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ProblemError } from '../errors/problem.js';
import { sendProblem } from './problem-handler.js';

export interface ConsolePluginOptions {
  /** The built console: `index.html` and `assets/`. @default dist/console (next to the compiled hub) */
  readonly root?: string;
}

/** Where the console's hashed bundles are served from. */
export const CONSOLE_ASSETS_PREFIX = '/assets';

/** Paths the API owns: a console route never answers there, so their 404 and 405 stay problems. */
const API_PREFIXES = ['/v1', '/docs', '/metrics', '/healthz', '/readyz', CONSOLE_ASSETS_PREFIX];

const DEFAULT_ROOT = fileURLToPath(new URL('../../console/', import.meta.url));

function isApiPath(path: string): boolean {
  return API_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`));
}

function acceptsHtml(request: FastifyRequest): boolean {
  return String(request.headers.accept ?? '').includes('text/html');
}

/**
 * The web console: `/` and any other page path a browser asks for (the console routes on the
 * client) answer the console's page, and `/assets/*` its hashed bundles with a long cache. The
 * page and bundles hold no data, so they need no credentials; the console asks for an API key and
 * sends it with each API call.
 */
export const consolePlugin = fp(
  async (app: FastifyInstance, options: ConsolePluginOptions) => {
    const root = options.root ?? DEFAULT_ROOT;
    const page = async (reply: FastifyReply): Promise<FastifyReply> => {
      let html: string;
      try {
        // Read each time: a rebuild while the hub runs changes the bundle names the page refers to.
        html = await readFile(join(root, 'index.html'), 'utf8');
      } catch {
        throw new ProblemError(
          'unavailable',
          `the web console is not built (no ${join(root, 'index.html')}); run \`npm run build\``,
        );
      }
      return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(html);
    };

    // Client-side routes (/dlq, /events ...): answered before authentication, as the page is public.
    app.addHook('onRequest', async (request, reply) => {
      if (!request.is404 || (request.method !== 'GET' && request.method !== 'HEAD')) return;
      const path = request.url.split('?')[0] as string;
      if (isApiPath(path) || !acceptsHtml(request)) return;
      await page(reply);
      return reply;
    });

    const publicRoutes = (instance: FastifyInstance) =>
      instance.addHook('onRoute', (route) => {
        route.config = { ...(route.config ?? {}), public: true };
      });
    await app.register(async (instance) => {
      publicRoutes(instance);
      instance.get('/', async (_request, reply) => page(reply));
    });
    await app.register(
      async (instance) => {
        publicRoutes(instance);
        // A missing bundle is a plain 404: the root handler would see the wildcard route and say 405.
        instance.setNotFoundHandler((request, reply) =>
          sendProblem(
            reply,
            request,
            new ProblemError('not-found', `no console asset ${request.url.split('?')[0]}`),
          ),
        );
        await instance.register(fastifyStatic, {
          root: join(root, 'assets'),
          prefix: '/',
          // Names carry a content hash: a new build gets new names, so a year-long cache is safe.
          maxAge: '365d',
          immutable: true,
          index: false,
          decorateReply: false,
          // Before a build the folder is missing: the assets are 404s and `/` says to build.
          suppressWarning: true,
        });
      },
      { prefix: CONSOLE_ASSETS_PREFIX },
    );
  },
  { name: 'conveyor-console' },
);
