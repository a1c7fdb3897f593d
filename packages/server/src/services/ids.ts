/** Identifiers: 128 random bits, base64url, with a type prefix for readability in logs. */
import { takeRandomBytes } from '@tessera/core';

export function createId(prefix: 'usr' | 'ses'): string {
  return `${prefix}_${takeRandomBytes(16).toString('base64url')}`;
}
