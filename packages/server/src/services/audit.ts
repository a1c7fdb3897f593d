/**
 * Append-only audit trail with stable event types. Every event goes to the durable store and to
 * the structured log. Event data never holds tokens, passwords or cookie values.
 */

import type { DurableStore, NewAuditEvent } from '../contracts.js';

export const AUDIT_EVENT_TYPES = [
  'user.registered',
  'login.succeeded',
  'login.failed',
  'refresh.rotated',
  'refresh.grace_replayed',
  'refresh.reuse_detected',
  'session.revoked',
  'token.revoked',
  'user.cutoff_set',
  'user.disabled',
  'user.enabled',
  'user.password_changed',
  'key.created',
  'key.rotated',
  'key.retired',
  'client.created',
  'client.deleted',
  'csrf.rejected',
  'rate_limit.hit',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export interface AuditContext {
  readonly userId?: string | null;
  readonly sessionId?: string | null;
  readonly ip?: string | null;
  readonly userAgent?: string | null;
  readonly data?: Record<string, unknown>;
}

export interface AuditLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Sees every event as it is recorded (metrics). Must not throw. */
export type AuditObserver = (type: AuditEventType, context: AuditContext) => void;

export class AuditTrail {
  readonly #store: DurableStore;
  readonly #log: AuditLogger;
  readonly #clock: () => number;
  readonly #observer: AuditObserver | undefined;

  constructor(store: DurableStore, log: AuditLogger, clock: () => number, observer?: AuditObserver) {
    this.#store = store;
    this.#log = log;
    this.#clock = clock;
    this.#observer = observer;
  }

  async record(type: AuditEventType, context: AuditContext = {}): Promise<void> {
    const event = this.build(type, context);
    this.announce(event, context);
    try {
      await this.#store.appendAudit(event);
    } catch (error) {
      // The request already succeeded or failed on its own merits; losing an audit row must not
      // turn it into a 500, but it must be loud.
      this.#log.error({ err: error, auditType: type }, 'audit event could not be stored');
    }
  }

  /**
   * The row {@link record} would store, for a store call that appends it itself in the same
   * transaction (the rotation). Call {@link announce} once it is stored.
   */
  build(type: AuditEventType, context: AuditContext = {}): NewAuditEvent & { readonly type: AuditEventType } {
    return {
      at: this.#clock(),
      type,
      userId: context.userId ?? null,
      sessionId: context.sessionId ?? null,
      ip: context.ip ?? null,
      userAgent: context.userAgent ?? null,
      data: context.data ?? {},
    };
  }

  /** Logs and observes an event (stored by {@link record}, or by the store itself). */
  announce(event: NewAuditEvent & { readonly type: AuditEventType }, context: AuditContext = {}): void {
    this.#log.info({ audit: event }, event.type);
    this.#observer?.(event.type, context);
  }
}
