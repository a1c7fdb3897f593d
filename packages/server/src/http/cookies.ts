/**
 * The refresh cookie: `__Secure-` prefix, HttpOnly, Secure, SameSite=Strict, Path `/auth` (the
 * narrowest covering refresh and logout), host-only unless a domain is configured, and a
 * `Max-Age` that never outlives the session's absolute end.
 */

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CookieConfig } from '../config.js';

export function refreshCookieName(config: CookieConfig): string {
  return config.secure ? '__Secure-tessera_rt' : 'tessera_rt';
}

export function setRefreshCookie(reply: FastifyReply, config: CookieConfig, token: string, maxAgeSec: number): void {
  reply.setCookie(refreshCookieName(config), token, {
    httpOnly: true,
    secure: config.secure,
    sameSite: 'strict',
    path: config.path,
    ...(config.domain === null ? {} : { domain: config.domain }),
    maxAge: Math.max(0, Math.floor(maxAgeSec)),
  });
}

export function clearRefreshCookie(reply: FastifyReply, config: CookieConfig): void {
  reply.clearCookie(refreshCookieName(config), {
    httpOnly: true,
    secure: config.secure,
    sameSite: 'strict',
    path: config.path,
    ...(config.domain === null ? {} : { domain: config.domain }),
  });
}

export function readRefreshCookie(request: FastifyRequest, config: CookieConfig): string | undefined {
  const value = request.cookies[refreshCookieName(config)];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
