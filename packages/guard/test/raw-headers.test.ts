/** Duplicate Authorization headers on a real Node request are seen through rawHeaders (Node keeps only the first in `headers`). */

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createGuard, toResponse } from '../src/index.js';
import { AUDIENCE, ISSUER, newKey, sign } from './support/fixtures.js';

/** A raw socket: Node's HTTP client cannot send the same header twice. */
function send(port: number, headers: [string, string][]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      const lines = headers.map(([k, v]) => `${k}: ${v}`).join('\r\n');
      socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${lines}\r\n\r\n`);
    });
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk;
    });
    socket.on('end', () => {
      const [head = '', body = ''] = data.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), body });
    });
    socket.on('error', reject);
  });
}

describe('a real Node request', () => {
  it('with two Authorization headers is 400 invalid_request; with one valid header it passes', async () => {
    const key = await newKey('k1');
    const guard = createGuard({ issuer: ISSUER, audience: AUDIENCE, keys: key });
    const token = sign(key);
    const server = createServer((req, res) => {
      guard.authenticate(req).then(
        () => res.writeHead(200).end('ok'),
        (error: unknown) => {
          const r = toResponse(error);
          res.writeHead(r.status, r.headers as Record<string, string>).end(JSON.stringify(r.body));
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const once = await send(port, [['Authorization', `Bearer ${token}`]]);
      expect(once.status).toBe(200);
      const twice = await send(port, [
        ['Authorization', `Bearer ${token}`],
        ['authorization', `Bearer ${token}`],
      ]);
      expect(twice.status).toBe(400);
      expect(twice.body).toContain('"code":"ERR_TOKEN_MALFORMED"');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
