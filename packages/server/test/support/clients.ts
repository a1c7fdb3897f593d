/** Helpers for the client-authenticated endpoints (/oauth/revoke, /oauth/introspect). */

import { AdminService } from '@tessera/server';
import type { Harness } from './harness.js';

export interface TestClient {
  readonly id: string;
  readonly secret: string;
}

/** Registers a confidential client through the operator service (what `tessera clients add` does). */
export async function addClient(
  h: Harness,
  options: { id?: string; scopes?: string; name?: string } = {},
): Promise<TestClient> {
  const admin = new AdminService(h.server.context);
  const result = await admin.addClient(options.name ?? 'orders API', {
    ...(options.id === undefined ? {} : { id: options.id }),
    ...(options.scopes === undefined ? {} : { scopes: options.scopes }),
  });
  if (result.status !== 'created') throw new Error('client id taken');
  return { id: result.created.client.id, secret: result.created.secret };
}

/** RFC 6749 2.3.1: the id and secret are form-urlencoded, then joined by `:` and base64-encoded. */
export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

export function basicRaw(decoded: string | Buffer): string {
  return `Basic ${Buffer.from(decoded).toString('base64')}`;
}

/** A form POST; `auth` is the whole Authorization header value, or undefined for none. */
export function formPost(
  h: Harness,
  url: '/oauth/revoke' | '/oauth/introspect',
  form: Record<string, string> | string,
  auth?: string,
  headers: Record<string, string> = {},
) {
  return h.server.app.inject({
    method: 'POST',
    url,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(auth === undefined ? {} : { authorization: auth }),
      ...headers,
    },
    payload: typeof form === 'string' ? form : new URLSearchParams(form).toString(),
  });
}

export function revoke(h: Harness, client: TestClient, form: Record<string, string>) {
  return formPost(h, '/oauth/revoke', form, basic(client.id, client.secret));
}

export function introspect(h: Harness, client: TestClient, form: Record<string, string>) {
  return formPost(h, '/oauth/introspect', form, basic(client.id, client.secret));
}

/** Every table a request could write, the client registry included. */
export function fullFingerprint(h: Harness): string {
  const tables = [
    'users',
    'sessions',
    'refresh_tokens',
    'revocations',
    'jti_denylist',
    'audit_events',
    'signing_keys',
    'clients',
  ];
  return JSON.stringify(tables.map((t) => h.store.db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all()));
}
