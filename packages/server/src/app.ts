/**
 * createAuthServer: wires config, stores, keys and routes into a Fastify instance. The stores are
 * passed in (the domain owns the contracts; adapters implement them): `tessera serve` passes the
 * embedded SQLite store by default.
 */

import fastifyCookie from '@fastify/cookie';
import { AuthError, createAccessTokenVerifier } from '@tessera/core';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { type AuthServerConfig, type AuthServerConfigInput, resolveConfig } from './config.js';
import type { DurableStore, EphemeralStore } from './contracts.js';
import { registerBodyParsers } from './http/body-parsers.js';
import type { RouteContext } from './http/context.js';
import { registerCors } from './http/cors.js';
import { handleError, sendAuthError } from './http/errors.js';
import { healthRoutes } from './routes/health.js';
import { jwksRoute } from './routes/jwks.js';
import { loginRoute } from './routes/login.js';
import { logoutRoute } from './routes/logout.js';
import { logoutAllRoute } from './routes/logout-all.js';
import { metadataRoute } from './routes/metadata.js';
import { type MetricsListener, metricsRoute, startMetricsListener } from './routes/metrics.js';
import { oauthIntrospectRoute } from './routes/oauth-introspect.js';
import { oauthRevokeRoute } from './routes/oauth-revoke.js';
import { oauthTokenRoute } from './routes/oauth-token.js';
import { passwordRoute } from './routes/password.js';
import { refreshRoute } from './routes/refresh.js';
import { registerRoute } from './routes/register.js';
import { revocationsRoute } from './routes/revocations.js';
import { sessionsRoutes } from './routes/sessions.js';
import { whoamiRoute } from './routes/whoami.js';
import { AuditTrail } from './services/audit.js';
import { AuthService } from './services/auth-service.js';
import { loadMasterKey } from './services/master-key.js';
import { Metrics } from './services/metrics.js';
import { PasswordHasher } from './services/passwords.js';
import { RevocationService } from './services/revocation.js';
import { type KeyChange, SigningKeyManager } from './services/signing-keys.js';

import { SERVER_CLOCK_TOLERANCE_SEC } from './tolerance.js';

export { SERVER_CLOCK_TOLERANCE_SEC };

export interface CreateAuthServerOptions {
  readonly config?: AuthServerConfigInput;
  readonly durable: DurableStore;
  readonly ephemeral: EphemeralStore;
  /** Environment for `TESSERA_*` overrides and the master key. Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Whole seconds since the epoch. Default: the system clock. Tests pass a manual one. */
  readonly clock?: () => number;
  /** Master key bytes (32), bypassing env and file. For tests and embedding. */
  readonly masterKey?: Buffer;
  /** Run the key schedule on a timer. Default true. */
  readonly keyTimer?: boolean;
  /**
   * Where the pino log lines go (one JSON line per `write`). Default stdout. The redaction
   * rules apply whatever the destination; tests pass a stream to inspect the log.
   */
  readonly logStream?: { write(line: string): void };
  /** Include Node process metrics (CPU, memory, event loop, GC) in `/metrics`. Default true. */
  readonly processMetrics?: boolean;
}

export interface AuthServer {
  readonly app: FastifyInstance;
  readonly config: AuthServerConfig;
  readonly context: RouteContext;
  /** Key schedule and purge of expired rows; runs on a timer unless `keyTimer: false`. */
  runMaintenance(now: number): Promise<void>;
  /** Listens on config.host:config.port (and the metrics port, if any); resolves to the base URL. */
  listen(): Promise<string>;
  /** Base URL of the separate metrics listener (config.metricsPort) once listening; else undefined. */
  readonly metricsUrl: string | undefined;
  close(): Promise<void>;
}

const NO_STORE_PREFIXES = ['/auth/', '/oauth/'];
/** How often expired sessions, tokens, grace replays and denylist entries are purged, seconds. */
const PURGE_INTERVAL_SEC = 3600;

/**
 * Headers every response carries. Token responses must not be cached (RFC 6749 5.1), and nothing
 * under /auth or /oauth should be: matched on the route pattern, because the router decodes the
 * path (`/%61uth/login` reaches the login route while `request.url` does not start with
 * `/auth/`); before routing, on the raw path decoded the same way.
 */
