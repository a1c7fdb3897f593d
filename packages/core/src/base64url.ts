/**
 * Strict base64url (RFC 4648 section 5, unpadded, as JWS requires in RFC 7515 section 2).
 *
 * Node's decoder is lenient: it skips illegal characters, accepts `=` padding and ignores
 * non-zero trailing bits. Tessera accepts a segment only when re-encoding the decoded bytes
 * gives back the exact input, which rejects all three in one native pass and makes every
 * accepted token have exactly one spelling.
 */

/** Decodes canonical unpadded base64url, or returns `undefined` for anything else. */
export function decodeBase64urlStrict(segment: string): Buffer | undefined {
  const bytes = Buffer.from(segment, 'base64url');
  return bytes.toString('base64url') === segment ? bytes : undefined;
}

export function encodeBase64url(input: Uint8Array | string): string {
  return (typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input)).toString('base64url');
}
