/**
 * Opaque refresh tokens: `trt_` + 256 random bits (base64url). Only the SHA-256 is stored. The
 * prefix makes leaked tokens recognisable to secret scanners.
 */

import { createHash } from 'node:crypto';
import { takeRandomBytes } from '@tessera/core';

export const REFRESH_TOKEN_PREFIX = 'trt_';
const FORMAT = /^trt_[A-Za-z0-9_-]{43}$/;

export function createRefreshToken(): string {
  return `${REFRESH_TOKEN_PREFIX}${takeRandomBytes(32).toString('base64url')}`;
}

/** Cheap format check before any lookup: garbage never reaches the store. */
export function isRefreshTokenFormat(value: unknown): value is string {
  return typeof value === 'string' && FORMAT.test(value);
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
