/**
 * The domain: accounts, login, sessions and refresh rotation, independent of HTTP. Routes are
 * thin adapters around these methods; the CLI calls them too.
 */

import { type AccessTokenClaims, type AccessTokenSigner, AuthError, createAccessTokenSigner } from '@tessera/core';
import type { AuthServerConfig } from '../config.js';
import type { DurableStore, RotationResult, SessionRecord, UserRecord } from '../contracts.js';
import type { AuditTrail } from './audit.js';
import { createId } from './ids.js';
import type { RefreshOutcome } from './metrics.js';
import { checkPasswordPolicy, type PasswordHasher } from './passwords.js';
import { type CachedSession, RefreshSessionCache } from './refresh-session-cache.js';
import { createRefreshToken, hashRefreshToken, isRefreshTokenFormat } from './refresh-tokens.js';
import type { RevocationService } from './revocation.js';
import { deriveKey, open, seal } from './sealed-box.js';
import type { SigningKeyManager } from './signing-keys.js';

export interface ClientInfo {
  readonly ip: string | null;
  readonly userAgent: string | null;
}

/** What a login or refresh hands back: the body fields plus the refresh token and its cookie life. */
export interface TokenGrant {
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly scope: string;
  readonly refreshToken: string;
  /** The session's absolute end, seconds since the epoch: the cookie may not outlive it. */
  readonly sessionExpiresAt: number;
  readonly sessionId: string;
}

/** Normalises an email address for lookup: trimmed, NFC, lower-cased. */
export function normaliseEmail(raw: string): string {
  return raw.trim().normalize('NFC').toLowerCase();
}

/**
 * A deliberately plain check: local part, one `@`, a dotted domain; no whitespace, quotes,
 * brackets, separators, and no control or format characters (NUL, bidi overrides) that could
 * make one address display as another.
 */
