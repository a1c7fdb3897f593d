/** Picks a free TCP port on a host, so the issuer URL can name the port before the server listens. */

import { createServer } from 'node:net';

export function findFreePort(host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen({ host, port: 0, exclusive: true }, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close((error) => (error === undefined ? resolvePort(port) : reject(error)));
    });
  });
}
