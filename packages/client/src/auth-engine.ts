/**
 * The session state machine, shared by both modes: memory mode runs it in the page, worker mode
 * inside the dedicated worker (one implementation, two transports). It owns the access token,
 * single-flight refresh under the cross-tab lock, proactive refresh, backoff, the one retry on
 * `invalid_token`, and what the tabs tell each other.
 */

import { type AccessToken, acceptSharedToken, describeSession, refreshDueAt } from './access-token.js';
import {
  type AuthApiContext,
  authUrl,
  cookieRequest,
  isWhoAmI,
  readJson,
  readServerError,
  requestLogin,
  requestLogout,
  requestRefresh,
  requestRegister,
} from './auth-api.js';
import {
  assertReplayableBody,
  isInvalidTokenChallenge,
  isTokenEndpoint,
  isTokenEndpointResponse,
  resolveRequestUrl,
  withBearer,
} from './authorized-request.js';
import { computeBackoffDelay } from './backoff.js';
import { AuthClientError, isAuthClientError } from './errors.js';
import type { EngineSettings } from './options.js';
import {
  type BroadcastChannelConstructor,
  openTabChannel,
  type SignOutReason,
  type TabChannel,
  type TabMessage,
} from './tab-channel.js';
import { createTabLock, type LockManagerLike, type TabLock } from './tab-lock.js';
import type {
  AuthEvent,
  AuthEventListener,
  AuthState,
  AuthTimers,
  Credentials,
  RefreshTrigger,
  SessionInfo,
  WhoAmI,
} from './types.js';

/** The longest single timer: wake-ups re-read the clock, so a sleeping tab or a late timer never misses the refresh. */
export const MAX_TIMER_MS = 30_000;
/** A token this close to expiry is not sent even when a refresh could not be made, ms. */
const EXPIRY_SAFETY_MS = 5_000;
/**
 * How long a tab keeps the cross-tab lock after announcing a shared token. A BroadcastChannel
 * message and a lock grant travel separately, and nothing orders them: released at once, the
 * next waiting tab can be granted the lock before the token reaches it and refresh again (a
 * second, harmless but needless rotation, seen in Chromium under load). Only the lock is held;
 * the caller has its token already. Real time, not the injected clock: it spaces deliveries.
 */
const LOCK_HANDOFF_MS = 150;
/** Proactive refreshes start at least this far apart, whatever the answers said about expiry, ms. */
export const MIN_PROACTIVE_GAP_MS = 5_000;

export interface EngineEnvironment {
  readonly fetch: typeof fetch;
  /** Local clock, ms since the epoch. */
  readonly now: () => number;
  readonly timers: AuthTimers;
  readonly random: () => number;
  readonly locks?: LockManagerLike;
  readonly BroadcastChannel?: BroadcastChannelConstructor;
  /** Base URL for relative fetch inputs (`location.href` in a page). */
  readonly baseUrl?: () => string | undefined;
}

export interface EngineBehaviour {
  /**
   * Memory mode: broadcast fresh tokens and adopt the other tabs' ones. Worker mode: never (a
   * page script can join any BroadcastChannel); workers only send notices and refresh themselves.
   */
  readonly shareTokens: boolean;
}

export interface EngineSnapshot {
  readonly state: AuthState;
  readonly session?: SessionInfo;
}

function validateCredentials(credentials: unknown, method: string): Credentials {
  if (typeof credentials !== 'object' || credentials === null)
    throw new TypeError(`${method}: credentials must be an object with email and password`);
  const { email, password } = credentials as Record<string, unknown>;
  if (typeof email !== 'string' || email.length === 0 || email.length > 320)
    throw new TypeError(`${method}: credentials.email must be a non-empty string of at most 320 characters`);
  if (typeof password !== 'string' || password.length === 0 || password.length > 4096)
    throw new TypeError(`${method}: credentials.password must be a non-empty string of at most 4096 characters`);
  return { email, password };
}

