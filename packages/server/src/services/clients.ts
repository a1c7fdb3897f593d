/**
 * The client registry: confidential clients (resource servers, later the BFF) that call
 * `/oauth/introspect` and `/oauth/revoke`. A client is an id, a label, a set of permissions
 * (`scopes`) and the SHA-256 of a secret that Tessera generated and showed once.
 *
 * Why a fast hash: the secret is 256 random bits, so there is no dictionary to try and no
 * password to stretch; a slow hash would only slow every call down. The comparison is constant
 * time on the two digests, and an unknown client is compared against a dummy digest so that it
 * costs the same as a wrong secret.
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import { AuthError, takeRandomBytes } from '@tessera/core';
import type { ClientRecord, DurableStore } from '../contracts.js';

/** What a client may do: introspect tokens, revoke them, read the revocation feed. */
export const CLIENT_SCOPES = ['introspect', 'revoke', 'revocations'] as const;
export type ClientScope = (typeof CLIENT_SCOPES)[number];

export const CLIENT_ID_PREFIX = 'cli_';
export const CLIENT_SECRET_PREFIX = 'tcs_';
/**
 * Operator-chosen ids: RFC 3986 unreserved characters only, so an id never needs escaping in
 * HTTP Basic, a form body, a log line or a shell.
 */
export const CLIENT_ID_FORMAT = /^[A-Za-z0-9._~-]{1,128}$/;
/** What the store may hold (the contract): 1-128 printable ASCII characters. */
const STORED_ID_FORMAT = /^[\x21-\x7e]{1,128}$/;
const SECRET_FORMAT = /^tcs_[A-Za-z0-9_-]{43}$/;
/** Longer presented values are refused before any lookup or hashing. */
export const MAX_CLIENT_SECRET_LENGTH = 256;

const DUMMY_HASH = Buffer.from(hashClientSecret('tessera dummy client secret'), 'hex');

export function hashClientSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function isClientSecretFormat(value: unknown): value is string {
  return typeof value === 'string' && SECRET_FORMAT.test(value);
}

/** Parses a space-separated scope list: known names only, no duplicates, never empty. */
export function parseClientScopes(input: string | undefined): ClientScope[] {
  if (input === undefined) return [...CLIENT_SCOPES];
  const names = input.split(' ').filter((s) => s !== '');
  if (names.length === 0) throw new AuthError('ERR_VALIDATION', { claim: 'scopes', detail: 'no scope given' });
  const out: ClientScope[] = [];
  for (const name of names) {
    if (!(CLIENT_SCOPES as readonly string[]).includes(name)) {
      throw new AuthError('ERR_VALIDATION', {
        claim: 'scopes',
        detail: `unknown scope (known: ${CLIENT_SCOPES.join(' ')})`,
      });
    }
    if (!out.includes(name as ClientScope)) out.push(name as ClientScope);
  }
  return out;
}

export function clientHasScope(client: ClientRecord, scope: ClientScope): boolean {
  return client.scopes.split(' ').includes(scope);
}

export interface CreatedClient {
  readonly client: ClientRecord;
  /** The secret in clear: shown once, never stored. */
  readonly secret: string;
}

export class ClientRegistry {
  constructor(
    readonly store: DurableStore,
    readonly clock: () => number,
  ) {}

  /** Registers a client; `exists` when the id is taken (only possible with an operator-given id). */
  async create(
    name: string,
    options: { id?: string; scopes?: string } = {},
  ): Promise<{ status: 'created'; created: CreatedClient } | { status: 'exists' }> {
    const label = name.trim();
    if (label === '' || label.length > 200 || /\p{Cc}/u.test(label)) {
      throw new AuthError('ERR_VALIDATION', { claim: 'name', detail: '1-200 characters, no control characters' });
    }
    const id = options.id ?? `${CLIENT_ID_PREFIX}${takeRandomBytes(16).toString('base64url')}`;
    if (!CLIENT_ID_FORMAT.test(id)) {
      throw new AuthError('ERR_VALIDATION', { claim: 'id', detail: '1-128 characters from A-Z a-z 0-9 . _ ~ -' });
    }
    const scopes = parseClientScopes(options.scopes).join(' ');
    const secret = `${CLIENT_SECRET_PREFIX}${takeRandomBytes(32).toString('base64url')}`;
    const client: ClientRecord = {
      id,
      name: label,
      secretHash: hashClientSecret(secret),
      createdAt: this.clock(),
      scopes,
    };
    if ((await this.store.createClient(client)) === 'exists') return { status: 'exists' };
    return { status: 'created', created: { client, secret } };
  }

  list(): Promise<ClientRecord[]> {
    return this.store.listClients();
  }

  remove(id: string): Promise<boolean> {
    return this.store.deleteClient(id);
  }

  /**
   * The client whose id and secret these are, or undefined. Unknown id and wrong secret take the
   * same path (one SHA-256 and one constant-time comparison) and give the same answer.
   */
  async authenticate(id: string, secret: string): Promise<ClientRecord | undefined> {
    if (!STORED_ID_FORMAT.test(id) || secret.length > MAX_CLIENT_SECRET_LENGTH) return undefined;
    const client = await this.store.findClient(id);
    const presented = Buffer.from(hashClientSecret(secret), 'hex');
    const stored = client === undefined ? DUMMY_HASH : Buffer.from(client.secretHash, 'hex');
    const equal = stored.length === presented.length && timingSafeEqual(stored, presented);
    return client !== undefined && equal ? client : undefined;
  }
}
