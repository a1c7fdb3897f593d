/**
 * The built demo app (`apps/demo/dist`) on the auth server's origin: `/` is the demo, `/decoder`
 * the JWT decoder. Pages get a strict CSP of their own (the auth server's default is
 * `default-src 'none'`, which would block the app's own script); Vite's hashed files under
 * `/assets/` are cached for a year, everything else is revalidated.
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

const HASHED_ASSET_CACHE = 'public, max-age=31536000, immutable';
const PAGE_CACHE = 'no-cache';

/** The pages served by path; `/decoder` and `/decoder.html` are the same page. */
const PAGE_ROUTES: Record<string, string> = { '/decoder': 'decoder.html' };

export async function registerStaticPages(app: FastifyInstance, distDir: string): Promise<void> {
  if (!existsSync(join(distDir, 'index.html')) || !existsSync(join(distDir, 'decoder.html'))) {
    throw new Error(
      `the demo app is not built (no index.html/decoder.html in ${distDir}): run \`npm run build\` first`,
    );
  }
  await app.register(async function staticPages(scope) {
    scope.addHook('onRequest', async function pageHeaders(request, reply) {
      reply.header('content-security-policy', PAGE_CSP);
      const path = request.url.split('?')[0] ?? '';
      reply.header('cache-control', path.startsWith('/assets/') ? HASHED_ASSET_CACHE : PAGE_CACHE);
    });
    // wildcard: false registers one route per built file, so every other path still reaches
    // the auth server's own routes and its JSON 404.
    await scope.register(fastifyStatic, { root: distDir, wildcard: false, cacheControl: false, index: ['index.html'] });
    for (const [route, file] of Object.entries(PAGE_ROUTES)) {
      scope.get(route, function servePage(_request, reply) {
        return reply.sendFile(file);
      });
    }
  });
}