const EMAIL_FORMAT =
  /^[^\s@"<>()[\]\\,;:\p{Cc}\p{Cf}]{1,64}@[^\s@"<>()[\]\\,;:\p{Cc}\p{Cf}]{1,253}\.[^\s@"<>()[\]\\,;:\p{Cc}\p{Cf}]{2,63}$/u;

export function isValidEmail(email: string): boolean {
  return email.length <= 254 && EMAIL_FORMAT.test(email);
}

/** The refresh outcome an error stands for; anything but the four refresh errors is `invalid`. */
function refreshFailureOutcome(error: AuthError): RefreshOutcome {
  switch (error.code) {
    case 'ERR_REFRESH_MISSING':
      return 'missing';
    case 'ERR_REFRESH_REUSED':
      return 'reused';
    case 'ERR_REFRESH_EXPIRED':
      return 'expired';
    case 'ERR_REFRESH_REVOKED':
      return 'revoked';
    default:
      return 'invalid';
  }
}

export class AuthService {
  constructor(
    readonly config: AuthServerConfig,
    readonly store: DurableStore,
    readonly keys: SigningKeyManager,
    readonly hasher: PasswordHasher,
    readonly revocation: RevocationService,
    readonly audit: AuditTrail,
    readonly clock: () => number,
    /** Sees the outcome of every refresh attempt, success or failure (metrics). */
    readonly observeRefresh?: (outcome: RefreshOutcome) => void,
  ) {
    this.#sessions = new RefreshSessionCache(config.refreshCacheEntries);
    this.#signer = createAccessTokenSigner({
      issuer: config.issuer,
      audience: config.audience,
      ttlSec: config.accessTokenTtlSec,
      clock,
    });
  }

  readonly #signer: AccessTokenSigner;
  /** Sessions of the refresh tokens this process issued (see RefreshSessionCache). */
  readonly #sessions: RefreshSessionCache;

  /**
   * Creates an account. Answers the same whether or not the email is taken, so registration
   * cannot be used to enumerate accounts; a taken address simply gets no new account.
   */
  async register(emailInput: string, password: string, client: ClientInfo): Promise<void> {
    if (!this.config.registrationOpen) throw new AuthError('ERR_REGISTRATION_CLOSED');
    const email = normaliseEmail(emailInput);
    if (!isValidEmail(email)) throw new AuthError('ERR_VALIDATION', { claim: 'email' });
    checkPasswordPolicy(password, email);
    const passwordHash = await this.hasher.hash(password);
    const now = this.clock();
    const user: UserRecord = {
      id: createId('usr'),
      email,
      passwordHash,
      status: 'active',
      createdAt: now,
      updatedAt: now,
      tokensValidAfter: 0,
    };
    const result = await this.store.createUser(user);
    if (result === 'created') await this.audit.record('user.registered', { userId: user.id, ...client });
  }

  /** Password login. Unknown email and wrong password fail identically, in the same time. */
  async login(emailInput: string, password: string, client: ClientInfo): Promise<TokenGrant> {
    const email = normaliseEmail(emailInput);
    const user = isValidEmail(email) ? await this.store.findUserByEmail(email) : undefined;
    const ok =
      user === undefined
        ? await this.hasher.verifyDummy(password)
        : await this.hasher.verify(user.passwordHash, password);
    if (!ok || user === undefined) {
      await this.audit.record('login.failed', {
        userId: user?.id ?? null,
        ...client,
        data: { reason: user === undefined ? 'unknown_email' : 'wrong_password' },
      });
      throw new AuthError('ERR_INVALID_CREDENTIALS');
    }
    if (user.status !== 'active') {
      await this.audit.record('login.failed', { userId: user.id, ...client, data: { reason: 'account_disabled' } });
      throw new AuthError('ERR_ACCOUNT_DISABLED');
    }
    const grant = await this.startSession(user, client);
    // The password may have changed (or the account been disabled) while argon2 ran: a session
    // authenticated by the old password must not survive that. Anything that changes after this
    // read revokes the new session itself, since it already exists.
    const current = await this.store.findUserById(user.id);
    if (current === undefined || current.passwordHash !== user.passwordHash || current.status !== 'active') {
      await this.revocation.revokeSession(grant.sessionId, 'credentials_changed', this.clock());
      throw new AuthError('ERR_INVALID_CREDENTIALS');
    }
    await this.audit.record('login.succeeded', { userId: user.id, sessionId: grant.sessionId, ...client });
    return grant;
  }

  /** Starts a session (a new refresh token family) for an authenticated user. */
  async startSession(user: UserRecord, client: ClientInfo): Promise<TokenGrant> {
    const now = this.clock();
    const session: SessionRecord = {
      id: createId('ses'),
      userId: user.id,
      clientId: this.config.clientId,
      scope: this.config.defaultScope,
      authTime: now,
      createdAt: now,
      lastUsedAt: now,
      idleExpiresAt: Math.min(now + this.config.refreshIdleTtlSec, now + this.config.sessionMaxTtlSec),
      absoluteExpiresAt: now + this.config.sessionMaxTtlSec,
      revokedAt: null,
      revokedReason: null,
      userAgent: client.userAgent?.slice(0, 512) ?? null,
      ip: client.ip,
    };
    const refreshToken = createRefreshToken();
    const refreshHash = hashRefreshToken(refreshToken);
    await this.store.createSession(session, { hash: refreshHash, expiresAt: session.idleExpiresAt });
    this.#sessions.remember(refreshHash, session, session.idleExpiresAt);
    const access = await this.#signAccess(session);
    return {
      accessToken: access.token,
      expiresIn: this.config.accessTokenTtlSec,
      scope: session.scope,
      refreshToken,
      sessionExpiresAt: session.absoluteExpiresAt,
      sessionId: session.id,
    };
  }

  /** Signs on the threadpool: the event loop keeps serving while another core signs. */
  #signAccess(
    session: CachedSession,
    scope: string = session.scope,
  ): Promise<{ token: string; claims: AccessTokenClaims }> {
    return this.#signer.signAsync(
      {
        sub: session.userId,
        sid: session.id,
        client_id: session.clientId,
        scope,
        auth_time: session.authTime,
      },
      this.keys.current,
    );
  }

  /**
   * Rotates a refresh token. The successor and its access token are minted first, then one
   * atomic compare-and-set in the store decides: exactly one concurrent caller wins; duplicates
   * within the grace window get the winner's response replayed byte for byte; a use after the
   * window revokes the whole family.
   */
  async refresh(
    presented: unknown,
    client: ClientInfo,
    options: { requestedScope?: string } = {},
  ): Promise<TokenGrant> {
    try {
      const [outcome, grant] = await this.#refresh(presented, client, options);
      this.observeRefresh?.(outcome);
      return grant;
    } catch (error) {
      if (error instanceof AuthError) this.observeRefresh?.(refreshFailureOutcome(error));
      throw error;
    }
  }

  async #refresh(
    presented: unknown,
    client: ClientInfo,
    options: { requestedScope?: string },
  ): Promise<[RefreshOutcome, TokenGrant]> {
    if (presented === undefined || presented === null || presented === '') throw new AuthError('ERR_REFRESH_MISSING');
    if (!isRefreshTokenFormat(presented)) throw new AuthError('ERR_REFRESH_INVALID');
    const now = this.clock();
    const presentedHash = hashRefreshToken(presented);
    const sealKey = deriveKey(presented, 'tessera refresh grace v1');
    // A token this process issued: its session is known, the store decides everything else
    // in the rotation call. Otherwise one read for the family, its owner's status and the
    // token's state (the owner is checked again under the store's lock).
    let session: CachedSession | undefined = this.#sessions.take(presentedHash, now);
    let seenUnrotated = session !== undefined;
    if (session === undefined) {
      const context = await this.store.findRefreshContext(presentedHash);
      if (context === undefined) throw new AuthError('ERR_REFRESH_INVALID');
      // Fix: a disabled (or deleted) account gets no new tokens. Refresh used to mint access
      // tokens for it as long as its sessions were not revoked (e.g. status set by an operator
      // in the store), and verifiers that only check signatures would accept them.
      if (context.userStatus !== 'active') {
        throw new AuthError('ERR_REFRESH_REVOKED', { detail: 'account disabled' });
      }
      session = context.session;
      seenUnrotated = context.rotatedAt === null;
    }
    // Fix: the requested scope (RFC 6749 section 6) is checked before the rotation. It used to
    // be checked by the route after it, so a refused request had already consumed the token.
    if (options.requestedScope !== undefined && options.requestedScope !== session.scope) {
      const granted = new Set(session.scope.split(' '));
      if (!options.requestedScope.split(' ').every((s) => granted.has(s))) {
        throw new AuthError('ERR_VALIDATION', { claim: 'scope', detail: 'scope exceeds the grant' });
      }
    }

    const nextToken = createRefreshToken();
    // RFC 6749 section 6: a narrower requested scope narrows this access token (the session,
    // and so later refreshes, keep the original grant).
    const scope = options.requestedScope ?? session.scope;
    const access = await this.#signAccess(session, scope);
    const grant: TokenGrant = {
      accessToken: access.token,
      expiresIn: this.config.accessTokenTtlSec,
      scope,
      refreshToken: nextToken,
      sessionExpiresAt: session.absoluteExpiresAt,
      sessionId: session.id,
    };
    const nextHash = hashRefreshToken(nextToken);
    const nextExpiresAt = now + this.config.refreshIdleTtlSec;
    const audit = { userId: session.userId, sessionId: session.id, ...client };
    const rotatedEvent = this.audit.build('refresh.rotated', audit);
    const result: RotationResult = await this.store.rotateRefreshToken({
      presentedHash,
      next: { hash: nextHash, expiresAt: nextExpiresAt },
      graceResponse: seal(sealKey, JSON.stringify(grant), presentedHash),
      now,
      graceSec: this.config.refreshGraceSec,
      idleSec: this.config.refreshIdleTtlSec,
      ip: client.ip,
      userAgent: client.userAgent?.slice(0, 512) ?? null,
      seenUnrotated,
      audit: rotatedEvent,
    });
    switch (result.outcome) {
      case 'rotated':
        // Stored by the rotation itself, in its transaction.
        this.audit.announce(rotatedEvent, audit);
        this.#sessions.remember(nextHash, result.session, nextExpiresAt);
        return ['rotated', grant];
      case 'grace': {
        const replay = open(sealKey, result.graceResponse, presentedHash);
        if (replay === undefined) throw new AuthError('ERR_REFRESH_INVALID', { detail: 'grace replay unreadable' });
        await this.audit.record('refresh.grace_replayed', audit);
        return ['grace', JSON.parse(replay) as TokenGrant];
      }
      case 'reused':
        if (result.revokedNow) await this.revocation.announceSessionRevoked(session.id, now);
        await this.audit.record('refresh.reuse_detected', {
          ...audit,
          data: {
            family: session.id,
            firstUse: result.firstUse,
            reuse: { at: now, ip: client.ip, userAgent: client.userAgent },
          },
        });
        if (result.revokedNow) {
          await this.audit.record('session.revoked', { ...audit, data: { reason: 'refresh_reuse', by: 'system' } });
        }
        throw new AuthError('ERR_REFRESH_REUSED');
      case 'expired':
        throw new AuthError('ERR_REFRESH_EXPIRED');
      case 'revoked':
        throw new AuthError('ERR_REFRESH_REVOKED');
      default:
        throw new AuthError('ERR_REFRESH_INVALID');
    }
  }

  /** Ends the session a refresh token belongs to. Unknown tokens are ignored (logout always succeeds). */
  async logoutByRefreshToken(presented: unknown, client: ClientInfo): Promise<string | undefined> {
    if (!isRefreshTokenFormat(presented)) return undefined;
    const session = await this.store.findSessionByRefreshHash(hashRefreshToken(presented));
    if (session === undefined) return undefined;
    await this.endSession(session.id, session.userId, 'logout', client);
    return session.id;
  }

  async endSession(sessionId: string, userId: string, reason: string, client: ClientInfo): Promise<boolean> {
    const now = this.clock();
    const revoked = await this.revocation.revokeSession(sessionId, reason, now);
    if (revoked) {
      await this.audit.record('session.revoked', { userId, sessionId, ...client, data: { reason, by: 'user' } });
    }
    return revoked;
  }

  /** Logout everywhere: every session revoked and the per-user cutoff set. */
  async logoutEverywhere(userId: string, client: ClientInfo): Promise<number> {
    const now = this.clock();
    const ids = await this.revocation.revokeUserSessions(userId, 'logout_all', now);
    await this.revocation.setUserCutoff(userId, now);
    await this.audit.record('user.cutoff_set', {
      userId,
      ...client,
      data: { reason: 'logout_all', sessions: ids.length },
    });
    return ids.length;
  }

  /** Changes the password after checking the current one; every other session ends. */
  async changePassword(
    userId: string,
    currentSessionId: string | undefined,
    current: string,
    next: string,
    client: ClientInfo,
  ): Promise<void> {
    const user = await this.store.findUserById(userId);
    if (user === undefined || !(await this.hasher.verify(user.passwordHash, current))) {
      await this.audit.record('login.failed', {
        userId,
        sessionId: currentSessionId ?? null,
        ...client,
        data: { reason: 'wrong_current_password' },
      });
      throw new AuthError('ERR_INVALID_CREDENTIALS');
    }
    checkPasswordPolicy(next, user.email);
    const now = this.clock();
    await this.store.updateUser(userId, { passwordHash: await this.hasher.hash(next) }, now);
    const ids = await this.revocation.revokeUserSessions(userId, 'password_changed', now, currentSessionId);
    await this.audit.record('user.password_changed', {
      userId,
      sessionId: currentSessionId ?? null,
      ...client,
      data: { sessionsRevoked: ids.length },
    });
  }
}
