/**
 * Operator actions behind the CLI (`tessera users|sessions|keys|audit`). They work on the same
 * stores as the running server; unlike the public endpoints they may say whether an account
 * exists, because only an operator with database access can run them.
 */

import { AuthError } from '@tessera/core';
import type { SessionRecord, UserRecord } from '../contracts.js';
import type { RouteContext } from '../http/context.js';
import { isValidEmail, normaliseEmail } from './auth-service.js';
import { createId } from './ids.js';
import { checkPasswordPolicy } from './passwords.js';

export class AdminService {
  constructor(readonly ctx: RouteContext) {}

  /** Finds a user by id (`usr_...`) or by email. */
  async findUser(idOrEmail: string): Promise<UserRecord | undefined> {
    if (idOrEmail.startsWith('usr_')) return this.ctx.durable.findUserById(idOrEmail);
    return this.ctx.durable.findUserByEmail(normaliseEmail(idOrEmail));
  }

  async addUser(
    emailInput: string,
    password: string,
  ): Promise<{ status: 'created'; user: UserRecord } | { status: 'exists' }> {
    const email = normaliseEmail(emailInput);
    if (!isValidEmail(email)) throw new AuthError('ERR_VALIDATION', { claim: 'email' });
    checkPasswordPolicy(password, email);
    const now = this.ctx.clock();
    const user: UserRecord = {
      id: createId('usr'),
      email,
      passwordHash: await this.ctx.auth.hasher.hash(password),
      status: 'active',
      createdAt: now,
      updatedAt: now,
      tokensValidAfter: 0,
    };
    if ((await this.ctx.durable.createUser(user)) === 'exists') return { status: 'exists' };
    await this.ctx.audit.record('user.registered', { userId: user.id, data: { by: 'operator' } });
    return { status: 'created', user };
  }

  /** Disables an account: it cannot log in, every session ends, its tokens die everywhere. */
  async disableUser(user: UserRecord): Promise<void> {
    await this.ctx.revocation.disableUser(user.id, this.ctx.clock());
    await this.ctx.audit.record('user.disabled', { userId: user.id, data: { by: 'operator' } });
  }

  async enableUser(user: UserRecord): Promise<void> {
    await this.ctx.durable.updateUser(user.id, { status: 'active' }, this.ctx.clock());
    await this.ctx.audit.record('user.enabled', { userId: user.id, data: { by: 'operator' } });
  }

  async listSessions(user: UserRecord, includeEnded: boolean): Promise<SessionRecord[]> {
    return this.ctx.durable.listSessions(user.id, { includeEnded, now: this.ctx.clock() });
  }

  async revokeSession(sessionId: string): Promise<boolean> {
    const session = await this.ctx.durable.findSession(sessionId);
    if (session === undefined) return false;
    const revoked = await this.ctx.revocation.revokeSession(sessionId, 'operator', this.ctx.clock());
    if (revoked) {
      await this.ctx.audit.record('session.revoked', {
        userId: session.userId,
        sessionId,
        data: { reason: 'operator', by: 'operator' },
      });
    }
    return revoked;
  }
}
