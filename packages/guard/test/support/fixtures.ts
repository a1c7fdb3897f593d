/** Guard test fixtures: keys, tokens, a real JWKS server on 127.0.0.1, a fake RevocationSource. */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AccessTokenInput, createJwks, generateKey, signAccessToken, type TesseraKey } from '@tessera/core';
import type { RevocableClaims, RevocationEvent, RevocationSource } from '../../src/revocation-source.js';

export const ISSUER = 'https://auth.example.com';
export const AUDIENCE = 'api';

export async function newKey(kid: string): Promise<TesseraKey> {
  return generateKey('ES256', { kid });
}

export function sign(
  key: TesseraKey,
  input: Partial<AccessTokenInput> = {},
  options: { ttlSec?: number; issuer?: string; audience?: string } = {},
): string {
  return signAccessToken({ sub: 'user-1', sid: 'sess-1', scope: 'read', ...input } as AccessTokenInput, key, {
    issuer: options.issuer ?? ISSUER,
    audience: options.audience ?? AUDIENCE,
    ttlSec: options.ttlSec ?? 600,
  }).token;
}

/** A token signed by `key` but whose header claims `kid`. */
export function signWithKid(key: TesseraKey, kid: string): string {
  const token = sign(key);
  const [, payload, signature] = token.split('.');
  const header = Buffer.from(JSON.stringify({ alg: key.alg, typ: 'at+jwt', kid })).toString('base64url');
  return `${header}.${payload}.${signature}`;
}

export interface JwksServer {
  readonly url: string;
  readonly origin: string;
  fetches: number;
  keys: TesseraKey[];
  cacheControl: string | undefined;
  /** 'ok' | 'down' (500) | 'hang' (never answers) | 'huge' (streams too much) | 'delay' */
  mode: 'ok' | 'down' | 'hang' | 'huge' | 'delay';
  delayMs: number;
  metadata: Record<string, unknown> | undefined;
  close(): Promise<void>;
}

export async function startJwksServer(keys: TesseraKey[]): Promise<JwksServer> {
  const state = {
    fetches: 0,
    keys,
    cacheControl: 'public, max-age=300' as string | undefined,
    mode: 'ok' as JwksServer['mode'],
    delayMs: 50,
    metadata: undefined as Record<string, unknown> | undefined,
  };
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/.well-known/oauth-authorization-server' && state.metadata !== undefined) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(state.metadata));
      return;
    }
    if (req.url !== '/jwks.json') {
      res.statusCode = 404;
      res.end();
      return;
    }
    state.fetches++;
    const send = () => {
      res.setHeader('content-type', 'application/json');
      if (state.cacheControl !== undefined) res.setHeader('cache-control', state.cacheControl);
      res.end(JSON.stringify(createJwks(state.keys)));
    };
    switch (state.mode) {
      case 'down':
        res.statusCode = 503;
        res.end('down');
        return;
      case 'hang':
        hanging.add(res);
        return;
      case 'huge': {
        // Chunked, no content-length: the limit must be counted while streaming.
        res.setHeader('content-type', 'application/json');
        res.write('{"keys":[');
        const chunk = `${'{"kty":"x"},'.repeat(1000)}`;
        let sent = 0;
        const more = () => {
          while (sent < 300 && res.write(chunk)) sent++;
          if (sent < 300) res.once('drain', more);
          else res.end('{}]}');
        };
        res.on('error', () => undefined);
        more();
        return;
      }
      case 'delay':
        setTimeout(send, state.delayMs);
        return;
      default:
        send();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  const result = {
    url: `${origin}/jwks.json`,
    origin,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return Object.defineProperties(result, {
    fetches: {
      get: () => state.fetches,
      set: (v: number) => {
        state.fetches = v;
      },
      enumerable: true,
    },
    keys: {
      get: () => state.keys,
      set: (v: TesseraKey[]) => {
        state.keys = v;
      },
      enumerable: true,
    },
    cacheControl: {
      get: () => state.cacheControl,
      set: (v: string | undefined) => {
        state.cacheControl = v;
      },
      enumerable: true,
    },
    mode: {
      get: () => state.mode,
      set: (v: JwksServer['mode']) => {
        state.mode = v;
      },
      enumerable: true,
    },
    delayMs: {
      get: () => state.delayMs,
      set: (v: number) => {
        state.delayMs = v;
      },
      enumerable: true,
    },
    metadata: {
      get: () => state.metadata,
      set: (v: Record<string, unknown> | undefined) => {
        state.metadata = v;
      },
      enumerable: true,
    },
  }) as JwksServer;
}

/** A RevocationSource with the interface's semantics, driven by the test. */
export class FakeRevocationSource implements RevocationSource {
  staleness = 0;
  readonly revoked = {
    jti: new Set<string>(),
    sid: new Set<string>(),
    sub: new Map<string, number>(),
    kid: new Set<string>(),
  };
  readonly listeners = new Set<(event: RevocationEvent) => void>();
  checks = 0;
  #id = 0;

  isRevoked(claims: RevocableClaims, kid?: string): boolean {
    this.checks++;
    if (this.revoked.jti.has(claims.jti)) return true;
    if (claims.sid !== undefined && this.revoked.sid.has(claims.sid)) return true;
    const cutoff = this.revoked.sub.get(claims.sub);
    if (cutoff !== undefined && claims.iat < cutoff) return true;
    return kid !== undefined && this.revoked.kid.has(kid);
  }

  stalenessSec(): number {
    return this.staleness;
  }

  onRevocation(listener: (event: RevocationEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {}

  /** Records a revocation and notifies listeners, as the feed does. */
  emit(kind: RevocationEvent['kind'], value: string, at = Math.floor(Date.now() / 1000)): void {
    if (kind === 'jti') this.revoked.jti.add(value);
    if (kind === 'sid') this.revoked.sid.add(value);
    if (kind === 'sub') {
      const i = value.lastIndexOf('@');
      this.revoked.sub.set(value.slice(0, i), Number(value.slice(i + 1)));
    }
    if (kind === 'user_disabled') this.revoked.sub.set(value, at + 1);
    if (kind === 'kid') this.revoked.kid.add(value);
    const event: RevocationEvent = { id: ++this.#id, kind, value, at, expiresAt: at + 3600 };
    for (const listener of this.listeners) listener(event);
  }

  /** Notifies listeners without recording (to observe eviction alone). */
  notifyOnly(kind: RevocationEvent['kind'], value: string): void {
    const at = Math.floor(Date.now() / 1000);
    const event: RevocationEvent = { id: ++this.#id, kind, value, at, expiresAt: at + 3600 };
    for (const listener of this.listeners) listener(event);
  }
}

export function headersOf(record: Record<string, string>): { headers: Record<string, string> } {
  return { headers: record };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
