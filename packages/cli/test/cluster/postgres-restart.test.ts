/**
 * PostgreSQL goes away under load and comes back (a private server on its own port: stopped,
 * kept down for 1.5 s, started again; the shared one is never touched). Requests fail cleanly
 * meanwhile (503 ERR_SERVICE_UNAVAILABLE, never a 500 or a stack), succeed again afterwards
 * without restarting Tessera, and no rotation is left half written.
 */

import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkChains } from './support/chains.js';
import {
  type Answer,
  type Cluster,
  get,
  login,
  refresh,
  register,
  sidOf,
  sleep,
  startCluster,
} from './support/instances.js';
import { type PrivatePostgres, postgresBinDir, startPrivatePostgres } from './support/private-services.js';
import { dropTestState, REDIS_URL, REQUIRED, randomPrefix, randomSchema } from './support/services.js';
import { describeCluster } from './support/suite.js';

const SESSIONS = 12;
const STORM_MS = 6000;
const DOWN_AT_MS = 1500;
const DOWN_FOR_MS = 1500;
const STACK = /\bat \S+ \(|\.(ts|js|mjs):\d+|node_modules|Error:/;

function clean503(a: Answer): boolean {
  if (a.status !== 503 || STACK.test(a.text)) return false;
  try {
    return a.json().code === 'ERR_SERVICE_UNAVAILABLE';
  } catch {
    return false;
  }
}

const haveBinaries = postgresBinDir() !== undefined;
if (!haveBinaries && !REQUIRED)
  console.warn('\n!!! SKIPPING the PostgreSQL restart test: no /usr/lib/postgresql/*/bin/initdb\n');

describeCluster('cluster: PostgreSQL restarted under load', () => {
  const schema = randomSchema();
  const prefix = randomPrefix();
  let pg: PrivatePostgres;
  let cluster: Cluster;

  beforeAll(async () => {
    pg = await startPrivatePostgres();
    cluster = await startCluster(2, {
      TESSERA_DATABASE_URL: pg.url,
      TESSERA_DATABASE_SCHEMA: schema,
      TESSERA_REDIS_URL: REDIS_URL,
      TESSERA_REDIS_KEY_PREFIX: prefix,
      TESSERA_RATE_LIMIT_ENABLED: 'false',
      TESSERA_REFRESH_GRACE_SEC: '20',
    });
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    pg?.destroy();
    await dropTestState(schema, prefix, REDIS_URL, 'postgres://unused@127.0.0.1:1/none');
  });

  it.runIf(haveBinaries || REQUIRED)(
    'answers 503 with a code while it is down, recovers by itself, leaves no half-written rotation',
    async () => {
      const urls = cluster.urls;
      await register(urls[0] as string, 'restart@example.com');
      const sessions: { sid: string; token: string; seen: Set<string> }[] = [];
      for (let i = 0; i < SESSIONS; i++) {
        const { accessToken, refreshToken } = await login(urls[i % 2] as string, 'restart@example.com');
        sessions.push({ sid: sidOf(accessToken), token: refreshToken, seen: new Set() });
      }
      const unexpected: string[] = [];
      let unavailable = 0;
      let okAfterRestart = 0;
      let restarted = false;
      const deadline = Date.now() + STORM_MS;
      const outage = (async () => {
        await sleep(DOWN_AT_MS);
        pg.stop();
        await sleep(DOWN_FOR_MS);
        pg.start();
        restarted = true;
      })();
      await Promise.all(
        sessions.map(async (s, n) => {
          let i = n;
          while (Date.now() < deadline) {
            const url = urls[i++ % 2] as string;
            let a: Answer;
            try {
              a = await refresh(url, s.token);
            } catch (error) {
              const which = cluster.instances.find((x) => x.url === url);
              unexpected.push(
                `${url}: ${String(error)} (${String((error as Error).cause)}); process exit ${which?.child.exitCode} ${which?.child.signalCode}; stderr: ${which?.stderr().slice(-2000)}`,
              );
              return;
            }
            if (a.status === 200 && a.token !== undefined) {
              s.token = a.token;
              s.seen.add(a.token);
              if (restarted) okAfterRestart++;
            } else if (clean503(a)) {
              unavailable++;
              await sleep(100); // a client's backoff, then the SAME token again
            } else {
              unexpected.push(`${a.status} ${a.text}`);
              return;
            }
          }
        }),
      );
      await outage;
      console.info(
        `cluster PostgreSQL restart: ${unavailable} clean 503s, ${okAfterRestart} rotations after the restart`,
      );
      expect(unexpected).toEqual([]);
      expect(unavailable).toBeGreaterThan(0);
      expect(okAfterRestart).toBeGreaterThan(0);

      // Every session works again on both instances, and the chains are whole.
      for (const s of sessions) {
        for (const url of urls) {
          const a = await refresh(url, s.token);
          expect(a.status, a.text).toBe(200);
          s.token = a.token as string;
          s.seen.add(s.token);
        }
      }
      const report = await checkChains(schema, pg.url);
      expect(report.violations).toEqual([]);
      for (const s of sessions) expect(report.tokensPerSession.get(s.sid)).toBe(s.seen.size + 1);
    },
    90_000,
  );

  it.runIf(haveBinaries || REQUIRED)(
    'while it is down: readyz, login and refresh answer 503 with a code; the JWKS is still served',
    async () => {
      const url = cluster.urls[1] as string;
      const { refreshToken } = await login(url, 'restart@example.com');
      pg.stop();
      try {
        const ready = await get(url, '/readyz');
        expect(ready.status).toBe(503);
        expect(ready.json().checks).toMatchObject({ durable: 'failed', ephemeral: 'ok' });
        expect((await get(url, '/.well-known/jwks.json')).status).toBe(200);
        const r = await refresh(url, refreshToken);
        expect(clean503(r), r.text).toBe(true);
        const l = await fetch(`${url}/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'restart@example.com', password: 'correct horse battery staple' }),
        });
        expect(l.status).toBe(503);
        expect(((await l.json()) as { code: string }).code).toBe('ERR_SERVICE_UNAVAILABLE');
      } finally {
        pg.start();
      }
      expect((await refresh(url, refreshToken)).status).toBe(200);
    },
    60_000,
  );

  // A 503 must not clear the refresh cookie: the session is intact and the retry needs it.
  it('a 503 leaves the refresh cookie in place', async () => {
    const url = cluster.urls[0] as string;
    const { refreshToken } = await login(url, 'restart@example.com');
    pg.stop();
    try {
      const r = await refresh(url, refreshToken);
      expect(r.status).toBe(503);
      expect(r.setCookie ?? '').not.toMatch(/Max-Age=0/);
    } finally {
      pg.start();
    }
  }, 60_000);
});