function setSecurityHeaders(request: FastifyRequest, reply: FastifyReply, https: boolean): void {
  let path = request.routeOptions?.url;
  if (path === undefined) {
    try {
      path = decodeURIComponent(request.url.split('?')[0] ?? '');
    } catch {
      path = request.url;
    }
  }
  if (NO_STORE_PREFIXES.some((p) => (path as string).toLowerCase().startsWith(p))) {
    reply.header('cache-control', 'no-store');
    reply.header('pragma', 'no-cache');
  }
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  // The API serves JSON only: nothing may be framed, scripted or embedded from its responses.
  if (!reply.hasHeader('content-security-policy')) {
    reply.header(
      'content-security-policy',
      "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
  }
  reply.header('x-frame-options', 'DENY');
  reply.header('cross-origin-opener-policy', 'same-origin');
  reply.header('cross-origin-resource-policy', 'same-site');
  if (https) reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
}

async function recordKeyChanges(audit: AuditTrail, changes: readonly KeyChange[]): Promise<void> {
  for (const change of changes) {
    const type = change.kind === 'retired' ? 'key.retired' : change.kind === 'created' ? 'key.created' : 'key.rotated';
    await audit.record(type, { data: { ...change } });
  }
}

export async function createAuthServer(options: CreateAuthServerOptions): Promise<AuthServer> {
  const env = options.env ?? process.env;
  const { config, warnings } = resolveConfig(options.config, env);
  const clock = options.clock ?? (() => Math.floor(Date.now() / 1000));
  const app = Fastify({
    logger: {
      level: config.logLevel,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'res.headers["set-cookie"]',
          '*.password',
          '*.refresh_token',
          '*.access_token',
          '*.client_secret',
          '*.token',
          '*.current_password',
          '*.new_password',
        ],
        censor: '[redacted]',
      },
      serializers: {
        // Fix: Fastify's request serializer logged the whole URL, query string included, so a
        // client that put a token in the query (`/oauth/token?refresh_token=...`) wrote it to
        // the log. No endpoint reads the query string; the log keeps the path only.
        req(request: FastifyRequest) {
          return {
            method: request.method,
            url: request.url.split('?')[0],
            host: request.host,
            remoteAddress: request.ip,
            remotePort: request.socket?.remotePort,
          };
        },
      },
      ...(options.logStream === undefined ? {} : { stream: options.logStream }),
    },
    bodyLimit: config.bodyLimitBytes,
    // A hop count, never `true`: Fastify's `true` trusts every hop, including the client's own entry.
    trustProxy: config.trustProxy === 0 ? false : (_address: string, hop: number) => hop < config.trustProxy,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Fix: errors Fastify raises before routing (a malformed URL such as `/auth/sessions/%`)
    // bypassed the error handler and answered with Fastify's own body (`FST_ERR_BAD_URL`, the
    // URL echoed back) instead of the documented `{error, error_description, code}`.
    frameworkErrors: function frameworkErrors(error, request, reply) {
      // Errors raised before routing (bad URL encoding, oversized parameters) skip the hooks:
      // set the headers every response must carry here too.
      setSecurityHeaders(request, reply, config.issuer.startsWith('https://'));
      handleError(error, request, reply);
    },
  });
  for (const warning of warnings) app.log.warn(warning);

  const master =
    options.masterKey === undefined
      ? loadMasterKey({ env, file: config.masterKeyFile, environment: config.environment })
      : { key: options.masterKey, source: 'env' as const };
  if ('warning' in master && master.warning !== undefined) app.log.warn(master.warning);

  // Every instance runs the key schedule this often (the maintenance timer below).
  const keyScheduleIntervalSec = Math.min(60, config.jwksMaxAgeSec);
  const keys = new SigningKeyManager(options.durable, master.key, {
    alg: config.signingAlg,
    rotationIntervalSec: config.keyRotationIntervalSec,
    jwksMaxAgeSec: config.jwksMaxAgeSec,
    tokenLifetimeSec: config.accessTokenTtlSec + SERVER_CLOCK_TOLERANCE_SEC,
    scheduleIntervalSec: keyScheduleIntervalSec,
  });
  const metrics = new Metrics({
    processMetrics: config.metricsEnabled && options.processMetrics !== false,
    keyStates: () => keys.records,
  });
  await options.durable.migrate();
  const audit = new AuditTrail(options.durable, app.log, clock, (type, event) => metrics.observeAudit(type, event));
  const revocation = new RevocationService(
    options.durable,
    options.ephemeral,
    config.accessTokenTtlSec + SERVER_CLOCK_TOLERANCE_SEC,
    (kind) => metrics.observeRevocation(kind),
  );
  /** The key schedule; a retired key is also announced on the revocation feed (`kid` event). */
  async function tickKeys(now: number): Promise<void> {
    const changes = await keys.tick(now);
    await recordKeyChanges(audit, changes);
    for (const change of changes) {
      if (change.kind !== 'retired') continue;
      // A guard may hold the key in a cached JWKS for up to one max-age after it left it.
      const expiresAt = now + Math.max(revocation.relevanceSec, config.jwksMaxAgeSec);
      await revocation.announceKeyRetired(change.kid, now, expiresAt);
    }
  }
  await tickKeys(clock());
  const hasher = new PasswordHasher(config.argon2);
  await hasher.warmUp();
  const auth = new AuthService(config, options.durable, keys, hasher, revocation, audit, clock, (outcome) =>
    metrics.observeRefresh(outcome),
  );
  const verifier = createAccessTokenVerifier(
    (header) => (header.kid === undefined ? undefined : keys.keySet.get(header.kid)),
    {
      issuer: config.issuer,
      audience: [...config.audience],
      clockToleranceSec: SERVER_CLOCK_TOLERANCE_SEC,
      clock,
    },
  );
  const context: RouteContext = {
    config,
    durable: options.durable,
    ephemeral: options.ephemeral,
    auth,
    keys,
    revocation,
    audit,
    metrics,
    verifier,
    clock,
  };

  await app.register(fastifyCookie);
  registerBodyParsers(app);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler(function notFound(_request, reply) {
    return sendAuthError(reply, new AuthError('ERR_NOT_FOUND'));
  });
  const HTTPS_ISSUER = config.issuer.startsWith('https://');
  registerCors(app, context);
  app.addHook('onSend', async function securityHeaders(request, reply) {
    setSecurityHeaders(request, reply, HTTPS_ISSUER);
  });

  app.addHook('onResponse', async function observeLatency(request, reply) {
    // The route pattern, never the URL: labels must not carry ids or tokens.
    metrics.observeRequest(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
  });

  for (const route of [
    metricsRoute,
    metadataRoute,
    jwksRoute,
    healthRoutes,
    registerRoute,
    loginRoute,
    refreshRoute,
    logoutRoute,
    logoutAllRoute,
    whoamiRoute,
    sessionsRoutes,
    passwordRoute,
    oauthTokenRoute,
    oauthRevokeRoute,
    oauthIntrospectRoute,
    revocationsRoute,
  ]) {
    route(app, context);
  }

  let lastPurgeSec = 0;
  /** The key schedule every tick; expired rows purged at most hourly. */
  async function runMaintenance(now: number): Promise<void> {
    await tickKeys(now);
    if (now - lastPurgeSec >= PURGE_INTERVAL_SEC) {
      lastPurgeSec = now;
      const purged = await options.durable.purgeExpired(now);
      if (purged > 0) app.log.info({ purged }, 'expired rows purged');
    }
  }

  let timer: NodeJS.Timeout | undefined;
  if (options.keyTimer !== false) {
    timer = setInterval(() => {
      runMaintenance(clock()).catch((error: unknown) => app.log.error({ err: error }, 'maintenance failed'));
    }, keyScheduleIntervalSec * 1000);
    timer.unref();
  }
  app.addHook('onClose', async () => {
    if (timer !== undefined) clearInterval(timer);
  });

  let metricsListener: MetricsListener | undefined;
  return {
    app,
    config,
    context,
    runMaintenance,
    get metricsUrl() {
      return metricsListener?.url;
    },
    async listen() {
      const address = await app.listen({ host: config.host, port: config.port });
      if (config.metricsEnabled && config.metricsPort !== 0 && metricsListener === undefined) {
        metricsListener = await startMetricsListener(metrics, config.host, config.metricsPort);
        app.log.info({ url: `${metricsListener.url}/metrics` }, 'metrics listening');
      }
      return address;
    },
    async close() {
      await metricsListener?.close();
      metricsListener = undefined;
      await app.close();
    },
  };
}
