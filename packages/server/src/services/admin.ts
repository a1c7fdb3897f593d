/**
 * Operator actions behind the CLI (`tessera users|sessions|keys|audit`). They work on the same
 * stores as the running server; unlike the public endpoints they may say whether an account
 * exists, because only an operator with database access can run them.
 */

import { AuthError } from '@tessera/core';
import type { ClientRecord, SessionRecord, UserRecord } from '../contracts.js';
import type { RouteContext } from '../http/context.js';
import { isValidEmail, normaliseEmail } from './auth-service.js';
import { ClientRegistry, type CreatedClient } from './clients.js';
import { createId } from './ids.js';
import { checkPasswordPolicy } from './passwords.js';

export class AdminService {
  readonly clients: ClientRegistry;

  constructor(readonly ctx: RouteContext) {
    this.clients = new ClientRegistry(ctx.durable, ctx.clock);
  }

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

  /** Registers a confidential client; the secret in the result is shown once and never stored. */
  async addClient(
    name: string,
    options: { id?: string; scopes?: string } = {},
  ): Promise<{ status: 'created'; created: CreatedClient } | { status: 'exists' }> {
    const result = await this.clients.create(name, options);
    if (result.status === 'created') {
      const { client } = result.created;
      await this.ctx.audit.record('client.created', {
        data: { client_id: client.id, name: client.name, scopes: client.scopes, by: 'operator' },
      });
    }
    return result;
  }

  listClients(): Promise<ClientRecord[]> {
    return this.clients.list();
  }

  /** Deletes a client: its secret stops working at once. False when there was no such client. */
  async removeClient(id: string): Promise<boolean> {
    const removed = await this.clients.remove(id);
    if (removed) await this.ctx.audit.record('client.deleted', { data: { client_id: id, by: 'operator' } });
    return removed;
  }
}