export class AuthEngine {
  readonly #settings: EngineSettings;
  readonly #env: EngineEnvironment;
  readonly #behaviour: EngineBehaviour;
  readonly #api: AuthApiContext;
  readonly #apiOrigins: ReadonlySet<string>;
  readonly #listeners = new Set<AuthEventListener>();
  readonly #channel: TabChannel | undefined;
  readonly #lock: TabLock;
  readonly #sleepers = new Set<() => void>();
  #token: AccessToken | undefined;
  #state: AuthState = 'unknown';
  /** Bumped whenever the session is replaced or ended: late answers of older operations are dropped. */
  #epoch = 0;
  #inflight: Promise<AccessToken> | undefined;
  #timer: unknown;
  #timerSet = false;
  /** Background retry after a refresh round failed on the network: not before this local time. */
  #retryAt = 0;
  /** When the last proactive refresh started (local clock): the next one waits `MIN_PROACTIVE_GAP_MS`. */
  #lastProactiveAt = Number.NEGATIVE_INFINITY;
  #closed = false;

  constructor(settings: EngineSettings, env: EngineEnvironment, behaviour: EngineBehaviour) {
    this.#settings = settings;
    this.#env = env;
    this.#behaviour = behaviour;
    this.#api = { settings, fetch: env.fetch, now: env.now };
    this.#apiOrigins = new Set(settings.apiOrigins);
    this.#channel =
      env.BroadcastChannel === undefined ? undefined : openTabChannel(env.BroadcastChannel, settings.channelName);
    this.#channel?.subscribe((message) => this.#onTabMessage(message));
    this.#lock = createTabLock(settings.channelName, env.locks, this.#channel);
  }

  get state(): AuthState {
    return this.#state;
  }

