/** Identifiers: 128 random bits, base64url, with a type prefix for readability in logs. */
import { randomBytes } from 'node:crypto';

export function createId(prefix: 'usr' | 'ses'): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}
