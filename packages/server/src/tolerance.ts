/**
 * Clock tolerance of the server's own bearer checks, seconds. Anything that revokes an access
 * token must keep the revocation at least this long past the token's `exp`, because the
 * verifier still accepts the token until `exp + tolerance`.
 */
export const SERVER_CLOCK_TOLERANCE_SEC = 30;
