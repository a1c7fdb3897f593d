/** The public shapes of the SDK: options, the client, its events and what it reports. */

export type AuthMode = 'memory' | 'worker';
export type AuthState = 'unknown' | 'signed-in' | 'signed-out';

/** Timer functions the client schedules with. Injectable for tests only. */
export interface AuthTimers {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface RetryOptions {
  /** First backoff delay after a network error, in milliseconds. Default 500. */
  readonly baseDelayMs?: number;
  /** Longest backoff delay, in milliseconds (also the pause between background retry rounds). Default 30000. */
  readonly maxDelayMs?: number;
  /** Attempts per refresh before the caller gets `ERR_NETWORK` (the session is kept). Default 5. */
  readonly maxAttempts?: number;
}

export interface AuthClientOptions {
  /** Base URL of the auth server, e.g. `location.origin`. https, or http on a loopback host only. */
  readonly issuer: string;
  /**
   * Exact origins (`scheme://host[:port]`) whose requests made with `client.fetch` get the
   * `Authorization: Bearer` header. Default: the issuer's origin. No other origin ever gets it.
   */
  readonly apiOrigins?: readonly string[];
  /**
   * Refresh when fewer than this many seconds of the access token remain. Default 60.
   * Clamped to half the token's lifetime, so a short-lived token does not refresh in a loop.
   */
  readonly refreshLeewaySec?: number;
  /** Refresh in the background before the token expires. Default true. */
  readonly proactiveRefresh?: boolean;
  /** Where the access token lives: this page's memory, or a dedicated Web Worker. Default `'memory'`. */
  readonly mode?: AuthMode;
  /** Worker mode: URL of the built worker script. Default `new URL('./worker.js', import.meta.url)`. */
  readonly workerUrl?: string | URL;
  /** Name of the Web Lock and BroadcastChannel shared by the tabs of one app. Default `'tessera-auth'`. */
  readonly channelName?: string;
  /** CSRF header sent (with value `1`) to the auth server's cookie endpoints. Default `'x-tessera-csrf'`. */
  readonly csrfHeader?: string;
  /** Memory mode: the fetch implementation. Default `globalThis.fetch`. For tests. */
  readonly fetch?: typeof fetch;
  /** Backoff for refreshes that fail on the network (fetch throws, 5xx, 429). */
  readonly retry?: RetryOptions;
  /** Memory mode: the local clock in milliseconds since the epoch. Default `Date.now`. For tests. */
  readonly clock?: () => number;
  /** Memory mode: timer functions for proactive refresh and backoff. Default the global ones. For tests. */
  readonly timers?: AuthTimers;
}

/** What the page may know about the session. Never the token. */
export interface SessionInfo {
  /** When the access token expires, in milliseconds since the epoch on the LOCAL clock (offset-corrected). */
  readonly expiresAt: number;
  /** Granted scope, space-separated. */
  readonly scope: string;
  /** Session id (`sid` claim), when the token carries one. */
  readonly sid?: string;
  /** User id (`sub` claim), when the token carries one. */
  readonly sub?: string;
}

/** `GET /auth/whoami`. */
export interface WhoAmI {
  readonly user: { readonly id: string; readonly email: string; readonly status: string; readonly created_at: number };
  readonly claims: Readonly<Record<string, unknown>>;
}

export interface Credentials {
  readonly email: string;
  readonly password: string;
}

export type RefreshTrigger = 'proactive' | 'retry' | 'restore' | 'expired' | 'other-tab';

export type AuthEvent =
  | { readonly type: 'signed-in'; readonly source: 'login' | 'restore' | 'other-tab' }
  | { readonly type: 'signed-out'; readonly source: 'logout' | 'logout-everywhere' | 'other-tab' }
  | { readonly type: 'session-expired'; readonly code: string }
  | { readonly type: 'reuse-detected'; readonly code: string }
  | { readonly type: 'refreshed'; readonly trigger: RefreshTrigger; readonly expiresAt: number }
  | { readonly type: 'refresh-failed'; readonly error: string; readonly retryInMs: number };

export type AuthEventListener = (event: AuthEvent) => void;

export interface AuthClient {
  readonly mode: AuthMode;
  readonly state: AuthState;
  /** Password login. Throws `AuthClientError` with the server's code (e.g. `ERR_INVALID_CREDENTIALS`). */
  login(credentials: Credentials): Promise<void>;
  /** Creates an account (the server answers 202 whether or not the email was new). Does not sign in. */
  register(credentials: Credentials): Promise<void>;
  /** Ends this session on the server and in every tab. */
  logout(): Promise<void>;
  /** Ends every session of the user (`/auth/logout-all`), then signs out every tab. */
  logoutEverywhere(): Promise<void>;
  /** Page load: one silent refresh through the cookie. True when signed in; false (no throw) when there is no session. */
  restore(): Promise<boolean>;
  /** `GET /auth/whoami` with the access token. */
  getUser(): Promise<WhoAmI>;
  /** `fetch` that adds the Bearer header for `apiOrigins`, refreshes when needed and retries once on `invalid_token`. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** Expiry and identifiers of the current session, for display; undefined when signed out. */
  session(): SessionInfo | undefined;
  /** Subscribes to events; returns the unsubscribe function. */
  onChange(listener: AuthEventListener): () => void;
  /** Stops timers, closes channels, terminates the worker. Later calls reject with `ERR_CLIENT_CLOSED`. */
  close(): void;
}
