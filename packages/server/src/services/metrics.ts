/**
 * Prometheus metrics of one auth server, in its own registry (never prom-client's global one:
 * several servers can share a process). Every label value is a fixed enum or a route pattern,
 * never request data, so the output cannot hold a token, email, user or session id or an IP.
 * Fed by the audit trail, the revocation service, refresh outcomes and one HTTP hook.
 */

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { RevocationKind, SigningKeyState } from '../contracts.js';
import type { AuditContext, AuditEventType } from './audit.js';

export const REFRESH_OUTCOMES = ['rotated', 'grace', 'reused', 'expired', 'revoked', 'invalid', 'missing'] as const;
export type RefreshOutcome = (typeof REFRESH_OUTCOMES)[number];

/** `unknown_email` and `wrong_password` are one value: metrics must not enumerate accounts. */
const LOGIN_FAILURE_REASONS = ['invalid_credentials', 'account_disabled', 'other'] as const;
type LoginFailureReason = (typeof LOGIN_FAILURE_REASONS)[number];

const REVOCATION_KINDS: readonly RevocationKind[] = ['jti', 'sid', 'sub', 'user_disabled', 'kid'];
const KEY_STATES: readonly SigningKeyState[] = ['next', 'current', 'retiring', 'retired'];
const METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Route label of requests no route matched (404s, malformed URLs). */
export const UNMATCHED_ROUTE = 'unmatched';

/** Seconds: a cached JWKS answer is ~1 ms, a login (argon2) ~50-500 ms. */
export const LATENCY_BUCKETS_SEC = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export const METRICS_PREFIX = 'tessera_';

let processRegistry: Registry | undefined;

/**
 * Node process metrics (CPU, memory, event loop lag, GC) describe the process, not a server, and
 * their collectors (an event loop monitor, a GC observer) cannot be stopped: one set per
 * process, shared by every server that asks for it.
 */
function sharedProcessRegistry(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: METRICS_PREFIX });
  }
  return processRegistry;
}

export interface MetricsOptions {
  /** Include the Node process metrics (`tessera_process_*`, `tessera_nodejs_*`). Default true. */
  readonly processMetrics?: boolean;
  /** The signing keys' states, read at each scrape. */
  readonly keyStates?: () => readonly { readonly state: SigningKeyState }[];
}

export class Metrics {
  /** What `GET /metrics` serves: this server's metrics plus, when enabled, the process ones. */
  readonly registry: Registry;
  readonly #logins: Counter<'outcome' | 'reason'>;
  readonly #refreshes: Counter<'outcome'>;
  readonly #reuse: Counter;
  readonly #revocations: Counter<'kind'>;
  readonly #csrf: Counter;
  readonly #rateLimited: Counter<'route'>;
  readonly #latency: Histogram<'method' | 'route' | 'status_code'>;
  readonly #latencyChildren = new Map<string, { observe(value: number): void }>();

  constructor(options: MetricsOptions = {}) {
    const own = new Registry();
    const registers = [own];
    this.#logins = new Counter({
      name: 'tessera_logins_total',
      help: 'Password logins by outcome; failures by reason (invalid_credentials covers unknown email and wrong password).',
      labelNames: ['outcome', 'reason'],
      registers,
    });
    this.#refreshes = new Counter({
      name: 'tessera_refreshes_total',
      help: 'Refresh token presentations (/auth/refresh and /oauth/token) by outcome.',
      labelNames: ['outcome'],
      registers,
    });
    this.#reuse = new Counter({
      name: 'tessera_refresh_reuse_detected_total',
      help: 'Refresh tokens used again after the grace window (the family is revoked).',
      registers,
    });
    this.#revocations = new Counter({
      name: 'tessera_revocations_total',
      help: 'Events appended to the revocation log, by lever.',
      labelNames: ['kind'],
      registers,
    });
    this.#csrf = new Counter({
      name: 'tessera_csrf_rejections_total',
      help: 'Requests refused by the CSRF check.',
      registers,
    });
    this.#rateLimited = new Counter({
      name: 'tessera_rate_limit_rejections_total',
      help: 'Requests refused with 429 (rate limit or login delay), by route pattern.',
      labelNames: ['route'],
      registers,
    });
    this.#latency = new Histogram({
      name: 'tessera_http_request_duration_seconds',
      help: 'HTTP request duration by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: LATENCY_BUCKETS_SEC,
      registers,
    });
    const keyStates = options.keyStates;
    new Gauge({
      name: 'tessera_signing_keys',
      help: 'Signing keys by lifecycle state.',
      labelNames: ['state'],
      registers,
      collect() {
        const records = keyStates?.() ?? [];
        for (const state of KEY_STATES) this.set({ state }, records.filter((r) => r.state === state).length);
      },
    });

    // Every series of a fixed enum exists from the start, so rate() and alerts see the first event.
    this.#logins.inc({ outcome: 'succeeded' }, 0);
    for (const reason of LOGIN_FAILURE_REASONS) this.#logins.inc({ outcome: 'failed', reason }, 0);
    for (const outcome of REFRESH_OUTCOMES) this.#refreshes.inc({ outcome }, 0);
    for (const kind of REVOCATION_KINDS) this.#revocations.inc({ kind }, 0);
    this.#reuse.inc(0);
    this.#csrf.inc(0);

    this.registry = options.processMetrics === false ? own : Registry.merge([own, sharedProcessRegistry()]);
  }

  /** The audit trail's observer. */
  observeAudit(type: AuditEventType, context: AuditContext): void {
    switch (type) {
      case 'login.succeeded':
        this.#logins.inc({ outcome: 'succeeded' });
        break;
      case 'login.failed':
        this.#logins.inc({ outcome: 'failed', reason: loginFailureReason(context.data?.reason) });
        break;
      case 'refresh.reuse_detected':
        this.#reuse.inc();
        break;
      case 'csrf.rejected':
        this.#csrf.inc();
        break;
      default:
        break;
    }
  }

  /** The revocation service's observer: one call per event appended to the log. */
  observeRevocation(kind: RevocationKind): void {
    this.#revocations.inc({ kind });
  }

  observeRefresh(outcome: RefreshOutcome): void {
    this.#refreshes.inc({ outcome });
  }

  /**
   * One finished HTTP request. `route` is the matched route's pattern (`/auth/sessions/:id`),
   * undefined when none matched: the raw URL never becomes a label.
   */
  observeRequest(method: string, route: string | undefined, statusCode: number, durationSec: number): void {
    // The labelled child is looked up once per (method, route, status) and kept: prom-client
    // would otherwise hash the label object on every request of the hot path.
    const m = METHODS.has(method) ? method : 'other';
    const r = route ?? UNMATCHED_ROUTE;
    const key = `${m} ${r} ${statusCode}`;
    let child = this.#latencyChildren.get(key);
    if (child === undefined) {
      child = this.#latency.labels({ method: m, route: r, status_code: String(statusCode) });
      // Routes are patterns and statuses are few: bounded, but guard against surprises anyway.
      if (this.#latencyChildren.size < 1000) this.#latencyChildren.set(key, child);
    }
    child.observe(durationSec);
    if (statusCode === 429) this.#rateLimited.inc({ route: r });
  }
}

function loginFailureReason(reason: unknown): LoginFailureReason {
  if (reason === 'unknown_email' || reason === 'wrong_password') return 'invalid_credentials';
  if (reason === 'account_disabled') return 'account_disabled';
  return 'other';
}
