/**
 * GET /metrics: Prometheus text exposition of this server's registry. Served here only when
 * metrics are on, no separate metrics port is configured (see `startMetricsListener`) and
 * `metricsPublic` allows the main port (not by default in production).
 */

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthError } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../http/context.js';
import type { Metrics } from '../services/metrics.js';

export function metricsRoute(app: FastifyInstance, ctx: RouteContext): void {
  if (!ctx.config.metricsEnabled || ctx.config.metricsPort !== 0 || !ctx.config.metricsPublic) return;
  app.get('/metrics', async function metrics(_request, reply) {
    const body = await ctx.metrics.registry.metrics();
    return reply
      .header('content-type', ctx.metrics.registry.contentType)
      .header('cache-control', 'no-store')
      .send(body);
  });
}

export interface MetricsListener {
  /** Base URL, e.g. `http://127.0.0.1:9464`; metrics are at `${url}/metrics`. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The metrics port: a bare node:http listener that answers `GET /metrics` and 404s everything
 * else, so that the auth endpoints and the metrics can be exposed to different networks.
 */
export async function startMetricsListener(metrics: Metrics, host: string, port: number): Promise<MetricsListener> {
  const notFound = JSON.stringify(new AuthError('ERR_NOT_FOUND').toJSON());
  const server = createServer(function serveMetrics(request, response) {
    response.setHeader('cache-control', 'no-store');
    response.setHeader('x-content-type-options', 'nosniff');
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'application/json; charset=utf-8' }).end(notFound);
      return;
    }
    metrics.registry.metrics().then(
      (body) => {
        response.writeHead(200, { 'content-type': metrics.registry.contentType });
        response.end(request.method === 'HEAD' ? undefined : body);
      },
      () => {
        response.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        response.end(JSON.stringify(new AuthError('ERR_INTERNAL').toJSON()));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      });
    },
  };
}