  snapshot(): EngineSnapshot {
    const session = this.session();
    return session === undefined ? { state: this.#state } : { state: this.#state, session };
  }

  session(): SessionInfo | undefined {
    return this.#token === undefined ? undefined : describeSession(this.#token);
  }

  onChange(listener: AuthEventListener): () => void {
    if (typeof listener !== 'function') throw new TypeError('onChange: listener must be a function');
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  async login(credentials: Credentials): Promise<void> {
    const valid = validateCredentials(credentials, 'login');
    this.#assertOpen();
    const epoch = ++this.#epoch;
    const token = await requestLogin(this.#api, valid);
    this.#assertOpen();
    // A later login or logout won the race; this answer is stale.
    if (epoch !== this.#epoch) throw new AuthClientError('ERR_NOT_SIGNED_IN', 'Superseded by a later login or logout');
    this.#adopt(token, 'login');
    this.#announce(token);
  }

  async register(credentials: Credentials): Promise<void> {
    const valid = validateCredentials(credentials, 'register');
    this.#assertOpen();
    await requestRegister(this.#api, valid);
  }

  async logout(): Promise<void> {
    this.#assertOpen();
    const token = this.#token;
    const bearer = token !== undefined && this.#env.now() < token.expiresAt ? token.value : undefined;
    let failure: unknown;
    try {
      await this.#lock.run(() => requestLogout(this.#api, bearer));
    } catch (error) {
      failure = error;
    }
    if (this.#closed) throw new AuthClientError('ERR_CLIENT_CLOSED');
    // Local state ends whatever the server said: the user asked to be signed out here.
    this.#endSession({ type: 'signed-out', source: 'logout' }, 'logout');
    if (failure !== undefined) throw failure;
  }

  async logoutEverywhere(): Promise<void> {
    this.#assertOpen();
    const url = new URL(authUrl(this.#settings, '/auth/logout-all'));
    const response = await this.#sendAuthorized(url, url, cookieRequest(this.#settings, {}));
    if (!response.ok) throw await readServerError(response);
    await response.body?.cancel();
    this.#assertOpen();
    this.#endSession({ type: 'signed-out', source: 'logout-everywhere' }, 'logout-everywhere');
  }

  async restore(): Promise<boolean> {
    this.#assertOpen();
    const token = this.#token;
    if (token !== undefined && this.#env.now() < refreshDueAt(token, this.#settings.refreshLeewaySec)) return true;
    try {
      await this.refresh('restore');
      return true;
    } catch (error) {
      if (isAuthClientError(error) && (error.oauthError === 'invalid_grant' || error.code === 'ERR_NOT_SIGNED_IN')) {
        if (this.#token === undefined && !this.#closed) this.#state = 'signed-out';
        return false;
      }
      throw error;
    }
  }

  async getUser(): Promise<WhoAmI> {
    this.#assertOpen();
    const url = new URL(authUrl(this.#settings, '/auth/whoami'));
    const response = await this.#sendAuthorized(url, url, {
      headers: { accept: 'application/json' },
      credentials: 'omit',
      cache: 'no-store',
    });
    if (!response.ok) throw await readServerError(response);
    const body = await readJson(response);
    if (!isWhoAmI(body)) throw new AuthClientError('ERR_BAD_RESPONSE', 'whoami answered an unexpected shape');
    return body as WhoAmI;
  }

  /** `client.fetch`: the Bearer header only for `apiOrigins`; every other request goes out untouched. */
  async fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    this.#assertOpen();
    if (init !== undefined && (typeof init !== 'object' || init === null))
      throw new TypeError('fetch: init must be an object');
    const url = resolveRequestUrl(input, this.#env.baseUrl?.());
    if (!this.#apiOrigins.has(url.origin)) return this.#env.fetch(input, init);
    if (isTokenEndpoint(url, this.#settings.issuer))
      throw new TypeError('fetch: the token endpoints are not for fetch(); use login() and restore()');
    return this.#sendAuthorized(input, url, init);
  }

  /** Visibility regained or network back: re-read the clock instead of trusting a timer. */
  wake(reason: 'visible' | 'online'): void {
    if (this.#closed) return;
    if (reason === 'online') {
      // The network is back: no reason to sit out a backoff wait.
      this.#retryAt = 0;
      for (const wake of [...this.#sleepers]) wake();
    }
    this.#tick();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#epoch++;
    this.#token = undefined;
    this.#clearTimer();
    for (const wake of [...this.#sleepers]) wake();
    this.#lock.close();
    this.#channel?.close();
    this.#listeners.clear();
  }

  /**
   * One refresh for every concurrent caller in this client, under the cross-tab lock. Resolves
   * with the new token; rejects with the server's code on `invalid_grant` (the session is then
   * over), `ERR_NETWORK` after the retry budget, or the refusal that retrying cannot fix.
   */
  refresh(trigger: RefreshTrigger): Promise<AccessToken> {
    if (this.#closed) return Promise.reject(new AuthClientError('ERR_CLIENT_CLOSED'));
    if (this.#inflight !== undefined) return this.#inflight;
    const flight = this.#runRefresh(trigger, this.#token, this.#epoch).finally(() => {
      if (this.#inflight === flight) this.#inflight = undefined;
    });
    this.#inflight = flight;
    return flight;
  }

  async #runRefresh(trigger: RefreshTrigger, before: AccessToken | undefined, epoch: number): Promise<AccessToken> {
    const { baseDelayMs, maxDelayMs, maxAttempts } = this.#settings.retry;
    for (let attempt = 1; ; attempt++) {
      type Outcome = Awaited<ReturnType<typeof requestRefresh>> | { readonly kind: 'adopted' } | undefined;
      const outcome = await new Promise<Outcome>((resolveEarly, rejectEarly) => {
        this.#lock
          .run(async (): Promise<Outcome> => {
            if (this.#closed) throw new AuthClientError('ERR_CLIENT_CLOSED');
            if (epoch !== this.#epoch) return undefined;
            // Another tab refreshed while we waited for the lock and its token reached us: no network.
            const current = this.#token;
            if (current !== undefined && current !== before && this.#isFresh(current)) return { kind: 'adopted' };
            const result = await requestRefresh(this.#api);
            if (result.kind === 'ok' && epoch === this.#epoch && !this.#closed) {
              // Applied and announced inside the lock; the lock is kept a moment longer so the
              // announcement reaches the other tabs before one of them can take the lock.
              this.#adopt(result.token, trigger);
              this.#announce(result.token);
              if (this.#behaviour.shareTokens && this.#channel !== undefined) {
                resolveEarly(result);
                await new Promise<void>((done) => setTimeout(done, LOCK_HANDOFF_MS));
              }
            }
            return result;
          })
          .then(resolveEarly, rejectEarly);
      });
      this.#assertOpen();
      if (outcome === undefined || epoch !== this.#epoch) {
        // Logged in or out meanwhile: whatever session exists now is the answer.
        if (this.#token !== undefined) return this.#token;
        throw new AuthClientError('ERR_NOT_SIGNED_IN');
      }
      switch (outcome.kind) {
        case 'ok':
          this.#retryAt = 0;
          return outcome.token;
        case 'adopted':
          return this.#token as AccessToken;
        case 'invalid-grant': {
          const code = outcome.error.code;
          const wasSignedIn = this.#state === 'signed-in';
          if (code === 'ERR_REFRESH_REUSED') this.#endSession({ type: 'reuse-detected', code }, 'reuse-detected', code);
          else if (wasSignedIn) this.#endSession({ type: 'session-expired', code }, 'session-expired', code);
          else this.#endQuietly();
          throw outcome.error;
        }
        case 'fatal':
          throw outcome.error;
        case 'retry': {
          const last = attempt >= maxAttempts;
          const backoff = computeBackoffDelay(attempt, baseDelayMs, maxDelayMs, this.#env.random);
          const delay = Math.max(backoff, outcome.retryAfterMs ?? 0);
          const background = this.#settings.proactiveRefresh && this.#token !== undefined;
          const retryInMs = last ? (background ? Math.max(maxDelayMs, outcome.retryAfterMs ?? 0) : 0) : delay;
          this.#emit({ type: 'refresh-failed', error: outcome.error.code, retryInMs });
          if (last) {
            if (background) this.#retryAt = this.#env.now() + retryInMs;
            throw new AuthClientError('ERR_NETWORK', outcome.error.message, {
              cause: outcome.error,
              ...(outcome.error.status === undefined ? {} : { status: outcome.error.status }),
            });
          }
          await this.#sleep(delay);
          this.#assertOpen();
        }
      }
    }
  }

  async #sendAuthorized(input: RequestInfo | URL, url: URL, init: RequestInit | undefined): Promise<Response> {
    assertReplayableBody(init);
    const token = await this.#usableToken();
    const first = await this.#withheldIfTokenAnswer(
      await this.#env.fetch(...withBearer(input, url, init, token.value)),
    );
    if (!isInvalidTokenChallenge(first)) return first;
    let next: AccessToken;
    const current = this.#token;
    if (current !== undefined && current !== token && this.#isFresh(current)) next = current;
    else {
      try {
        next = await this.refresh('retry');
      } catch {
        // No new token (session over, or the network failed): the caller gets the server's 401.
        return first;
      }
    }
    await first.body?.cancel().catch(() => undefined);
    // The one retry: whatever it answers is the answer.
    return this.#withheldIfTokenAnswer(await this.#env.fetch(...withBearer(input, url, init, next.value)));
  }

  /** A request with the token that a redirect took to a token endpoint: its answer (a token) never reaches the caller. */
  async #withheldIfTokenAnswer(response: Response): Promise<Response> {
    if (!isTokenEndpointResponse(response, this.#settings.issuer)) return response;
    await response.body?.cancel().catch(() => undefined);
    throw new AuthClientError(
      'ERR_REDIRECTED_TO_TOKEN_ENDPOINT',
      'The request was redirected to a token endpoint; its answer is withheld',
      { status: response.status },
    );
  }

  async #usableToken(): Promise<AccessToken> {
    if (this.#token === undefined && this.#inflight !== undefined) await this.#inflight.catch(() => undefined);
    this.#assertOpen();
    const token = this.#token;
    if (token === undefined) throw new AuthClientError('ERR_NOT_SIGNED_IN');
    if (this.#isFresh(token)) return token;
    try {
      return await this.refresh('expired');
    } catch (error) {
      // Offline but the old token still has some life: use it rather than fail the request.
      if (
        isAuthClientError(error, 'ERR_NETWORK') &&
        this.#token === token &&
        this.#env.now() < token.expiresAt - EXPIRY_SAFETY_MS
      )
        return token;
      throw error;
    }
  }

  #isFresh(token: AccessToken): boolean {
    return this.#env.now() < refreshDueAt(token, this.#settings.refreshLeewaySec);
  }

  #adopt(token: AccessToken, cause: RefreshTrigger | 'login'): void {
    const previous = this.#token;
    const wasSignedIn = this.#state === 'signed-in' && previous !== undefined;
    this.#token = token;
    this.#state = 'signed-in';
    this.#retryAt = 0;
    this.#schedule();
    if (cause === 'login') this.#emit({ type: 'signed-in', source: 'login' });
    else if (!wasSignedIn || previous.sub !== token.sub)
      this.#emit({ type: 'signed-in', source: cause === 'other-tab' ? 'other-tab' : 'restore' });
    else this.#emit({ type: 'refreshed', trigger: cause, expiresAt: token.expiresAt });
  }

  /** Tells the other tabs: the token itself in memory mode, a notice without it in worker mode. */
  #announce(token: AccessToken): void {
    if (this.#behaviour.shareTokens) {
      this.#channel?.post({
        t: 'token',
        token: token.value,
        expiresAt: token.expiresAt,
        lifetimeMs: token.lifetimeMs,
        scope: token.scope,
      });
    } else {
      this.#channel?.post({ t: 'signed-in' });
      this.#channel?.post({ t: 'refreshed', expiresAt: token.expiresAt });
    }
  }

  #endSession(event: AuthEvent, reason: SignOutReason, code?: string): void {
    const wasSignedOut = this.#state === 'signed-out';
    this.#endQuietly();
    this.#channel?.post(code === undefined ? { t: 'signed-out', reason } : { t: 'signed-out', reason, code });
    if (!wasSignedOut || event.type === 'reuse-detected') this.#emit(event);
  }

  #endQuietly(): void {
    this.#epoch++;
    this.#token = undefined;
    this.#state = 'signed-out';
    this.#retryAt = 0;
    this.#clearTimer();
  }

  #onTabMessage(message: TabMessage): void {
    if (this.#closed) return;
    switch (message.t) {
      case 'token': {
        if (!this.#behaviour.shareTokens) return;
        const current = this.#token;
        // Only a newer token than ours: a real rotation always expires later than what it replaces.
        if (current !== undefined && message.expiresAt <= current.expiresAt) return;
        // Anything on the origin can post here: only a token this client could have got itself.
        const token = acceptSharedToken(message, { now: this.#env.now(), issuer: this.#settings.issuer, current });
        if (token !== undefined) this.#adopt(token, 'other-tab');
        return;
      }
      case 'signed-in':
        // Worker mode: sign in through the shared cookie, under the lock (a normal rotation).
        if (this.#behaviour.shareTokens || this.#state === 'signed-in') return;
        this.refresh('other-tab').catch(() => undefined);
        return;
      case 'signed-out': {
        if (this.#state === 'signed-out' && this.#token === undefined) return;
        this.#endQuietly();
        const code = message.code ?? 'ERR_REFRESH_REVOKED';
        if (message.reason === 'session-expired') this.#emit({ type: 'session-expired', code });
        else if (message.reason === 'reuse-detected') this.#emit({ type: 'reuse-detected', code });
        else this.#emit({ type: 'signed-out', source: 'other-tab' });
        return;
      }
      default:
        return;
    }
  }

  #schedule(): void {
    this.#clearTimer();
    if (this.#closed || !this.#settings.proactiveRefresh || this.#token === undefined) return;
    const due = this.#proactiveDueAt(this.#token);
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, due - this.#env.now()));
    this.#timerSet = true;
    this.#timer = this.#env.timers.setTimeout(() => {
      this.#timerSet = false;
      this.#tick();
    }, delay);
  }

  #tick(): void {
    const token = this.#token;
    if (this.#closed || token === undefined || !this.#settings.proactiveRefresh) return;
    const now = this.#env.now();
    if (now < this.#proactiveDueAt(token)) {
      this.#schedule();
      return;
    }
    this.#clearTimer();
    this.#lastProactiveAt = now;
    this.refresh('proactive').then(
      () => undefined,
      () => {
        // Whatever failed (network after the budget, or a refusal), wait before the next round.
        const failedAt = this.#env.now();
        if (this.#retryAt <= failedAt) this.#retryAt = failedAt + this.#settings.retry.maxDelayMs;
        this.#schedule();
      },
    );
  }

  /**
   * When the next proactive refresh may start: at the refresh point, after any backoff wait, and
   * never sooner than `MIN_PROACTIVE_GAP_MS` after the previous one, so no answer (a token that is
   * already stale on arrival, say) can make a tab refresh in a loop.
   */
  #proactiveDueAt(token: AccessToken): number {
    return Math.max(
      refreshDueAt(token, this.#settings.refreshLeewaySec),
      this.#retryAt,
      this.#lastProactiveAt + MIN_PROACTIVE_GAP_MS,
    );
  }

  #clearTimer(): void {
    if (!this.#timerSet) return;
    this.#timerSet = false;
    this.#env.timers.clearTimeout(this.#timer);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.#sleepers.delete(wake);
        this.#env.timers.clearTimeout(handle);
        resolve();
      };
      const handle = this.#env.timers.setTimeout(wake, ms);
      this.#sleepers.add(wake);
    });
  }

  #emit(event: AuthEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (error) {
        // A broken listener must not break the session; surface it where the platform can.
        (globalThis as { reportError?: (e: unknown) => void }).reportError?.(error);
      }
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new AuthClientError('ERR_CLIENT_CLOSED');
  }
}
