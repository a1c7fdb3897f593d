/**
 * A real auth server (SQLite, manual clock) listening on 127.0.0.1 with issuer = its own URL,
 * plus test routes on the same origin (`/api/echo`: a Bearer-protected echo whose token
 * rejection the test controls) and a "third party" HTTP server that records what it receives.
 */

import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthError } from '@tessera/core';
import { type Harness, PASSWORD, startHarness } from '../../../server/test/support/harness.js';
import type { AuthClient, AuthClientOptions } from '../../src/index.js';
import { createAuthClient } from '../../src/index.js';
import { type CookieJarFetch, createCookieJarFetch } from './cookie-jar-fetch.js';

export { PASSWORD };

export interface TestAuthServer {
  readonly h: Harness;
  /** http://127.0.0.1:PORT: the issuer and the page's origin. */
  readonly issuer: string;
  /** Answers of POST /auth/refresh so far, by status. */
  readonly refreshes: number[];
  /** Bodies and methods `/api/echo` received. */
  readonly echoes: Array<{ method: string; contentType: string | undefined; body: string; authorized: boolean }>;
  /** `/api/echo` answers 401 invalid_token to every token while true (a revoked key, say). */
  rejectAllTokens: boolean;
  /** `/api/echo` answers 401 invalid_token to these tokens. */
  readonly rejectedTokens: Set<string>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

export async function startTestAuthServer(config: Parameters<typeof startHarness>[0] = {}): Promise<TestAuthServer> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const h = await startHarness({ host: '127.0.0.1', port, issuer, ...config });
  const state: TestAuthServer = {
    h,
    issuer,
    refreshes: [],
    echoes: [],
    rejectAllTokens: false,
    rejectedTokens: new Set(),
    close: () => h.close(),
  };
  const app = h.server.app;
  app.addHook('onResponse', async (request, reply) => {
    if (request.method === 'POST' && request.url === '/auth/refresh') state.refreshes.push(reply.statusCode);
  });
  // Its own plugin scope: the auth server's strict parsers would refuse forms and blobs here.
  await app.register(async function echoApi(api) {
    api.removeAllContentTypeParsers();
    api.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    api.all('/api/echo', async (request, reply) => {
      const header = request.headers.authorization ?? '';
      const token = header.startsWith('Bearer ') ? header.slice(7) : '';
      let authorized = false;
      try {
        h.server.context.verifier.verify(token);
        authorized = !state.rejectAllTokens && !state.rejectedTokens.has(token);
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
      }
      const raw = request.body;
      const body = Buffer.isBuffer(raw) ? raw.toString('utf8') : '';
      state.echoes.push({ method: request.method, contentType: request.headers['content-type'], body, authorized });
      if (!authorized) {
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer realm="tessera", error="invalid_token", error_description="rejected"')
          .send({ error: 'invalid_token', error_description: 'rejected', code: 'ERR_TOKEN_REVOKED' });
      }
      return reply.header('x-echo', 'yes').send({ method: request.method, body });
    });
  });
  await h.server.listen();
  return state;
}

export interface ThirdParty {
  readonly origin: string;
  readonly received: Array<{ method: string; url: string; headers: IncomingHttpHeaders }>;
  close(): Promise<void>;
}

export async function startThirdParty(): Promise<ThirdParty> {
  const received: ThirdParty['received'] = [];
  const server: Server = createServer((request, response) => {
    received.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers });
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'text/plain', 'access-control-allow-origin': '*' });
      response.end('third party');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

let emailCounter = 0;

/** A fresh account on the server (registered through the server, not the client under test). */
export async function createAccount(server: TestAuthServer): Promise<{ email: string; password: string }> {
  emailCounter += 1;
  const email = `user${emailCounter}-${Date.now()}@example.com`;
  const res = await server.h.server.app.inject({
    method: 'POST',
    url: '/auth/register',
    payload: { email, password: PASSWORD },
  });
  if (res.statusCode !== 202) throw new Error(`register failed: ${res.statusCode}`);
  return { email, password: PASSWORD };
}

export interface Tab {
  readonly client: AuthClient;
  readonly events: Array<Record<string, unknown>>;
}

/** A memory-mode client ("a tab") on a shared browser cookie jar. */
export function openTab(server: TestAuthServer, jar: CookieJarFetch, options: Partial<AuthClientOptions> = {}): Tab {
  const client = createAuthClient({
    issuer: server.issuer,
    fetch: jar.fetch,
    channelName: uniqueChannel(),
    ...options,
  });
  const events: Array<Record<string, unknown>> = [];
  client.onChange((event) => events.push({ ...event }));
  return { client, events };
}

let channelCounter = 0;
/** A BroadcastChannel name of its own, so parallel test files never hear each other. */
export function uniqueChannel(): string {
  channelCounter += 1;
  return `tessera-test-${process.pid}-${channelCounter}-${Math.random().toString(36).slice(2)}`;
}

export { createCookieJarFetch };

/** Resolves with the next event of `type`. */
export function nextEvent(client: AuthClient, type: string, timeoutMs = 5000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${type} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = client.onChange((event) => {
      if (event.type !== type) return;
      clearTimeout(timer);
      off();
      resolve({ ...event });
    });
  });
}
